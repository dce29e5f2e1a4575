// Probes without authentication: /healthz says the process serves HTTP (liveness), /readyz
// says it can store events, i.e. Redis answers and the collector is not shutting down.
import type { FastifyInstance } from "fastify";
import type { DoorContext } from "./context.js";

export function healthRoutes({ core }: DoorContext) {
  return async (app: FastifyInstance) => {
    const open = { config: { access: "open" as const } };
    app.get("/healthz", open, async () => ({ status: "ok" }));
    app.get("/readyz", open, async (_request, reply) => {
      if (core.health.serving) return { status: "ready" };
      return reply.code(503).send({
        status: "unavailable",
        error: "Redis is not answering or the collector is shutting down",
      });
    });
  };
}
