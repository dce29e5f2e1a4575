// The collector's HTTP door (fastify): POST /v1/events, the schema registry, the sample flow's
// routes and the health probes, over the core the gRPC door uses too. Cross-cutting concerns
// live here once, as hooks: requests in flight and refusal while shutting down, access checks
// (access.ts), and one error handler that maps typed errors to statuses (errors.ts).
// createCollector (../collector.ts) opens it.
import { setMaxListeners } from "node:events";
import type { Server } from "node:http";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
  LogController,
} from "fastify";
import type { Logger } from "pino";
import type { CollectorConfig } from "../config.js";
import type { IngestCore } from "../core.js";
import { ShuttingDownError } from "../errors.js";
import { httpProxy } from "../proxy/http-proxy.js";
import { recordRoutes } from "../proxy/own-routes.js";
import { httpsOptions } from "../tls.js";
import { addAccessCheck } from "./access.js";
import { callRoute } from "./call-route.js";
import type { DoorContext } from "./context.js";
import { toHttpFailure } from "./errors.js";
import { eventsRoute } from "./events-route.js";
import { healthRoutes } from "./health-routes.js";
import { IngestFailedError } from "./ingest-request.js";
import { addJsonBodyParser } from "./json-body.js";
import { patientRegistry } from "./patient-registry.js";
import { sampleRoutes } from "./sample-routes.js";
import { schemaRoutes } from "./schema-routes.js";
import { dashboardRoutes } from "./ui/ui-routes.js";

export interface HttpDoorDependencies {
  readonly config: CollectorConfig;
  readonly logger: Logger;
}

export interface HttpDoor {
  /** Binds config.httpListen (port 0 picks a free one); resolves the port. */
  listen(): Promise<number>;
  /** Requests being served right now. */
  readonly inFlight: number;
  /** Stops accepting, lets requests in flight finish for up to the grace period. Idempotent. */
  close(graceMs: number): Promise<void>;
}

/** After the grace period, how long requests told to give up get to send their 503. */
const GIVE_UP_MS = 200;

function splitHostPort(listen: string): { host: string; port: number } {
  const at = listen.lastIndexOf(":");
  return {
    host: listen.slice(0, at).replace(/^\[(.*)\]$/, "$1"),
    port: Number(listen.slice(at + 1)),
  };
}

function createApp(config: CollectorConfig, logger: Logger): FastifyInstance {
  const options = {
    // Typed as fastify's logger interface so the instance is a plain FastifyInstance.
    loggerInstance: logger as FastifyBaseLogger,
    // No line per request: the error handler logs failures, at debug unless unexpected.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.maxMessageBytes,
    // Type names run to 255 characters (the registry's limit), more once percent-encoded.
    routerOptions: { maxParamLength: 1024 },
    // The door answers requests that arrive during shutdown itself, with Retry-After.
    return503OnClosing: false,
  };
  if (config.tls === undefined) return Fastify(options);
  // An HTTPS instance has the same API; only its server type parameter differs.
  return Fastify({ ...options, https: httpsOptions(config.tls) }) as unknown as FastifyInstance;
}

export function createHttpDoor(
  core: IngestCore,
  { config, logger }: HttpDoorDependencies,
): HttpDoor {
  const log = logger.child({ door: "http" });
  const app = createApp(config, log);
  const shutdown = new AbortController();
  // Every ingest request listens to it (context.ts): no leak warning past 10 of them.
  setMaxListeners(0, shutdown.signal);
  const context: DoorContext = {
    core,
    config,
    schemas: patientRegistry(core.schemas),
    shutdown: shutdown.signal,
  };
  let stopping = false;
  let inFlight = 0;
  let onIdle: (() => void) | undefined;

  const finished = () => {
    inFlight--;
    if (inFlight === 0 && onIdle !== undefined) onIdle();
  };

  // Callback-style hooks: an async hook costs a promise per request, every request.
  app.addHook("onRequest", (request: FastifyRequest, reply, done) => {
    inFlight++;
    reply.raw.once("close", finished);
    if (stopping && request.routeOptions.config.access !== "open") {
      done(new ShuttingDownError(0));
      return;
    }
    done();
  });
  // Once shutdown begins, every answer ends its connection, so closing need not wait for idle
  // keep-alive sockets.
  app.addHook("onSend", (_request, reply, payload, done) => {
    if (stopping) reply.header("connection", "close");
    done(null, payload);
  });
  addAccessCheck(app, config.tokens);

  app.setErrorHandler((error, request, reply) => {
    const failure = toHttpFailure(error, config);
    if (failure.unexpected) {
      const cause = error instanceof IngestFailedError ? error.cause : error;
      request.log.error({ err: cause }, "request failed");
    } else {
      request.log.debug({ status: failure.statusCode, reason: failure.body.error }, "refused");
    }
    return reply.code(failure.statusCode).headers(failure.headers).send(failure.body);
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send({ error: `no route ${request.method} ${request.url}`, code: "EP_HTTP_NOT_FOUND" }),
  );

  // Before any route: the proxy checks its prefixes against every route the door registers.
  const ownRoutes = recordRoutes(app);
  addJsonBodyParser(app);
  void app.register(healthRoutes(context));
  void app.register(eventsRoute(context));
  void app.register(callRoute(context));
  void app.register(schemaRoutes(context));
  void app.register(sampleRoutes(context));
  void app.register(dashboardRoutes(context));
  void app.register(httpProxy({ config, logger: log, ownRoutes }));

  /** Resolves once no request is in flight, or after `ms`. */
  const idleOr = (ms: number) =>
    new Promise<void>((resolve) => {
      if (inFlight === 0) return resolve();
      const timer = setTimeout(resolve, ms);
      timer.unref();
      onIdle = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  let closing: Promise<void> | undefined;
  return {
    get inFlight() {
      return inFlight;
    },
    async listen() {
      const { host, port } = splitHostPort(config.httpListen ?? "127.0.0.1:0");
      await app.listen({ host, port });
      const address = (app.server as Server).address();
      return typeof address === "object" && address !== null ? address.port : port;
    },
    close(graceMs) {
      closing ??= (async () => {
        stopping = true;
        // Stops listening and closes idle connections; resolves when every connection ended.
        const closed = app.close();
        await idleOr(graceMs);
        // Requests are done, or the grace period is over: those waiting for the event budget
        // give up with a 503; then whatever connections are left are cut.
        shutdown.abort();
        await idleOr(GIVE_UP_MS);
        (app.server as Server).closeAllConnections();
        await closed;
      })();
      return closing;
    },
  };
}
