// Compiled validators kept in memory and refreshed from the registry: the collector's hot
// path. check() is synchronous and allocates nothing on success beyond parsing the payload.
import type { ValidateFunction } from "ajv/dist/2020.js";
import { compileSchema, errorMessage } from "./json-schema.js";
import type { SchemaRegistry } from "./registry.js";
import type { SchemaRecord } from "./types.js";

export type SchemaCheck =
  /** version undefined: no schema is registered for the type, so anything is accepted. */
  | { readonly ok: true; readonly version: number | undefined }
  | {
      readonly ok: false;
      readonly version: number | undefined;
      /** JSON Pointer into the payload, "" for the payload itself. */
      readonly instancePath: string;
      readonly message: string;
    };

export interface SchemaValidators {
  /** Synchronous. `version` 0/undefined = latest. Payload is UTF-8 JSON bytes; empty or
   * invalid JSON fails with a clear message when a schema exists. Unknown version → ok:false
   * with message "version N of type T is not registered". */
  check(type: string, version: number | undefined, payload: Uint8Array): SchemaCheck;
  /** True when at least one schema is registered (lets the collector skip work). */
  readonly active: boolean;
  /** True once the registry has been read: before that, `active` cannot be trusted. */
  readonly loaded: boolean;
  /** Loads what changed since the last revision seen (one GET of the revision when nothing did). */
  refresh(): Promise<void>;
  /** refresh() now, then every intervalMs (default 500) until close(); errors are reported to
   * onError, never thrown. */
  start(intervalMs?: number, onError?: (error: unknown) => void): Promise<void>;
  close(): void;
}

interface HeldVersion {
  readonly version: number;
  readonly schema: unknown;
  /** Compiled once, on first use (the latest version when it is loaded); a string says why
   * it could not be. */
  validate?: ValidateFunction | string;
  /** The one success result of this version, shared by every check. */
  readonly ok: SchemaCheck;
}

interface HeldType {
  readonly latest: number;
  readonly versions: ReadonlyMap<number, HeldVersion>;
}

const NO_SCHEMA: SchemaCheck = Object.freeze({ ok: true, version: undefined });
const utf8 = new TextDecoder("utf-8", { fatal: true });

function failure(version: number | undefined, instancePath: string, message: string): SchemaCheck {
  return { ok: false, version, instancePath, message };
}

function hold(record: SchemaRecord): HeldVersion {
  return {
    version: record.version,
    schema: record.schema,
    ok: Object.freeze({ ok: true, version: record.version }),
  };
}

function validatorOf(held: HeldVersion): ValidateFunction | string {
  if (held.validate === undefined) {
    try {
      held.validate = compileSchema(held.schema);
    } catch (error) {
      held.validate = error instanceof Error ? error.message : String(error);
    }
  }
  return held.validate;
}

export function createSchemaValidators(registry: SchemaRegistry): SchemaValidators {
  let types = new Map<string, HeldType>();
  /** The registry revision `types` reflects; -1 before the first load. */
  let seen = -1;
  let queue: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let started = false;
  let closed = false;

  async function loadType(type: string, held: HeldType | undefined): Promise<HeldType | undefined> {
    const latest = await registry.get(type);
    if (latest === undefined) return undefined;
    // Versions never change once stored, so only the new ones are read, unless the registry
    // went back (it was emptied and filled again) and what is held may be stale.
    const keep = held !== undefined && held.latest <= latest.version ? held : undefined;
    const missing: number[] = [];
    for (let v = (keep?.latest ?? 0) + 1; v < latest.version; v++) missing.push(v);
    const older = await Promise.all(missing.map((v) => registry.get(type, v)));
    const versions = new Map(keep?.versions);
    for (const record of [...older, latest]) {
      if (record !== undefined) versions.set(record.version, hold(record));
    }
    validatorOf(versions.get(latest.version)!); // compile the latest now, not on the hot path
    return { latest: latest.version, versions };
  }

  async function load(): Promise<void> {
    const revision = await registry.revision();
    if (revision === seen) return;
    // A revision below the one seen means Redis lost or dropped the registry: start over.
    const restart = revision < seen;
    const changes = await registry.changesSince(restart ? 0 : Math.max(seen, 0));
    const loaded = await Promise.all(
      changes.types.map(async (type) => {
        const held = restart ? undefined : types.get(type);
        return [type, await loadType(type, held)] as const;
      }),
    );
    // Applied only now, with nothing awaited in between, so check() never sees half a load.
    if (restart) types = new Map();
    for (const [type, held] of loaded) {
      if (held === undefined) types.delete(type);
      else types.set(type, held);
    }
    seen = changes.revision;
  }

  const validators: SchemaValidators = {
    check(type, version, payload) {
      const held = types.get(type);
      if (held === undefined && !version) return NO_SCHEMA;
      const wanted = version || held!.latest;
      const entry = held?.versions.get(wanted);
      if (entry === undefined) {
        return failure(version, "", `version ${version} of type ${type} is not registered`);
      }
      const validate = validatorOf(entry);
      if (typeof validate === "string") {
        return failure(
          wanted,
          "",
          `version ${wanted} of type ${type} cannot be checked: ${validate}`,
        );
      }
      if (payload.length === 0) {
        return failure(
          wanted,
          "",
          `payload is empty; type ${type} has a schema, so it must be JSON`,
        );
      }
      let text: string;
      try {
        text = utf8.decode(payload);
      } catch {
        return failure(wanted, "", "payload is not UTF-8 text, so it cannot be JSON");
      }
      let data: unknown;
      try {
        data = JSON.parse(text);
      } catch (error) {
        return failure(wanted, "", `payload is not valid JSON: ${(error as Error).message}`);
      }
      if (validate(data)) return entry.ok;
      const error = validate.errors?.[0];
      return failure(wanted, error?.instancePath ?? "", errorMessage(error));
    },

    get active() {
      return types.size > 0;
    },

    get loaded() {
      return seen >= 0;
    },

    refresh() {
      // One load at a time, each after the previous one: a refresh asked for after a
      // registration must not be answered by a load that started before it.
      const run = queue.then(load);
      queue = run.catch(() => {});
      return run;
    },

    async start(intervalMs = 500, onError) {
      if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
        throw new RangeError(`refresh interval must be a positive number of ms, got ${intervalMs}`);
      }
      if (started || closed) return;
      started = true;
      const tick = async () => {
        try {
          await validators.refresh();
        } catch (error) {
          try {
            onError?.(error);
          } catch {
            // onError is the caller's logger; its failure must not stop the refreshes.
          }
        }
        if (closed) return;
        timer = setTimeout(tick, intervalMs);
        timer.unref();
      };
      await tick();
    },

    close() {
      closed = true;
      clearTimeout(timer);
    },
  };
  return validators;
}
