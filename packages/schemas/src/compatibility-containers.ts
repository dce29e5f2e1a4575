// Compatibility of arrays and objects: their sizes, items, properties, required names and
// additionalProperties, recursing into the subschemas with their paths.
import type { Comparison } from "./compatibility.js";
import { compareSizes } from "./compatibility-scalars.js";
import { isJsonObject, pointerEscape } from "./json-schema.js";

type Schema = Record<string, unknown>;

export function compareArrays(c: Comparison, w: Schema, r: Schema, path: string): void {
  compareSizes(c, w, r, path, ["minItems", "maxItems"], ["arrays", "items"]);
  if (r.uniqueItems === true && w.uniqueItems !== true) {
    c.report(
      `${path}/uniqueItems`,
      "constraint-tightened",
      `${c.reader} requires unique items, ${c.writer} does not: arrays with repeated items would be rejected`,
    );
  }
  if (r.items !== undefined) c.compare(w.items ?? true, r.items, `${path}/items`);
}

export function compareObjects(c: Comparison, w: Schema, r: Schema, path: string): void {
  compareSizes(c, w, r, path, ["minProperties", "maxProperties"], ["objects", "properties"]);
  const propertyPath = (name: string) => `${path}/properties/${pointerEscape(name)}`;

  const wRequired = new Set(names(w.required));
  for (const name of names(r.required)) {
    if (wRequired.has(name)) continue;
    c.report(
      propertyPath(name),
      "required-added",
      `${c.reader} requires property '${name}', which ${c.writer} does not: data without it would be rejected`,
    );
  }

  const wProperties = isJsonObject(w.properties) ? w.properties : {};
  const rProperties = isJsonObject(r.properties) ? r.properties : {};
  const wRest = w.additionalProperties ?? true;
  const rRest = r.additionalProperties ?? true;
  const listed = new Set([...Object.keys(wProperties), ...Object.keys(rProperties)]);
  for (const name of [...listed].sort()) {
    const inWriter = Object.hasOwn(wProperties, name);
    const inReader = Object.hasOwn(rProperties, name);
    if (inWriter && inReader) {
      c.compare(wProperties[name], rProperties[name], propertyPath(name));
    } else if (inWriter) {
      // The reader no longer lists the name: its additionalProperties decides. Open (the
      // default), anything goes, which makes removing a property from an open schema fine.
      if (rRest !== false) c.compare(wProperties[name], rRest, propertyPath(name));
      else if (wProperties[name] !== false) {
        c.report(
          propertyPath(name),
          "property-removed",
          `${c.writer} accepts property '${name}', ${c.reader} does not list it and sets additionalProperties to false: data with it would be rejected`,
        );
      }
    } else if (wRest !== true) {
      c.compare(wRest, rProperties[name], propertyPath(name));
    }
    // Else the reader lists a name the writer's open content model did not. Strictly, the
    // writer accepted any value under that name, so constraining it narrows what was valid,
    // and a strict checker (other registries' JSON Schema rules) refuses to add an optional
    // property to an open schema. That refusal of the most common schema change is what users
    // of those registries complain about; producers do not send names their schema does not
    // know, so adding an optional property is compatible here, in every mode, on purpose.
  }

  // Names neither schema lists.
  if (rRest === false && wRest !== false) {
    c.report(
      `${path}/additionalProperties`,
      "constraint-tightened",
      `${c.reader} sets additionalProperties to false, ${c.writer} accepts properties it does not list: data with such properties would be rejected`,
    );
  } else {
    c.compare(wRest, rRest, `${path}/additionalProperties`);
  }
}

function names(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((name) => typeof name === "string") : [];
}
