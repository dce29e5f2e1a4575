// The pure compatibility checker: no Redis.
import { describe, expect, it } from "vitest";
import { type CompatibilityMode, checkSchemaCompatibility } from "../src/index.js";

const object = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  type: "object",
  properties,
  ...extra,
});
/** [path, kind] of each break, for compact expectations. */
const breaks = (previous: unknown, next: unknown, mode: CompatibilityMode = "BACKWARD") =>
  checkSchemaCompatibility(previous, next, mode).map((b) => [b.path, b.kind]);

describe("BACKWARD (the default): data valid under the previous schema stays valid", () => {
  const v1 = object({ name: { type: "string" } }, { required: ["name"] });

  it("accepts identical schemas and annotation-only changes", () => {
    expect(breaks(v1, v1)).toEqual([]);
    const annotated = object(
      { name: { type: "string", description: "who", "x-owner": "team-a" } },
      { required: ["name"], title: "User", $id: "https://example.com/user/v2" },
    );
    expect(breaks(v1, annotated)).toEqual([]);
  });

  it("accepts a new optional property, on an open and on a closed content model", () => {
    const added = object(
      { name: { type: "string" }, age: { type: "integer" } },
      { required: ["name"] },
    );
    expect(breaks(v1, added)).toEqual([]);
    const closed = { ...v1, additionalProperties: false };
    expect(breaks(closed, { ...added, additionalProperties: false })).toEqual([]);
  });

  it("refuses a new required property, or an optional one becoming required", () => {
    const required = object(
      { name: { type: "string" }, age: { type: "integer" } },
      { required: ["name", "age"] },
    );
    expect(breaks(v1, required)).toEqual([["/properties/age", "required-added"]]);
    const [only] = checkSchemaCompatibility(v1, required, "BACKWARD");
    expect(only?.message).toBe(
      "the new schema requires property 'age', which the previous schema does not: data without it would be rejected",
    );
    const optional = object(
      { name: { type: "string" }, age: { type: "integer" } },
      { required: ["name"] },
    );
    expect(breaks(optional, required)).toEqual([["/properties/age", "required-added"]]);
  });

  it("accepts removing an optional property from an open schema, not from a closed one", () => {
    const two = object(
      { name: { type: "string" }, nick: { type: "string" } },
      { required: ["name"] },
    );
    expect(breaks(two, v1)).toEqual([]);
    const closed = (s: object) => ({ ...s, additionalProperties: false });
    expect(breaks(closed(two), closed(v1))).toEqual([["/properties/nick", "property-removed"]]);
  });

  it("refuses closing an open content model", () => {
    expect(breaks(v1, { ...v1, additionalProperties: false })).toEqual([
      ["/additionalProperties", "constraint-tightened"],
    ]);
    expect(breaks({ ...v1, additionalProperties: false }, v1)).toEqual([]);
  });

  it("refuses narrowed types and accepts widened ones", () => {
    const field = (schema: object) => object({ f: schema });
    expect(breaks(field({ type: ["string", "null"] }), field({ type: "string" }))).toEqual([
      ["/properties/f/type", "type-narrowed"],
    ]);
    expect(breaks(field({ type: "number" }), field({ type: "integer" }))).toEqual([
      ["/properties/f/type", "type-narrowed"],
    ]);
    expect(breaks(field({}), field({ type: "string" }))).toEqual([
      ["/properties/f/type", "type-narrowed"],
    ]);
    expect(breaks(field({ type: "integer" }), field({ type: "number" }))).toEqual([]);
    expect(breaks(field({ type: "string" }), field({ type: ["string", "null"] }))).toEqual([]);
    const [message] = checkSchemaCompatibility(
      field({ type: ["string", "null"] }),
      field({ type: "string" }),
      "BACKWARD",
    );
    expect(message?.message).toContain("rejects null values");
  });

  it("refuses removed enum values and a changed const", () => {
    const field = (schema: object) => object({ f: schema });
    expect(breaks(field({ enum: ["a", "b"] }), field({ enum: ["a"] }))).toEqual([
      ["/properties/f/enum", "enum-narrowed"],
    ]);
    expect(breaks(field({ enum: ["a"] }), field({ enum: ["a", "b"] }))).toEqual([]);
    expect(breaks(field({ const: 1 }), field({ const: 2 }))).toEqual([
      ["/properties/f/const", "enum-narrowed"],
    ]);
    expect(breaks(field({ type: "string" }), field({ type: "string", enum: ["a"] }))).toEqual([
      ["/properties/f/enum", "enum-narrowed"],
    ]);
    expect(breaks(field({ const: "a" }), field({ enum: ["a", "b"] }))).toEqual([]);
    expect(breaks(field({ enum: [1, 2.5] }), field({ type: "integer" }))).toEqual([
      ["/properties/f/type", "type-narrowed"],
    ]);
  });

  it("refuses tightened numeric, string and array constraints and accepts loosened ones", () => {
    const cases: [object, object, string][] = [
      [{ type: "string", maxLength: 10 }, { type: "string", maxLength: 5 }, "/maxLength"],
      [{ type: "string" }, { type: "string", minLength: 1 }, "/minLength"],
      [{ type: "string" }, { type: "string", pattern: "^a" }, "/pattern"],
      [{ type: "string", pattern: "^a" }, { type: "string", pattern: "^b" }, "/pattern"],
      [{ type: "string" }, { type: "string", format: "email" }, "/format"],
      [{ type: "number", maximum: 10 }, { type: "number", maximum: 9 }, "/maximum"],
      [{ type: "number", minimum: 0 }, { type: "number", minimum: 1 }, "/minimum"],
      [
        { type: "number", minimum: 0 },
        { type: "number", exclusiveMinimum: 0 },
        "/exclusiveMinimum",
      ],
      [{ type: "number" }, { type: "number", multipleOf: 2 }, "/multipleOf"],
      [{ type: "array", maxItems: 3 }, { type: "array", maxItems: 2 }, "/maxItems"],
      [{ type: "array" }, { type: "array", minItems: 1 }, "/minItems"],
      [{ type: "array" }, { type: "array", uniqueItems: true }, "/uniqueItems"],
      [{ type: "object" }, { type: "object", maxProperties: 3 }, "/maxProperties"],
    ];
    for (const [previous, next, path] of cases) {
      expect(breaks(previous, next), JSON.stringify([previous, next])).toEqual([
        [path, "constraint-tightened"],
      ]);
      // The reverse loosens, except a changed pattern: a different constraint either way.
      const reverse = "pattern" in previous ? [[path, "constraint-tightened"]] : [];
      expect(breaks(next, previous), JSON.stringify([next, previous])).toEqual(reverse);
    }
  });

  it("judges bounds the way values see them", () => {
    // For integers, > 0 and >= 1 are the same bound; multiples of 4 are multiples of 2.
    expect(
      breaks({ type: "integer", exclusiveMinimum: 0 }, { type: "integer", minimum: 1 }),
    ).toEqual([]);
    expect(breaks({ type: "number", multipleOf: 4 }, { type: "number", multipleOf: 2 })).toEqual(
      [],
    );
    expect(breaks({ type: "integer" }, { type: "integer", multipleOf: 1 })).toEqual([]);
    // A string constraint does not narrow numbers, nor a numeric one strings.
    expect(breaks({ type: "string" }, { type: "string", maximum: 5 })).toEqual([]);
    expect(breaks({ type: "integer" }, { type: "integer", maxLength: 5 })).toEqual([]);
  });

  it("recurses into items and nested objects with their paths", () => {
    const list = (items: object) => object({ tags: { type: "array", items } });
    expect(breaks(list({ type: ["string", "integer"] }), list({ type: "string" }))).toEqual([
      ["/properties/tags/items/type", "type-narrowed"],
    ]);
    expect(breaks(object({ tags: { type: "array" } }), list({ type: "string" }))).toEqual([
      ["/properties/tags/items/type", "type-narrowed"],
    ]);
    const address = (zip: object, required: string[] = []) =>
      object({ address: object({ zip, city: { type: "string" } }, { required }) });
    expect(breaks(address({ type: "string" }), address({ type: "integer" }))).toEqual([
      ["/properties/address/properties/zip/type", "type-narrowed"],
    ]);
    expect(breaks(address({ type: "string" }), address({ type: "string" }, ["zip"]))).toEqual([
      ["/properties/address/properties/zip", "required-added"],
    ]);
    expect(
      breaks(object({ "a/b~c": { type: "string" } }), object({ "a/b~c": { type: "integer" } })),
    ).toEqual([["/properties/a~1b~0c/type", "type-narrowed"]]);
  });

  it("handles boolean schemas", () => {
    expect(breaks(true, { type: "string" })).toEqual([["/type", "type-narrowed"]]);
    expect(breaks({ type: "string" }, true)).toEqual([]);
    expect(breaks(false, { type: "string" })).toEqual([]);
    expect(breaks(object({ a: {} }), object({ a: false }))).toEqual([
      ["/properties/a", "type-narrowed"],
    ]);
  });

  it("reports any change it does not understand, and nothing when that text is unchanged", () => {
    const one = { anyOf: [{ type: "string" }, { type: "null" }] };
    const two = { anyOf: [{ type: "string" }, { type: "integer" }] };
    expect(breaks(object({ f: one }), object({ f: one }))).toEqual([]);
    expect(breaks(object({ f: one }), object({ f: two }))).toEqual([
      ["/properties/f/anyOf", "unsupported-change"],
    ]);
    // Even a widening: the checker cannot tell, so it does not guess.
    expect(
      breaks(
        object({ f: two }),
        object({ f: { ...two, anyOf: [...two.anyOf, { type: "null" }] } }),
      ),
    ).toEqual([["/properties/f/anyOf", "unsupported-change"]]);
    const ref = (defs: object) => ({ $ref: "#/$defs/a", $defs: { a: defs } });
    expect(breaks(ref({ type: "string" }), ref({ type: "integer" }))).toEqual([
      ["/$defs", "unsupported-change"],
    ]);
    // Parsed from text: an object literal with a `then` member looks like a thenable to lint.
    const conditional = (min: number) =>
      JSON.parse(`{"if":{"type":"string"},"then":{"minLength":${min}}}`) as unknown;
    expect(breaks(conditional(1), conditional(2))).toEqual([["/then", "unsupported-change"]]);
    expect(
      breaks(object({ a: { $id: "https://x/a" } }), object({ a: { $id: "https://x/b" } })),
    ).toEqual([["/properties/a/$id", "unsupported-change"]]);
  });
});

describe("FORWARD, FULL and NONE", () => {
  const v1 = object(
    { name: { type: "string" }, kind: { enum: ["a", "b"] } },
    { required: ["name"] },
  );

  it("FORWARD checks that data written with the new schema is valid under the previous one", () => {
    const addsRequired = {
      ...v1,
      properties: { ...v1.properties, age: { type: "integer" } },
      required: ["name", "age"],
    };
    expect(breaks(v1, addsRequired, "FORWARD")).toEqual([]);
    expect(breaks(v1, { ...v1, required: [] }, "FORWARD")).toEqual([
      ["/properties/name", "required-removed"],
    ]);
    const widened = object(
      { name: { type: ["string", "null"] }, kind: { enum: ["a", "b", "c"] } },
      { required: ["name"] },
    );
    expect(breaks(v1, widened, "FORWARD")).toEqual([
      ["/properties/kind/enum", "enum-widened"],
      ["/properties/name/type", "type-widened"],
    ]);
    expect(breaks(v1, widened, "BACKWARD")).toEqual([]);
    const [first] = checkSchemaCompatibility(v1, widened, "FORWARD");
    expect(first?.message).toBe('the previous schema rejects "c", which the new schema accepts');
    // An optional property is still free to come and go.
    expect(
      breaks(
        v1,
        object({ ...v1.properties, age: { type: "integer" } }, { required: ["name"] }),
        "FORWARD",
      ),
    ).toEqual([]);
  });

  it("FULL lists the breaks of both directions, each once", () => {
    const next = object(
      { name: { type: ["string", "null"] }, kind: { enum: ["a"] }, other: { anyOf: [{}] } },
      { required: ["name"] },
    );
    const previous = { ...v1, properties: { ...v1.properties, other: { anyOf: [] } } };
    expect(breaks(previous, next, "FULL")).toEqual([
      ["/properties/kind/enum", "enum-narrowed"],
      ["/properties/other/anyOf", "unsupported-change"],
      ["/properties/name/type", "type-widened"],
    ]);
  });

  it("NONE checks nothing", () => {
    expect(breaks(v1, { type: "integer" }, "NONE")).toEqual([]);
    expect(breaks(v1, false, "NONE")).toEqual([]);
  });
});
