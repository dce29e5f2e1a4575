// The pure compatibility checker: can data valid under one schema be read with another?
//
// BACKWARD compares the previous schema (the writer of old data) with the new one (its
// reader); FORWARD swaps the roles; FULL runs both. Every comparison asks, keyword by
// keyword, whether the reader accepts all the writer accepts. That is sufficient, not
// necessary: a change whose keywords only combine into something compatible can be reported
// as a break, never the other way round. What the checker does not understand (allOf,
// $ref, if/then/else...) is compatible only when its text is unchanged.
import { sameJson } from "./canonical-json.js";
import { compareArrays, compareObjects } from "./compatibility-containers.js";
import { compareFormat, compareNumbers, compareStrings } from "./compatibility-scalars.js";
import { compareTypes, compareValues, writerTypes } from "./compatibility-values.js";
import { isJsonObject, pointerEscape } from "./json-schema.js";
import type { CompatibilityBreak, CompatibilityMode } from "./types.js";

export type BreakKind =
  | "required-added"
  | "type-narrowed"
  | "enum-narrowed"
  | "property-removed"
  | "constraint-tightened"
  | "unsupported-change";

/** Which schema writes the data, which reads it, and what the kinds are called this way. */
interface Roles {
  readonly writer: string;
  readonly reader: string;
  readonly kinds: Readonly<Record<BreakKind, string>>;
}

const BACKWARD: Roles = {
  writer: "the previous schema",
  reader: "the new schema",
  kinds: {
    "required-added": "required-added",
    "type-narrowed": "type-narrowed",
    "enum-narrowed": "enum-narrowed",
    "property-removed": "property-removed",
    "constraint-tightened": "constraint-tightened",
    "unsupported-change": "unsupported-change",
  },
};

// The same findings named from the new schema's side: the previous (reading) schema requires
// a property the new one no longer requires, the new one widened a type, and so on.
const FORWARD: Roles = {
  writer: "the new schema",
  reader: "the previous schema",
  kinds: {
    "required-added": "required-removed",
    "type-narrowed": "type-widened",
    "enum-narrowed": "enum-widened",
    "property-removed": "property-added",
    "constraint-tightened": "constraint-loosened",
    "unsupported-change": "unsupported-change",
  },
};

/** Breaks of `next` against `previous` under `mode`; empty when compatible. */
export function checkSchemaCompatibility(
  previous: unknown,
  next: unknown,
  mode: CompatibilityMode,
): CompatibilityBreak[] {
  switch (mode) {
    case "NONE":
      return [];
    case "BACKWARD":
      return new Comparison(BACKWARD).run(previous, next);
    case "FORWARD":
      return new Comparison(FORWARD).run(next, previous);
    case "FULL": {
      const both = [
        ...new Comparison(BACKWARD).run(previous, next),
        ...new Comparison(FORWARD).run(next, previous),
      ];
      // An unsupported change is found both ways, with the same words.
      const seen = new Set<string>();
      return both.filter((b) => {
        const key = `${b.path}\n${b.kind}\n${b.message}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
    }
  }
}

/** One comparison of a writer schema with a reader schema; it collects the breaks. */
export class Comparison {
  private readonly breaks: CompatibilityBreak[] = [];
  readonly writer: string;
  readonly reader: string;

  constructor(private readonly roles: Roles) {
    this.writer = roles.writer;
    this.reader = roles.reader;
  }

  run(writer: unknown, reader: unknown): CompatibilityBreak[] {
    this.compare(writer, reader, "", true);
    return this.breaks;
  }

  report(path: string, kind: BreakKind, message: string): void {
    this.breaks.push({ path, kind: this.roles.kinds[kind], message });
  }

  /** Does every value the writer schema accepts pass the reader schema? */
  compare(writer: unknown, reader: unknown, path: string, root = false): void {
    if (writer === false || reader === true || sameJson(writer, reader)) return;
    if (reader === false) {
      this.report(
        path,
        "type-narrowed",
        `${this.reader} accepts no value here, ${this.writer} does`,
      );
      return;
    }
    const w = writer === true ? {} : writer;
    if (!isJsonObject(w) || !isJsonObject(reader)) {
      this.report(path, "unsupported-change", "the schema here is neither an object nor a boolean");
      return;
    }
    this.compareUnsupported(w, reader, path, root);
    const types = writerTypes(w);
    compareTypes(this, types, w, reader, path);
    compareValues(this, types, w, reader, path);
    if (types.has("number") || types.has("integer")) compareNumbers(this, types, w, reader, path);
    if (types.has("string")) compareStrings(this, w, reader, path);
    if (types.has("string") || types.has("number") || types.has("integer")) {
      compareFormat(this, w, reader, path);
    }
    if (types.has("array")) compareArrays(this, w, reader, path);
    if (types.has("object")) compareObjects(this, w, reader, path);
  }

  private compareUnsupported(
    w: Record<string, unknown>,
    r: Record<string, unknown>,
    path: string,
    root: boolean,
  ): void {
    for (const keyword of new Set([...Object.keys(w), ...Object.keys(r)])) {
      if (UNDERSTOOD.has(keyword) || ANNOTATIONS.has(keyword) || keyword.startsWith("x-")) continue;
      // A registered schema is self-contained (external $refs do not compile), so the root
      // $id only names it; ids such as ".../order/v2" change with every version.
      if (root && keyword === "$id") continue;
      if (sameJson(w[keyword], r[keyword])) continue;
      this.report(
        `${path}/${pointerEscape(keyword)}`,
        "unsupported-change",
        `'${keyword}' differs between the two schemas and the checker cannot compare it, so compatibility is not proven (set the type's compatibility to NONE to register it anyway)`,
      );
    }
  }
}

/** Keywords compared by the compare* functions. */
const UNDERSTOOD = new Set([
  ...["type", "enum", "const", "format", "pattern", "minLength", "maxLength", "multipleOf"],
  ...["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"],
  ...["items", "minItems", "maxItems", "uniqueItems"],
  ...["properties", "required", "additionalProperties", "minProperties", "maxProperties"],
]);

/** Keywords that never change what validates (Ajv treats content* as annotations too). */
const ANNOTATIONS = new Set([
  ...["$schema", "$comment", "title", "description", "default", "examples"],
  ...["deprecated", "readOnly", "writeOnly", "contentEncoding", "contentMediaType"],
  "contentSchema",
]);
