// The registry's public data types, in one module so the registry, the validators and the
// pure compatibility checker share them without importing each other.

/**
 * How a new version of a type must relate to the latest one.
 * BACKWARD: consumers on the new schema can read data written with the previous one.
 * FORWARD: consumers still on the previous schema can read data written with the new one.
 * FULL: both. NONE: nothing is checked.
 */
export type CompatibilityMode = "BACKWARD" | "FORWARD" | "FULL" | "NONE";

export const COMPATIBILITY_MODES: readonly CompatibilityMode[] = Object.freeze([
  "BACKWARD",
  "FORWARD",
  "FULL",
  "NONE",
]);

/** The mode of a type nobody configured. */
export const DEFAULT_COMPATIBILITY: CompatibilityMode = "BACKWARD";

export function isCompatibilityMode(text: unknown): text is CompatibilityMode {
  return typeof text === "string" && (COMPATIBILITY_MODES as readonly string[]).includes(text);
}

export interface SchemaRecord {
  readonly type: string;
  readonly version: number;
  /** The schema as stored: canonical JSON (object keys sorted), parsed. */
  readonly schema: unknown;
  /** Redis time of the registration. */
  readonly registeredAtMs: number;
}

export interface CompatibilityBreak {
  /** JSON Pointer into the schema, e.g. "/properties/age" or "/properties/age/maxLength". */
  readonly path: string;
  /** "required-added", "type-narrowed", "enum-narrowed", "property-removed", ... */
  readonly kind: string;
  /** What breaks, in plain words. */
  readonly message: string;
}

export interface CompatibilityReport {
  readonly compatible: boolean;
  readonly mode: CompatibilityMode;
  /** The version the schema was compared with; absent when the type has none yet. */
  readonly against?: number;
  readonly breaks: readonly CompatibilityBreak[];
}

export interface SchemaTypeSummary {
  readonly type: string;
  readonly latestVersion: number;
  readonly compatibility: CompatibilityMode;
}

/** What changed in the registry after a revision (see SchemaRegistry.changesSince). */
export interface SchemaChanges {
  /** The registry's revision when the changes were read. */
  readonly revision: number;
  /** Types that got a new version after the revision asked about. */
  readonly types: readonly string[];
}
