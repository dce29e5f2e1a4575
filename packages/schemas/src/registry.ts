// The schema registry: versions of each event type's JSON Schema in Redis, shared by every
// collector. Reads are plain commands; the only write that must be atomic (check the latest
// version, append the next) is register-5.lua.
import type { Redis } from "ioredis";
import { canonicalJson } from "./canonical-json.js";
import { createSchemaStore } from "./commands.js";
import { checkSchemaCompatibility } from "./compatibility.js";
import {
  ConcurrentSchemaChangeError,
  IncompatibleSchemaError,
  InvalidSchemaError,
} from "./errors.js";
import { schemaProblem, shapeProblem } from "./json-schema.js";
import { schemaKeys } from "./keys.js";
import {
  type CompatibilityMode,
  type CompatibilityReport,
  DEFAULT_COMPATIBILITY,
  isCompatibilityMode,
  type SchemaChanges,
  type SchemaRecord,
  type SchemaTypeSummary,
} from "./types.js";

export interface SchemaRegistry {
  /** Stores `schema` as the type's next version unless the latest version is the same schema
   * (`created: false`). Throws InvalidSchemaError, IncompatibleSchemaError, and
   * ConcurrentSchemaChangeError when other registrations of the type keep winning the race. */
  register(
    type: string,
    schema: unknown,
  ): Promise<{ readonly version: number; readonly created: boolean }>;
  /** What register() would say about compatibility. Throws InvalidSchemaError. */
  checkCompatibility(type: string, schema: unknown): Promise<CompatibilityReport>;
  /** The latest version when `version` is omitted (or 0). */
  get(type: string, version?: number): Promise<SchemaRecord | undefined>;
  /** Version numbers of the type, ascending. */
  versions(type: string): Promise<number[]>;
  /** Types with at least one version, sorted by name; `prefix` keeps names starting with it. */
  listTypes(prefix?: string): Promise<SchemaTypeSummary[]>;
  /** BACKWARD unless set. */
  getCompatibility(type: string): Promise<CompatibilityMode>;
  /** Applies to later registrations; versions already stored stay. */
  setCompatibility(type: string, mode: CompatibilityMode): Promise<void>;
  /** Grows on every change; 0 for an empty registry. */
  revision(): Promise<number>;
  /** Types that got a new version after `revision`, read atomically with the revision. */
  changesSince(revision: number): Promise<SchemaChanges>;
}

export interface SchemaRegistryOptions {
  /** Key prefix, "eventpipe" by default: keys are `{<prefix>:schemas}:...`. */
  readonly prefix?: string;
}

/** Registrations that lose the race to another one re-check and retry this many times. */
const MAX_ATTEMPTS = 10;

export function createSchemaRegistry(
  redis: Redis,
  options: SchemaRegistryOptions = {},
): SchemaRegistry {
  const keys = schemaKeys(options.prefix);
  const store = createSchemaStore(redis, keys);

  async function getCompatibility(type: string): Promise<CompatibilityMode> {
    const mode = await redis.hget(keys.compatibility, type);
    return isCompatibilityMode(mode) ? mode : DEFAULT_COMPATIBILITY;
  }

  /** The latest version with its canonical text, and the mode to check against it. */
  async function current(type: string) {
    const [latest, mode] = await Promise.all([
      redis.hget(keys.latest, type),
      getCompatibility(type),
    ]);
    const version = latest === null ? 0 : Number(latest);
    const text = version > 0 ? await redis.hget(keys.versions(type), String(version)) : null;
    return { version, text, mode };
  }

  function report(
    state: { version: number; text: string | null; mode: CompatibilityMode },
    schema: unknown,
    canonical: string,
  ): CompatibilityReport {
    if (state.text === null) return { compatible: true, mode: state.mode, breaks: [] };
    const breaks =
      state.text === canonical
        ? []
        : checkSchemaCompatibility(JSON.parse(state.text), schema, state.mode);
    return { compatible: breaks.length === 0, mode: state.mode, against: state.version, breaks };
  }

  return {
    async register(type, schema) {
      const { parsed, canonical } = prepare(type, schema);
      for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
        const state = await current(type);
        const compatibility = report(state, parsed, canonical);
        if (!compatibility.compatible) throw new IncompatibleSchemaError(type, compatibility);
        const reply = await store.register(type, canonical, state.version);
        if (reply.status !== "latest-moved") {
          return { version: reply.version, created: reply.status === "created" };
        }
      }
      throw new ConcurrentSchemaChangeError(type, MAX_ATTEMPTS);
    },

    async checkCompatibility(type, schema) {
      const { parsed, canonical } = prepare(type, schema);
      return report(await current(type), parsed, canonical);
    },

    async get(type, version) {
      if (version !== undefined && (!Number.isInteger(version) || version < 0)) return undefined;
      const wanted = version || Number((await redis.hget(keys.latest, type)) ?? 0);
      if (wanted === 0) return undefined;
      const [text, at] = await Promise.all([
        redis.hget(keys.versions(type), String(wanted)),
        redis.hget(keys.registeredAt(type), String(wanted)),
      ]);
      if (text === null) return undefined;
      return { type, version: wanted, schema: JSON.parse(text), registeredAtMs: Number(at ?? 0) };
    },

    async versions(type) {
      const fields = await redis.hkeys(keys.versions(type));
      return fields.map(Number).sort((a, b) => a - b);
    },

    async listTypes(prefix = "") {
      const [latest, modes] = await Promise.all([
        redis.hgetall(keys.latest),
        redis.hgetall(keys.compatibility),
      ]);
      return Object.keys(latest)
        .filter((type) => type.startsWith(prefix))
        .sort()
        .map((type) => {
          const mode = modes[type];
          return {
            type,
            latestVersion: Number(latest[type]),
            compatibility: isCompatibilityMode(mode) ? mode : DEFAULT_COMPATIBILITY,
          };
        });
    },

    getCompatibility,

    async setCompatibility(type, mode) {
      checkTypeName(type);
      if (!isCompatibilityMode(mode)) {
        throw new TypeError(
          `compatibility mode must be BACKWARD, FORWARD, FULL or NONE, got "${mode}"`,
        );
      }
      const replies = await redis
        .multi()
        .hset(keys.compatibility, type, mode)
        .incr(keys.revision)
        .exec();
      const failed = replies?.find(([error]) => error !== null);
      if (replies === null || failed !== undefined) {
        throw failed?.[0] ?? new Error("setting the compatibility mode was aborted");
      }
    },

    async revision() {
      return Number((await redis.get(keys.revision)) ?? 0);
    },

    async changesSince(revision) {
      const replies = await redis
        .multi()
        .get(keys.revision)
        .zrangebyscore(keys.changes, `(${revision}`, "+inf")
        .exec();
      const failed = replies?.find(([error]) => error !== null);
      if (replies === null || failed !== undefined) {
        throw failed?.[0] ?? new Error("reading the registry's changes was aborted");
      }
      return {
        revision: Number(replies[0]?.[1] ?? 0),
        types: (replies[1]?.[1] ?? []) as string[],
      };
    },
  };
}

/** Type names are 1..255 characters without whitespace. */
export function isSchemaTypeName(type: unknown): type is string {
  return typeof type === "string" && type.length > 0 && type.length <= 255 && !/\s/.test(type);
}

function checkTypeName(type: string): void {
  if (!isSchemaTypeName(type)) {
    throw new InvalidSchemaError(
      String(type),
      "the event type name must be 1 to 255 characters without whitespace",
    );
  }
}

/** The schema as it will be stored: validated, canonical, and parsed back from that text. */
function prepare(type: string, schema: unknown): { parsed: unknown; canonical: string } {
  checkTypeName(type);
  const shape = shapeProblem(schema);
  if (shape !== undefined) throw new InvalidSchemaError(type, shape);
  let canonical: string;
  try {
    canonical = canonicalJson(schema);
  } catch (error) {
    throw new InvalidSchemaError(type, `it has no JSON form (${String(error)})`);
  }
  const parsed: unknown = JSON.parse(canonical);
  const problem = schemaProblem(parsed);
  if (problem !== undefined) throw new InvalidSchemaError(type, problem);
  return { parsed, canonical };
}
