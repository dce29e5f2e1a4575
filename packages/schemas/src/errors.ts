// Typed errors of the schema registry. The registration script returns small integer codes;
// this module alone names them.
import type { CompatibilityReport } from "./types.js";

export class InvalidSchemaError extends Error {
  override readonly name = "InvalidSchemaError";
  readonly code = "EP_SCHEMA_INVALID";
  constructor(
    readonly type: string,
    /** What is wrong, e.g. "/properties/age/type must be equal to one of the allowed values". */
    readonly reason: string,
  ) {
    super(
      `schema for event type "${type}" is not valid: ${reason}; send a JSON Schema (draft 2020-12) object or boolean, self-contained (no external $ref)`,
    );
  }
}

export class IncompatibleSchemaError extends Error {
  override readonly name = "IncompatibleSchemaError";
  readonly code = "EP_SCHEMA_INCOMPATIBLE";
  constructor(
    readonly type: string,
    readonly report: CompatibilityReport,
  ) {
    const shown = report.breaks.slice(0, 3).map((b) => `${b.path || "/"}: ${b.message}`);
    const more = report.breaks.length > 3 ? `; and ${report.breaks.length - 3} more` : "";
    super(
      `schema for event type "${type}" is not ${report.mode} compatible with version ${report.against}: ${shown.join("; ")}${more}. Make the change compatible, register it under a new type name, or set the type's compatibility mode to NONE`,
    );
  }
}

export class ConcurrentSchemaChangeError extends Error {
  override readonly name = "ConcurrentSchemaChangeError";
  readonly code = "EP_SCHEMA_CONCURRENT_CHANGE";
  constructor(
    readonly type: string,
    readonly attempts: number,
  ) {
    super(
      `event type "${type}" got a new version during each of ${attempts} registration attempts; retry when registrations of this type have settled`,
    );
  }
}

/** Status codes returned by register-5.lua. */
export const ScriptStatus = {
  created: 1,
  unchanged: 0,
  latestMoved: -1,
} as const;
