// Compiled validators refreshed from the registry, against the run's real redis-server.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it, vi } from "vitest";
import { useSharedRedis } from "../../../test-support/shared-redis.js";
import {
  createSchemaRegistry,
  createSchemaValidators,
  type SchemaRegistry,
  schemaKeys,
} from "../src/index.js";

const { redis, redisUrl } = useSharedRedis();
const other = new Redis(redisUrl);
afterAll(() => {
  other.disconnect();
});

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const person = {
  type: "object",
  properties: { name: { type: "string" }, age: { type: "integer", minimum: 0 } },
  required: ["name", "age"],
};
const withEmail = {
  ...person,
  properties: { ...person.properties, email: { type: "string", format: "email" } },
};

/** A registry to write with and validators reading through another connection. */
async function setup() {
  const prefix = `test_schemas_${randomUUID()}`;
  const writer = createSchemaRegistry(redis, { prefix });
  const reader = createSchemaRegistry(other, { prefix });
  const validators = createSchemaValidators(reader);
  await writer.register("person", person);
  await validators.refresh();
  return { prefix, writer, reader, validators };
}

describe("schema validators", () => {
  it("accepts anything for a type without a schema, and are inactive with no schema at all", async () => {
    const validators = createSchemaValidators(
      createSchemaRegistry(redis, { prefix: `test_schemas_${randomUUID()}` }),
    );
    await validators.refresh();
    expect(validators.active).toBe(false);
    expect(validators.check("anything", undefined, Buffer.from("not json"))).toEqual({
      ok: true,
      version: undefined,
    });
    expect(validators.check("anything", 0, new Uint8Array())).toEqual({
      ok: true,
      version: undefined,
    });
  });

  it("enforces a schema registered through another connection after refresh()", async () => {
    const { validators } = await setup();
    expect(validators.active).toBe(true);
    expect(validators.check("person", undefined, json({ name: "Ada", age: 36 }))).toEqual({
      ok: true,
      version: 1,
    });
    expect(validators.check("person", undefined, json({ name: "Ada" }))).toEqual({
      ok: false,
      version: 1,
      instancePath: "",
      message: "must have required property 'age'",
    });
    expect(validators.check("person", 1, json({ name: "Ada", age: "old" }))).toEqual({
      ok: false,
      version: 1,
      instancePath: "/age",
      message: "must be integer",
    });
    expect(validators.check("other-type", undefined, json(1))).toEqual({
      ok: true,
      version: undefined,
    });
  });

  it("checks against the version asked for, the latest by default", async () => {
    const { writer, validators } = await setup();
    await writer.register("person", withEmail);
    const badEmail = json({ name: "Ada", age: 36, email: "nope" });
    expect(validators.check("person", undefined, badEmail)).toEqual({ ok: true, version: 1 });
    await validators.refresh();
    expect(validators.check("person", 1, badEmail)).toEqual({ ok: true, version: 1 });
    expect(validators.check("person", 2, badEmail)).toMatchObject({
      ok: false,
      version: 2,
      instancePath: "/email",
      message: 'must match format "email"',
    });
    expect(validators.check("person", 0, badEmail)).toMatchObject({ ok: false, version: 2 });
    expect(validators.check("person", undefined, badEmail)).toMatchObject({
      ok: false,
      version: 2,
    });
  });

  it("refuses an unknown version and payloads that are not JSON", async () => {
    const { validators } = await setup();
    expect(validators.check("person", 7, json({ name: "Ada", age: 1 }))).toEqual({
      ok: false,
      version: 7,
      instancePath: "",
      message: "version 7 of type person is not registered",
    });
    expect(validators.check("no-schema", 2, json({}))).toMatchObject({
      ok: false,
      message: "version 2 of type no-schema is not registered",
    });
    const notJson = validators.check("person", undefined, Buffer.from("{name: Ada}"));
    expect(notJson).toMatchObject({ ok: false, version: 1, instancePath: "" });
    expect(notJson.ok || notJson.message).toMatch(/^payload is not valid JSON: /);
    expect(validators.check("person", undefined, new Uint8Array())).toMatchObject({
      ok: false,
      message: "payload is empty; type person has a schema, so it must be JSON",
    });
    expect(validators.check("person", undefined, Uint8Array.of(0x22, 0xff, 0x22))).toMatchObject({
      ok: false,
      message: "payload is not UTF-8 text, so it cannot be JSON",
    });
  });

  it("picks up new versions within a second once started, and stops on close()", async () => {
    const { writer, validators } = await setup();
    const errors: unknown[] = [];
    await validators.start(50, (error) => errors.push(error));
    await writer.register("person", withEmail);
    await writer.register("pet", { type: "object", required: ["species"] });
    const badEmail = json({ name: "Ada", age: 36, email: "nope" });
    await expect
      .poll(() => validators.check("person", undefined, badEmail).version, {
        timeout: 1_000,
        interval: 20,
      })
      .toBe(2);
    expect(validators.check("pet", undefined, json({}))).toMatchObject({ ok: false, version: 1 });
    validators.close();
    validators.close();
    expect(errors).toEqual([]);
  });

  it("reads only the revision when nothing changed", async () => {
    const { reader } = await setup();
    const spied: SchemaRegistry = {
      ...reader,
      revision: vi.fn(reader.revision),
      changesSince: vi.fn(reader.changesSince),
      get: vi.fn(reader.get),
    };
    const validators = createSchemaValidators(spied);
    await validators.refresh();
    expect(spied.changesSince).toHaveBeenCalledTimes(1);
    expect(spied.get).toHaveBeenCalledTimes(1);
    await validators.refresh();
    await validators.refresh();
    expect(spied.revision).toHaveBeenCalledTimes(3);
    expect(spied.changesSince).toHaveBeenCalledTimes(1);
    expect(spied.get).toHaveBeenCalledTimes(1);
  });

  it("starts over when the registry's revision goes back (Redis lost it)", async () => {
    const { prefix, writer, validators } = await setup();
    await writer.register("person", withEmail);
    await validators.refresh();
    const keys = schemaKeys(prefix);
    await redis.del(
      keys.revision,
      keys.latest,
      keys.changes,
      keys.versions("person"),
      keys.registeredAt("person"),
    );
    await writer.register("pet", true);
    await validators.refresh();
    expect(validators.check("person", undefined, json({}))).toEqual({
      ok: true,
      version: undefined,
    });
    expect(validators.check("pet", undefined, json({}))).toEqual({ ok: true, version: 1 });
  });

  it("reports refresh errors to onError and keeps going", async () => {
    const { reader } = await setup();
    let failures = 2;
    const flaky: SchemaRegistry = {
      ...reader,
      revision: () =>
        failures-- > 0 ? Promise.reject(new Error("redis is down")) : reader.revision(),
    };
    const validators = createSchemaValidators(flaky);
    const errors: unknown[] = [];
    await validators.start(20, (error) => errors.push(error));
    expect(errors).toHaveLength(1);
    await expect.poll(() => validators.active, { timeout: 1_000, interval: 20 }).toBe(true);
    expect(errors.map((e) => (e as Error).message)).toEqual(["redis is down", "redis is down"]);
    validators.close();
    await expect(validators.refresh()).resolves.toBeUndefined();
  });
});
