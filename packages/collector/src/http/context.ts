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

/** The abort signal of one request, made only if asked for (see requestSignal). */
export interface RequestSignal {
  /** Whether the signal is (or would be, once made) aborted already. */
  readonly aborted: boolean;
  signal(): AbortSignal;
}

/**
 * Aborts when the door gives up on in-flight work or the client goes away, whichever comes
 * first; a request that waits for the event budget listens to it. Made on first use: most
 * requests never wait, and an AbortController per request, aborted (with a new DOMException)
 * on every close, cost more than the rest of the request's bookkeeping.
 */
export function requestSignal(reply: FastifyReply, shutdown: AbortSignal): RequestSignal {
  let controller: AbortController | undefined;
  let closed = false;
  const abort = () => controller?.abort();
  reply.raw.once("close", () => {
    closed = true;
    if (controller === undefined) return;
    shutdown.removeEventListener("abort", abort);
    abort();
  });
  return {
    get aborted() {
      return closed || shutdown.aborted;
    },
    signal() {
      if (shutdown.aborted) return shutdown;
      if (controller === undefined) {
        controller = new AbortController();
        if (closed) controller.abort();
        else shutdown.addEventListener("abort", abort, { once: true });
      }
      return controller.signal;
    },
  };
}
