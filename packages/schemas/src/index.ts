export { canonicalJson } from "./canonical-json.js";
export { checkSchemaCompatibility } from "./compatibility.js";
export {
  ConcurrentSchemaChangeError,
  IncompatibleSchemaError,
  InvalidSchemaError,
} from "./errors.js";
export type { SchemaKeys } from "./keys.js";
export { DEFAULT_SCHEMA_PREFIX, schemaKeys } from "./keys.js";
export type { SchemaRegistry, SchemaRegistryOptions } from "./registry.js";
export { createSchemaRegistry, isSchemaTypeName } from "./registry.js";
export type {
  CompatibilityBreak,
  CompatibilityMode,
  CompatibilityReport,
  SchemaChanges,
  SchemaRecord,
  SchemaTypeSummary,
} from "./types.js";
export { COMPATIBILITY_MODES, DEFAULT_COMPATIBILITY, isCompatibilityMode } from "./types.js";
export type { SchemaCheck, SchemaValidators } from "./validators.js";
export { createSchemaValidators } from "./validators.js";
