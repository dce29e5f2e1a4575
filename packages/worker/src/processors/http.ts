// The HTTP processor: a REST endpoint as a consumer. Each event becomes one request over a
// keep-alive pool, signed the Standard Webhooks way; the answer becomes a result, a retry or
// a dead letter. The body is the payload (format raw) or the event as a CloudEvent
// (cloudevents-out.ts); the signature covers whichever body is sent.
import type { HttpProcessorOptions as HttpTargetOptions } from "@eventpipe/pipeline";
import type { Event } from "@eventpipe/proto";
import { type Dispatcher, Pool } from "undici";
import type { EventContext, EventHandler } from "../handler.js";
import {
  type CloudEventEncoder,
  cloudEventEncoder,
  defaultCloudEventSource,
} from "./cloudevents-out.js";
import { send, toResult } from "./http-exchange.js";
import { signWithKey, webhookKey } from "./signing.js";

export interface HttpProcessorOptions {
  readonly url: string;
  readonly method: string;
  /** Bounds connecting, the wait for the answer's headers, and each wait within its body. */
  readonly timeoutMs: number;
  readonly headers: Readonly<Record<string, string>>;
  /** "whsec_<base64>" (or any string, used as UTF-8): adds a `webhook-signature` header. */
  readonly signingSecret?: string;
  /** Sockets in the pool: the processor's concurrency. */
  readonly connections: number;
  /** A 4xx other than 408/429 resolves as an "error" result instead of dead-lettering the event. */
  readonly errorAnswersAreResults: boolean;
  /** raw (also when absent): the payload as the body; cloudevents-*: see cloudevents-out.ts. */
  readonly format?: HttpTargetOptions["format"];
  /** The processor's queue: the CloudEvents source of events sent without one. */
  readonly queue?: string;
}

export interface HttpProcessor {
  readonly handler: EventHandler;
  /** Closes the pool; idempotent. */
  close(): Promise<void>;
}

/** close() waits this long for requests in flight, then destroys the pool. */
const CLOSE_BOUND_MS = 5_000;

export function createHttpProcessor(options: HttpProcessorOptions): HttpProcessor {
  const url = new URL(options.url);
  // undici sends any method token; its type only lists the common ones.
  const method = options.method.toUpperCase() as Dispatcher.HttpMethod;
  // Messages name the URL without its query, which may carry a token.
  const target = `${url.origin}${url.pathname}`;
  const exchange = `${method} ${target}`;
  // Decoded once (a bad secret fails at start), not for every request.
  const signingKey =
    options.signingSecret === undefined ? undefined : webhookKey(options.signingSecret);
  const configured = Object.fromEntries(
    Object.entries(options.headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
  const format = options.format ?? "raw";
  if (format !== "raw" && (method === "GET" || method === "HEAD")) {
    throw new TypeError(`format ${format} sends each event in the body; ${method} sends none`);
  }
  // undefined for raw: today's path, untouched.
  const toCloudEvent: CloudEventEncoder | undefined =
    format === "raw"
      ? undefined
      : cloudEventEncoder(format, defaultCloudEventSource(options.queue));
  const pool = new Pool(url.origin, {
    connections: options.connections,
    pipelining: 1,
    connect: { timeout: options.timeoutMs },
  });
  // Timeouts are undici's own (connect, headers, body): no timer, controller or listener per
  // request, which cost this processor a tenth of its time. Shutdown, when the worker's grace
  // period runs out, destroys the pool and with it every request in flight.
  const shutdown = { started: false };
  let watched: AbortSignal | undefined;
  const watch = (signal: AbortSignal) => {
    if (signal === watched) return;
    watched = signal;
    const stop = () => {
      shutdown.started = true;
      void pool.destroy().catch(() => undefined);
    };
    if (signal.aborted) stop();
    else signal.addEventListener("abort", stop, { once: true });
  };

  const handler: EventHandler = async (event, ctx) => {
    watch(ctx.signal);
    let body: Uint8Array | undefined;
    let headers: Record<string, string>;
    if (toCloudEvent === undefined) {
      body = method === "GET" || method === "HEAD" ? undefined : event.payload;
      headers = requestHeaders(event, ctx, configured, body, signingKey);
    } else {
      const message = toCloudEvent(event);
      body = message.body;
      headers = requestHeaders(event, ctx, configured, body, signingKey, message.headers);
    }
    const answer = await send(pool, exchange, options.timeoutMs, shutdown, {
      path: `${url.pathname}${url.search}`,
      method,
      headers,
      body,
    });
    return toResult(answer, target, options.errorAnswersAreResults);
  };

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= closePool(pool);
    return closing;
  };
  return { handler, close };
}

function requestHeaders(
  event: Event,
  ctx: EventContext,
  configured: Readonly<Record<string, string>>,
  body: Uint8Array | undefined,
  signingKey: Buffer | undefined,
  /** A CloudEvent's own headers: they replace content-type (and any configured ce- header). */
  cloudEventHeaders?: Readonly<Record<string, string>>,
): Record<string, string> {
  const timestampSeconds = Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    ...configured,
    "eventpipe-event-type": event.type,
    "eventpipe-attempt": String(ctx.attempt),
    // The event id, stable across retries: the receiver deduplicates on it.
    "webhook-id": event.eventId,
    "webhook-timestamp": String(timestampSeconds),
  };
  if (cloudEventHeaders !== undefined) {
    // Binary mode without data sends no content-type: a configured one would describe nothing.
    delete headers["content-type"];
    Object.assign(headers, cloudEventHeaders);
  } else if (body !== undefined) {
    // datacontenttype: the media type of an event that came in as a CloudEvent.
    headers["content-type"] =
      event.attributes["content-type"] ??
      event.attributes.datacontenttype ??
      configured["content-type"] ??
      sniffContentType(body);
  }
  if (signingKey !== undefined) {
    headers["webhook-signature"] = signWithKey(
      signingKey,
      event.eventId,
      timestampSeconds,
      body ?? "",
    );
  }
  return headers;
}

/** JSON when the first non-whitespace byte opens an object or an array; bytes otherwise. */
function sniffContentType(body: Uint8Array): string {
  for (const byte of body) {
    if (byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d) continue;
    return byte === 0x7b || byte === 0x5b ? "application/json" : "application/octet-stream";
  }
  return "application/octet-stream";
}

async function closePool(pool: Pool): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(resolve, CLOSE_BOUND_MS, "late");
  });
  // A pool already destroyed (shutdown's grace ran out) refuses to close: it is closed.
  const closed = pool.close().then(
    () => "closed" as const,
    () => "closed" as const,
  );
  const outcome = await Promise.race([closed, late]);
  clearTimeout(timer);
  if (outcome === "late") await pool.destroy().catch(() => undefined);
}
