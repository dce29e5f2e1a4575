// `pnpm schemas` as a person runs it: the built CLI in a child process against real Redis.
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { useSharedRedis } from "../../../test-support/shared-redis.js";

const { redisUrl } = useSharedRedis();
const CLI = fileURLToPath(new URL("../dist/schemas-cli.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "eventpipe-schemas-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function schemasCli(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? "", REDIS_URL: redisUrl },
    encoding: "utf8",
    timeout: 20_000,
  });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

function schemaFile(schema: unknown, text = JSON.stringify(schema)): string {
  const file = join(dir, `${randomUUID()}.json`);
  writeFileSync(file, text);
  return file;
}

const login = {
  type: "object",
  properties: { user: { type: "string" } },
  required: ["user"],
};

describe("pnpm schemas", () => {
  it("registers, lists, gets and checks versions, and says what breaks", async () => {
    const type = `cli.login_${randomUUID().slice(0, 8)}`;
    expect(schemasCli("register", "--type", type, "--file", schemaFile(login))).toMatchObject({
      code: 0,
      out: `registered ${type} version 1\n`,
    });
    expect(schemasCli("register", "--type", type, "--file", schemaFile(login)).out).toContain(
      "already has this schema",
    );

    const withAge = {
      ...login,
      properties: { ...login.properties, age: { type: "integer" } },
    };
    expect(schemasCli("check", "--type", type, "--file", schemaFile(withAge))).toMatchObject({
      code: 0,
    });
    const breaking = { ...withAge, required: ["user", "age"] };
    const check = schemasCli("check", "--type", type, "--file", schemaFile(breaking));
    expect(check.code).toBe(1);
    expect(check.out).toContain("NOT compatible with version 1");
    expect(check.out).toContain("age");
    const refused = schemasCli("register", "--type", type, "--file", schemaFile(breaking));
    expect(refused.code).toBe(1);
    expect(refused.err).toContain("age");

    expect(schemasCli("register", "--type", type, "--file", schemaFile(withAge)).out).toBe(
      `registered ${type} version 2\n`,
    );
    expect(JSON.parse(schemasCli("get", "--type", type, "--version", "1").out)).toEqual(login);
    expect(JSON.parse(schemasCli("get", "--type", type).out)).toEqual(withAge);
    const listed = JSON.parse(schemasCli("list", "--prefix", "cli.", "--json").out);
    expect(listed).toContainEqual({ type, latestVersion: 2, compatibility: "BACKWARD" });

    expect(schemasCli("mode", "--type", type, "--set", "none").out).toBe(`${type}: NONE\n`);
    expect(schemasCli("register", "--type", type, "--file", schemaFile(breaking)).code).toBe(0);
  });

  it("answers mistakes with clear errors and exit codes", () => {
    const missing = schemasCli("register", "--file", schemaFile(login));
    expect(missing).toMatchObject({ code: 2 });
    expect(missing.err).toContain("--type is required");
    const notJson = schemasCli("register", "--type", "cli.x", "--file", schemaFile(0, "{oops"));
    expect(notJson.code).toBe(1);
    expect(notJson.err).toContain("is not JSON");
    const invalid = schemasCli("register", "--type", "cli.x", "--file", schemaFile({ type: 12 }));
    expect(invalid.code).toBe(1);
    expect(invalid.err).toContain("not a valid JSON Schema");
    expect(schemasCli("get", "--type", `cli.none_${randomUUID()}`).code).toBe(1);
    expect(schemasCli("frobnicate").code).toBe(2);
  });
});
