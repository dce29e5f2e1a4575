// JSON Schema draft 2020-12 with Ajv: checking a schema before it is registered, and
// compiling a registered one.
//
// Each schema gets its own Ajv instance. One shared instance would refuse two versions that
// carry the same $id (every version of a type usually does) and would let the nested $ids of
// one schema change how another resolves its $refs. A fresh instance costs about as much to
// compile with as a shared one (~1 ms) and less memory per compiled schema.
import {
  Ajv2020,
  type AnySchema,
  type ErrorObject,
  type Options,
  type ValidateFunction,
} from "ajv/dist/2020.js";
import formats from "ajv-formats";

// ajv-formats is CommonJS: the default import is module.exports, its `default` the plugin.
const addFormats = formats.default;

export const JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema";

const OPTIONS: Options = {
  allErrors: false,
  // Unknown keywords are annotations (x-owner, examples...), not errors; unknown formats are
  // still refused at registration by schemaProblem().
  strict: false,
  addUsedSchema: false,
  logger: false,
};

function newAjv(options: Options = {}): Ajv2020 {
  const ajv = new Ajv2020({ ...OPTIONS, ...options });
  addFormats(ajv);
  return ajv;
}

/** Only for checking schemas against the meta-schema, which it compiles once. */
let metaSchemaAjv: Ajv2020 | undefined;

/** Why `schema` cannot be registered, or undefined when it can. */
export function schemaProblem(schema: unknown): string | undefined {
  const shape = shapeProblem(schema);
  if (shape !== undefined) return shape;
  const checked = schema as AnySchema;
  if (
    isJsonObject(schema) &&
    schema.$schema !== undefined &&
    String(schema.$schema).replace(/#$/, "") !== JSON_SCHEMA_DIALECT
  ) {
    return `$schema ${JSON.stringify(schema.$schema)} is not supported: leave it out or use "${JSON_SCHEMA_DIALECT}"`;
  }
  metaSchemaAjv ??= newAjv();
  if (!metaSchemaAjv.validateSchema(checked)) {
    return metaSchemaAjv.errorsText(metaSchemaAjv.errors, { dataVar: "schema" });
  }
  const unknownFormats: string[] = [];
  const logger = {
    log() {},
    error() {},
    warn(...args: unknown[]) {
      const text = args.map(String).join(" ");
      if (text.includes("unknown format")) unknownFormats.push(text);
    },
  };
  try {
    // Compiling finds what the meta-schema cannot: $refs that resolve nowhere, bad patterns.
    newAjv({ logger, validateSchema: false }).compile(checked);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  return unknownFormats[0];
}

/** Why `schema` cannot be a schema at all: it is neither an object nor a boolean. */
export function shapeProblem(schema: unknown): string | undefined {
  if (typeof schema === "boolean" || isJsonObject(schema)) return undefined;
  const what = Array.isArray(schema) ? "an array" : schema === null ? "null" : typeof schema;
  return `a schema must be a JSON object or boolean, not ${what}`;
}

/** Compiles a schema that schemaProblem() accepted. */
export function compileSchema(schema: unknown): ValidateFunction {
  return newAjv({ validateSchema: false }).compile(schema as object | boolean);
}

/** Ajv's message for one error, with the name it is about where Ajv leaves it out. */
export function errorMessage(error: ErrorObject | undefined): string {
  if (error === undefined) return "does not match the schema";
  const message = error.message ?? `must pass "${error.keyword}" keyword validation`;
  if (error.keyword === "additionalProperties") {
    return `${message}: '${String(error.params.additionalProperty)}'`;
  }
  return message;
}

export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A name as one JSON Pointer segment (RFC 6901: "~" and "/" escaped). */
export function pointerEscape(name: string): string {
  return name.replace(/~/g, "~0").replace(/\//g, "~1");
}
