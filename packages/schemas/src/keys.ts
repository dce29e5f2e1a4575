// Every Redis key of the schema registry is built here; no other module spells a key.
//
// All keys carry the hash tag `{<prefix>:schemas}`: Redis Cluster hashes only the tag, so the
// registration script, which touches the type's keys and the shared ones together, stays
// legal on a cluster. Type names may contain any non-space character, braces included; that
// is safe because Cluster takes the tag from the first `{` to the first `}` after it, which is
// always the prefix's tag at the start of the key.

export const DEFAULT_SCHEMA_PREFIX = "eventpipe";

export interface SchemaKeys {
  readonly prefix: string;
  /** STRING counter, INCR on every change (new version, compatibility mode). */
  readonly revision: string;
  /** HASH type -> its latest version number. */
  readonly latest: string;
  /** HASH type -> compatibility mode (absent: BACKWARD). */
  readonly compatibility: string;
  /** ZSET type -> revision that gave it its latest version: what changed since a revision. */
  readonly changes: string;
  /** HASH version -> canonical JSON text of the schema. Versions are never rewritten. */
  versions(type: string): string;
  /** HASH version -> Redis time of the registration in ms. */
  registeredAt(type: string): string;
}

export function schemaKeys(prefix: string = DEFAULT_SCHEMA_PREFIX): SchemaKeys {
  if (prefix.length === 0 || /[{}\s]/.test(prefix)) {
    throw new TypeError(
      `schema key prefix must be non-empty without braces or spaces, got "${prefix}"`,
    );
  }
  const tag = `{${prefix}:schemas}`;
  return Object.freeze({
    prefix,
    revision: `${tag}:revision`,
    latest: `${tag}:latest`,
    compatibility: `${tag}:compat`,
    changes: `${tag}:changes`,
    versions: (type: string) => `${tag}:versions:${type}`,
    registeredAt: (type: string) => `${tag}:registered-at:${type}`,
  });
}
