// What the HTTP door's route plugins share: the core, the config, and the door's shutdown
// signal, from which each ingest request gets its own abort signal.
import type { FastifyReply } from "fastify";
import type { CollectorConfig } from "../config.js";
import type { IngestCore } from "../core.js";
import type { RegistryReadsAndWrites } from "./patient-registry.js";

export interface DoorContext {
  readonly core: IngestCore;
  /** core.schemas, riding out a Redis connection that is not ready yet. */
  readonly schemas: RegistryReadsAndWrites;
  readonly config: CollectorConfig;
  /** Aborted when the door's grace period is over: requests still waiting give up (503). */
  readonly shutdown: AbortSignal;
}

/**
 * Aborts when the door gives up on in-flight work or the client goes away, whichever comes
 * first; a request that waits for the event budget listens to it.
 */
export function requestSignal(reply: FastifyReply, shutdown: AbortSignal): AbortSignal {
  if (shutdown.aborted) return shutdown;
  const controller = new AbortController();
  const abort = () => controller.abort();
  shutdown.addEventListener("abort", abort, { once: true });
  reply.raw.once("close", () => {
    shutdown.removeEventListener("abort", abort);
    abort();
  });
  return controller.signal;
}
