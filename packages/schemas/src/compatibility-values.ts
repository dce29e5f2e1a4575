// The checker's view of which values a schema admits at all: `type`, `enum` and `const`.
import { sameJson } from "./canonical-json.js";
import type { Comparison } from "./compatibility.js";

/** JSON types as the `type` keyword names them; "number" includes the integers. */
export type JsonType = "null" | "boolean" | "object" | "array" | "string" | "integer" | "number";
type Schema = Record<string, unknown>;

const ALL_TYPES: readonly JsonType[] = ["null", "boolean", "object", "array", "string", "number"];

function typeList(schema: Schema): readonly JsonType[] | undefined {
  const type = schema.type;
  if (type === undefined) return undefined;
  return (Array.isArray(type) ? type : [type]) as JsonType[];
}

function allows(types: readonly JsonType[] | undefined, type: JsonType): boolean {
  if (types === undefined) return true;
  return types.includes(type) || (type === "integer" && types.includes("number"));
}

function typeOf(value: unknown): JsonType {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value as JsonType;
}

/** The values `enum` and `const` allow together, or undefined when they do not restrict. */
function valuesOf(schema: Schema): readonly unknown[] | undefined {
  const listed = Array.isArray(schema.enum) ? (schema.enum as unknown[]) : undefined;
  if (schema.const === undefined) return listed;
  return listed === undefined || listed.some((v) => sameJson(v, schema.const))
    ? [schema.const]
    : [];
}

/** The types of the values the writer schema accepts. */
export function writerTypes(w: Schema): ReadonlySet<JsonType> {
  const declared = typeList(w);
  const values = valuesOf(w);
  if (values === undefined) return new Set(declared ?? ALL_TYPES);
  return new Set(values.map(typeOf).filter((type) => allows(declared, type)));
}

export function compareTypes(
  c: Comparison,
  types: ReadonlySet<JsonType>,
  w: Schema,
  r: Schema,
  path: string,
): void {
  const accepted = typeList(r);
  const lost = [...types].filter((type) => !allows(accepted, type));
  if (lost.length === 0) return;
  const shown = (s: Schema) => (s.type === undefined ? "any" : JSON.stringify(s.type));
  c.report(
    `${path}/type`,
    "type-narrowed",
    `${c.reader} rejects ${lost.join(" and ")} values, which ${c.writer} accepts (type ${shown(w)} in ${c.writer}, ${shown(r)} in ${c.reader})`,
  );
}

export function compareValues(
  c: Comparison,
  types: ReadonlySet<JsonType>,
  w: Schema,
  r: Schema,
  path: string,
): void {
  const accepted = valuesOf(r);
  if (accepted === undefined) return;
  const at = `${path}/${r.const !== undefined ? "const" : "enum"}`;
  const offered = valuesOf(w);
  if (offered === undefined) {
    c.report(
      at,
      "enum-narrowed",
      `${c.reader} only accepts ${showValues(accepted)}, ${c.writer} accepts any ${[...types].join(" or ")} value here`,
    );
    return;
  }
  const missing = offered.filter((value) => !accepted.some((a) => sameJson(a, value)));
  if (missing.length > 0) {
    c.report(
      at,
      "enum-narrowed",
      `${c.reader} rejects ${showValues(missing)}, which ${c.writer} accepts`,
    );
  }
}

function showValues(values: readonly unknown[]): string {
  if (values.length === 0) return "no value";
  const shown = values.slice(0, 10).map((v) => JSON.stringify(v));
  const more = values.length > 10 ? ` and ${values.length - 10} more` : "";
  return `${shown.join(", ")}${more}`;
}
