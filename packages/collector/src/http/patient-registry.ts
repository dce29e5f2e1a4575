// The schema registry as the HTTP routes use it: a call refused because the Redis connection
// is not ready yet (it fails fast, with no offline queue) is tried again for a moment, like the
// ingest path rides out a reconnect (ingest.ts), so a collector that has just started or just
// lost a connection that is coming back does not answer 503 for a blip. Only that refusal is
// retried: the command was never sent, so trying again cannot apply a change twice.
import { setTimeout as delay } from "node:timers/promises";
import type { SchemaRegistry } from "@eventpipe/schemas";

const RIDE_OUT_MS = 1000;
const RETRY_EVERY_MS = 25;

function notSent(error: unknown): boolean {
  return error instanceof Error && /Stream isn't writeable/.test(error.message);
}

async function rideOut<T>(call: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + RIDE_OUT_MS;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!notSent(error) || Date.now() + RETRY_EVERY_MS > deadline) throw error;
      await delay(RETRY_EVERY_MS);
    }
  }
}

export type RegistryReadsAndWrites = Pick<
  SchemaRegistry,
  | "register"
  | "checkCompatibility"
  | "get"
  | "versions"
  | "listTypes"
  | "getCompatibility"
  | "setCompatibility"
>;

export function patientRegistry(registry: SchemaRegistry): RegistryReadsAndWrites {
  return {
    register: (type, schema) => rideOut(() => registry.register(type, schema)),
    checkCompatibility: (type, schema) => rideOut(() => registry.checkCompatibility(type, schema)),
    get: (type, version) => rideOut(() => registry.get(type, version)),
    versions: (type) => rideOut(() => registry.versions(type)),
    listTypes: (prefix) => rideOut(() => registry.listTypes(prefix)),
    getCompatibility: (type) => rideOut(() => registry.getCompatibility(type)),
    setCompatibility: (type, mode) => rideOut(() => registry.setCompatibility(type, mode)),
  };
}
