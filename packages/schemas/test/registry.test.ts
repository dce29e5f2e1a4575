// The registry against the run's real redis-server, each test under its own key prefix.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { useSharedRedis } from "../../../test-support/shared-redis.js";
import { createSchemaStore } from "../src/commands.js";
import {
  ConcurrentSchemaChangeError,
  canonicalJson,
  createSchemaRegistry,
  IncompatibleSchemaError,
  InvalidSchemaError,
  schemaKeys,
} from "../src/index.js";

const { redis, redisUrl } = useSharedRedis();
const other = new Redis(redisUrl);
afterAll(() => {
  other.disconnect();
});

const prefix = () => `test_schemas_${randomUUID()}`;
const user = (properties: Record<string, unknown> = {}, required = ["name"]) => ({
  type: "object",
  properties: { name: { type: "string" }, ...properties },
  required,
});

describe("registering schemas", () => {
  it("stores version 1, returns it again for the same schema, then adds compatible versions", async () => {
    const registry = createSchemaRegistry(redis, { prefix: prefix() });
    const before = Date.now();
    expect(await registry.register("user", user())).toEqual({ version: 1, created: true });
    const revision = await registry.revision();
    // The same schema with its keys in another order is the same schema.
    const reordered = JSON.parse(
      '{"required":["name"],"properties":{"name":{"type":"string"}},"type":"object"}',
    );
    expect(await registry.register("user", reordered)).toEqual({ version: 1, created: false });
    expect(await registry.revision()).toBe(revision);

    const v2 = user({ age: { type: "integer" } });
    expect(await registry.register("user", v2)).toEqual({ version: 2, created: true });
    expect(await registry.versions("user")).toEqual([1, 2]);
    expect(await registry.revision()).toBe(revision + 1);

    const latest = await registry.get("user");
    expect(latest).toMatchObject({ type: "user", version: 2, schema: v2 });
    expect(latest?.registeredAtMs).toBeGreaterThanOrEqual(before - 5_000);
    expect(latest?.registeredAtMs).toBeLessThanOrEqual(Date.now() + 5_000);
    expect(await registry.get("user", 1)).toMatchObject({ version: 1, schema: user() });
    expect(await registry.get("user", 0)).toMatchObject({ version: 2 });
    expect(await registry.get("user", 3)).toBeUndefined();
    expect(await registry.get("nobody")).toBeUndefined();
    expect(await registry.versions("nobody")).toEqual([]);
  });

  it("refuses an incompatible schema with the breaks, and stores nothing", async () => {
    const registry = createSchemaRegistry(redis, { prefix: prefix() });
    await registry.register("user", user({ age: { type: ["integer", "null"] } }));
    const next = user({ age: { type: "integer" } }, ["name", "age"]);
    const error = await registry.register("user", next).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IncompatibleSchemaError);
    const refused = error as IncompatibleSchemaError;
    expect(refused.code).toBe("EP_SCHEMA_INCOMPATIBLE");
    expect(refused.report).toMatchObject({ compatible: false, mode: "BACKWARD", against: 1 });
    expect(refused.report.breaks.map((b) => [b.path, b.kind])).toEqual([
      ["/properties/age", "required-added"],
      ["/properties/age/type", "type-narrowed"],
    ]);
    expect(refused.message).toContain("/properties/age");
    expect(await registry.versions("user")).toEqual([1]);

    const report = await registry.checkCompatibility("user", next);
    expect(report.breaks).toEqual(refused.report.breaks);
    expect(await registry.checkCompatibility("user", user())).toEqual({
      compatible: true,
      mode: "BACKWARD",
      against: 1,
      breaks: [],
    });
    expect(await registry.checkCompatibility("new-type", next)).toEqual({
      compatible: true,
      mode: "BACKWARD",
      breaks: [],
    });
  });

  it("refuses invalid schemas and type names with the reason", async () => {
    const registry = createSchemaRegistry(redis, { prefix: prefix() });
    const reasons: [string, unknown, RegExp][] = [
      ["t", { type: "strin" }, /schema\/type must be equal to one of the allowed values/],
      ["t", [], /must be a JSON object or boolean, not an array/],
      ["t", "string", /not string/],
      ["t", null, /not null/],
      ["t", { $ref: "#/$defs/missing" }, /can't resolve reference #\/\$defs\/missing/],
      ["t", { $ref: "https://example.com/other.json" }, /can't resolve reference/],
      ["t", { type: "string", format: "emial" }, /unknown format "emial"/],
      ["t", { type: "string", pattern: "(" }, /Invalid regular expression/],
      ["t", { $schema: "http://json-schema.org/draft-07/schema#" }, /draft\/2020-12/],
      ["has space", true, /without whitespace/],
      ["", true, /1 to 255 characters/],
      ["x".repeat(256), true, /1 to 255 characters/],
    ];
    for (const [type, schema, reason] of reasons) {
      const error = await registry.register(type, schema).catch((e: unknown) => e);
      expect(error, JSON.stringify(schema)).toBeInstanceOf(InvalidSchemaError);
      expect((error as InvalidSchemaError).code).toBe("EP_SCHEMA_INVALID");
      expect((error as InvalidSchemaError).reason).toMatch(reason);
    }
    await expect(registry.checkCompatibility("t", { type: 1 })).rejects.toBeInstanceOf(
      InvalidSchemaError,
    );
    expect(await registry.listTypes()).toEqual([]);
    // Valid edge cases: boolean schemas, a local $ref, a $schema naming draft 2020-12.
    expect(await registry.register("any", true)).toEqual({ version: 1, created: true });
    const local = { $ref: "#/$defs/name", $defs: { name: { type: "string" } } };
    expect(await registry.register("local", local)).toMatchObject({ version: 1 });
    const dialect = { $schema: "https://json-schema.org/draft/2020-12/schema", type: "object" };
    expect(await registry.register("dialect", dialect)).toMatchObject({ version: 1 });
  });

  it("follows each type's compatibility mode: NONE allows anything, FORWARD checks the other way", async () => {
    const registry = createSchemaRegistry(redis, { prefix: prefix() });
    expect(await registry.getCompatibility("user")).toBe("BACKWARD");
    await registry.register("user", user());
    const revision = await registry.revision();
    await registry.setCompatibility("user", "NONE");
    expect(await registry.revision()).toBe(revision + 1);
    expect(await registry.getCompatibility("user")).toBe("NONE");
    expect(await registry.register("user", { type: "integer" })).toEqual({
      version: 2,
      created: true,
    });

    await registry.setCompatibility("user", "FORWARD");
    expect(await registry.register("user", { type: "integer", minimum: 0 })).toMatchObject({
      version: 3,
    });
    await expect(registry.register("user", { type: "number" })).rejects.toMatchObject({
      code: "EP_SCHEMA_INCOMPATIBLE",
      report: { mode: "FORWARD", against: 3 },
    });
    await expect(registry.setCompatibility("user", "SIDEWAYS" as never)).rejects.toThrow(TypeError);
  });

  it("lists types sorted, filtered by prefix, with latest version and mode", async () => {
    const registry = createSchemaRegistry(redis, { prefix: prefix() });
    await registry.register("acme.user", user());
    await registry.register("acme.user", user({ age: { type: "integer" } }));
    await registry.register("other.thing", true);
    await registry.register("acme.order", { type: "object" });
    await registry.setCompatibility("acme.order", "FULL");
    await registry.setCompatibility("acme.unregistered", "NONE");
    expect(await registry.listTypes("acme.")).toEqual([
      { type: "acme.order", latestVersion: 1, compatibility: "FULL" },
      { type: "acme.user", latestVersion: 2, compatibility: "BACKWARD" },
    ]);
    expect((await registry.listTypes()).map((t) => t.type)).toEqual([
      "acme.order",
      "acme.user",
      "other.thing",
    ]);
    expect(await registry.listTypes("nobody.")).toEqual([]);
  });

  it("gives concurrent registrations from two connections distinct versions", async () => {
    const keyPrefix = prefix();
    const registries = [
      createSchemaRegistry(redis, { prefix: keyPrefix }),
      createSchemaRegistry(other, { prefix: keyPrefix }),
    ];
    await registries[0]!.register("user", user());
    // Each adds its own optional property: compatible with whatever is latest when it lands.
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        registries[i % 2]!.register("user", user({ [`p${i}`]: { type: "string" } })),
      ),
    );
    expect(results.every((r) => r.created)).toBe(true);
    expect(results.map((r) => r.version).sort()).toEqual([2, 3, 4, 5, 6, 7]);
    expect(await registries[1]!.versions("user")).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it("gives up with ConcurrentSchemaChangeError when every attempt loses the race", async () => {
    const keyPrefix = prefix();
    const registry = createSchemaRegistry(redis, { prefix: keyPrefix });
    await registry.register("user", user());
    // A connection whose reads of the latest version always come back one version behind.
    const keys = schemaKeys(keyPrefix);
    const stale = new Proxy(redis, {
      get(target, property, receiver) {
        if (property !== "hget") return Reflect.get(target, property, receiver);
        return async (key: string, field: string) =>
          key === keys.latest ? "0" : target.hget(key, field);
      },
    });
    const racing = createSchemaRegistry(stale, { prefix: keyPrefix });
    const error = await racing
      .register("user", user({ x: { type: "string" } }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConcurrentSchemaChangeError);
    expect(error).toMatchObject({ code: "EP_SCHEMA_CONCURRENT_CHANGE", attempts: 10 });
    expect(await registry.versions("user")).toEqual([1]);
  });
});

describe("register-5.lua run twice (a resend after a lost reply)", () => {
  it("returns the version the first run stored and stores nothing more", async () => {
    const keys = schemaKeys(prefix());
    const store = createSchemaStore(redis, keys);
    const v1 = canonicalJson(user());
    const v2 = canonicalJson(user({ age: { type: "integer" } }));
    expect(await store.register("user", v1, 0)).toEqual({ status: "created", version: 1 });
    expect(await store.register("user", v1, 0)).toEqual({ status: "unchanged", version: 1 });
    expect(await store.register("user", v2, 1)).toEqual({ status: "created", version: 2 });
    expect(await store.register("user", v2, 1)).toEqual({ status: "unchanged", version: 2 });
    expect(await redis.get(keys.revision)).toBe("2");
    // A caller that checked against version 1 while version 2 landed stores nothing.
    const v3 = canonicalJson(user({ email: { type: "string" } }));
    expect(await store.register("user", v3, 1)).toEqual({ status: "latest-moved", version: 2 });
    expect((await redis.hkeys(keys.versions("user"))).sort()).toEqual(["1", "2"]);
    expect(await redis.zrange(keys.changes, 0, -1, "WITHSCORES")).toEqual(["user", "2"]);
  });
});
