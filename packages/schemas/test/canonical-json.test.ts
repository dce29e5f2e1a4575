// Canonical JSON, the text the registration script compares: pure, no Redis.
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../src/index.js";

describe("canonicalJson", () => {
  it("sorts object keys at every level and keeps array order", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });

  it("gives the same text for the same JSON written in another key order", () => {
    const one = JSON.parse(
      '{"type":"object","required":["a"],"properties":{"a":{"type":"string"}}}',
    );
    const two = JSON.parse(
      '{"properties":{"a":{"type":"string"}},"required":["a"],"type":"object"}',
    );
    expect(canonicalJson(one)).toBe(canonicalJson(two));
    expect(JSON.parse(canonicalJson(one))).toEqual(one);
  });

  it("drops undefined members like JSON.stringify and writes primitives as JSON", () => {
    expect(canonicalJson({ a: undefined, b: [undefined], c: "x\n" })).toBe(
      '{"b":[null],"c":"x\\n"}',
    );
    expect(canonicalJson(true)).toBe("true");
    expect(canonicalJson("é")).toBe('"é"');
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
  });
});
