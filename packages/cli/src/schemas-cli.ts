// `pnpm schemas`: the schema registry from a shell, straight against Redis (REDIS_URL).
//
//   pnpm schemas register --type T --file schema.json
//   pnpm schemas check --type T --file schema.json
//   pnpm schemas get --type T [--version N]
//   pnpm schemas list [--prefix P] [--json]
//   pnpm schemas mode --type T [--set BACKWARD|FORWARD|FULL|NONE]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { connectRedis, describeRedis, readRedisConnection } from "@eventpipe/queue";
import {
  type CompatibilityBreak,
  createSchemaRegistry,
  IncompatibleSchemaError,
  InvalidSchemaError,
  isCompatibilityMode,
} from "@eventpipe/schemas";

const USAGE = `usage: pnpm schemas <command> [options]
  register --type T --file schema.json   register a new version (checked for compatibility)
  check    --type T --file schema.json   would it be accepted? prints what breaks
  get      --type T [--version N]        the latest or a given version
  list     [--prefix P] [--json]         every type with its latest version and mode
  mode     --type T [--set MODE]         the compatibility mode: BACKWARD, FORWARD, FULL, NONE
Redis: REDIS_URL (or REDIS_HOST, REDIS_PORT, REDIS_PASSWORD).`;

/** A mistake in how the command was called: usage, exit code 2. */
class UsageError extends Error {}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    type: { type: "string" },
    file: { type: "string" },
    version: { type: "string" },
    prefix: { type: "string" },
    set: { type: "string" },
    json: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});

function required(name: "type" | "file"): string {
  const value = values[name];
  if (value === undefined || value === "") throw new UsageError(`--${name} is required`);
  return value;
}

function readSchemaFile(): unknown {
  const file = required("file");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new Error(`cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${file} is not JSON: ${(error as Error).message}`);
  }
}

function printBreaks(breaks: readonly CompatibilityBreak[]): void {
  for (const item of breaks) console.log(`  ${item.path || "/"}  ${item.kind}: ${item.message}`);
}

const command = positionals[0];
if (values.help || command === undefined) {
  console.log(USAGE);
  process.exit(command === undefined && !values.help ? 2 : 0);
}

const connection = readRedisConnection(process.env);
const redis = connectRedis(connection, "writer", {
  enableOfflineQueue: true,
  retryStrategy: () => null,
});
redis.on("error", () => {});
const registry = createSchemaRegistry(redis);
try {
  switch (command) {
    case "register": {
      const type = required("type");
      const { version, created } = await registry.register(type, readSchemaFile());
      console.log(
        created
          ? `registered ${type} version ${version}`
          : `${type} version ${version} already has this schema; nothing registered`,
      );
      break;
    }
    case "check": {
      const type = required("type");
      const report = await registry.checkCompatibility(type, readSchemaFile());
      const against =
        report.against === undefined ? "no earlier version" : `version ${report.against}`;
      if (report.compatible) {
        console.log(`compatible with ${against} of ${type} (${report.mode})`);
      } else {
        console.log(`NOT compatible with ${against} of ${type} (${report.mode}):`);
        printBreaks(report.breaks);
        process.exitCode = 1;
      }
      break;
    }
    case "get": {
      const type = required("type");
      const version = values.version === undefined ? undefined : Number(values.version);
      if (version !== undefined && !(Number.isInteger(version) && version > 0)) {
        throw new UsageError(`--version=${values.version} is not a positive integer`);
      }
      const record = await registry.get(type, version);
      if (record === undefined) {
        throw new Error(
          `${type} has no ${version === undefined ? "schema" : `version ${version}`}`,
        );
      }
      console.log(JSON.stringify(values.json ? record : record.schema, null, 2));
      break;
    }
    case "list": {
      const types = await registry.listTypes(values.prefix);
      if (values.json) console.log(JSON.stringify(types));
      else if (types.length === 0) console.log("no schemas registered");
      else {
        for (const entry of types) {
          console.log(`${entry.type.padEnd(40)} v${entry.latestVersion}  ${entry.compatibility}`);
        }
      }
      break;
    }
    case "mode": {
      const type = required("type");
      if (values.set !== undefined) {
        const mode = values.set.toUpperCase();
        if (!isCompatibilityMode(mode)) {
          throw new UsageError(`--set=${values.set}: expected BACKWARD, FORWARD, FULL or NONE`);
        }
        await registry.setCompatibility(type, mode);
      }
      console.log(`${type}: ${await registry.getCompatibility(type)}`);
      break;
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
} catch (error) {
  if (error instanceof UsageError) {
    console.error(`schemas: ${error.message}\n${USAGE}`);
    process.exitCode = 2;
  } else if (error instanceof IncompatibleSchemaError) {
    console.error(`schemas: ${error.message}`);
    printBreaks(error.report.breaks);
    process.exitCode = 1;
  } else if (error instanceof InvalidSchemaError) {
    console.error(`schemas: not a valid JSON Schema (draft 2020-12): ${error.reason}`);
    process.exitCode = 1;
  } else {
    const where = redis.status === "ready" ? "" : ` (Redis at ${describeRedis(connection)})`;
    console.error(`schemas: ${(error as Error).message}${where}`);
    process.exitCode = 1;
  }
} finally {
  redis.disconnect();
}
