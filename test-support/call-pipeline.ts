// Request and reply through the whole pipeline: the Call RPC and POST /v1/call on in-process
// collectors that share one Redis and one set of pipeline workers (createPipelineWorkers on a
// real pipeline file). Processors: the echo gRPC processor, an HTTP endpoint on 127.0.0.1, and
// a handler module that records every event it is handed and can hold an event until the test
// lets it go (a gate), so "still waiting" and "processed once" are conditions, not timings.
// Each test file that calls useCallPipeline() gets a pipeline of its own (queues, collector and
// worker ids, temp dir, recorder state), so files can run in parallel on the shared redis-server.
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { text } from "node:stream/consumers";
import { credentials, Metadata, type ServiceError } from "@grpc/grpc-js";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, expect } from "vitest";
import { type EchoProcessor, startEchoProcessor } from "../packages/echo-processor/src/index.js";
import { type CallReply, type Event, EventServiceClient } from "../packages/proto/src/index.js";
import { decodeEnvelope, queueKeys, readQueueStats } from "../packages/queue/src/index.js";
import {
  connectWorkerRedis,
  createLogger,
  createPipelineWorkers,
  type PipelineWorkers,
  readWorkerConfig,
} from "../packages/worker/src/index.js";
import { startTestCollector, type TestCollector, uniqueQueueName } from "./collector.js";
import { useSharedRedis } from "./shared-redis.js";

/** Bound of every wait on a condition; far above what any of them needs. */
export const WAIT_MS = 20_000;
/** Deadline of calls that are expected to be answered. */
export const CALL_DEADLINE_MS = 30_000;

// ---------------------------------------------------------------------------------------------
// The recording module processor. The worker loads it with a dynamic import in this process,
// so it shares globalThis with the test: the test reads what it handled and opens its gates.

interface RecorderState {
  /** Event ids, one entry per handler run. */
  readonly handled: string[];
  /** Event id -> a promise the handler waits for before it answers. */
  readonly gates: Map<string, Promise<void>>;
}

const recorderModule = (stateKey: string) => `// Written by test-support/call-pipeline.ts.
const state = globalThis[Symbol.for(${JSON.stringify(stateKey)})];
export default async function handle(event) {
  state.handled.push(event.eventId);
  const gate = state.gates.get(event.eventId);
  if (gate !== undefined) await gate;
  return {
    outcome: "success",
    status: 202,
    body: Buffer.from("handled " + event.eventId),
    headers: { "content-type": "text/plain; charset=utf-8" },
  };
}
`;

// ---------------------------------------------------------------------------------------------
// The HTTP processors' endpoint: 201 with a JSON body naming what it received; 404 for
// web.missing events; 422 for form.invalid ones. It counts requests per webhook-id (the event id).

export const WEB_CONTENT_TYPE = "application/vnd.eventpipe-test+json";
export const PROBLEM_CONTENT_TYPE = "application/problem+json";

function startWebProcessor(webRequests: Map<string, number>): Promise<Server> {
  const server = createServer((request, response) => {
    void text(request).then((body) => {
      const id = String(request.headers["webhook-id"]);
      webRequests.set(id, (webRequests.get(id) ?? 0) + 1);
      const type = request.headers["eventpipe-event-type"];
      if (type === "web.missing") {
        response.writeHead(404, { "content-type": "text/plain" }).end("no such thing");
        return;
      }
      if (type === "form.invalid") {
        response
          .writeHead(422, { "content-type": PROBLEM_CONTENT_TYPE })
          .end(JSON.stringify({ title: "invalid form", seen: id }));
        return;
      }
      response
        .writeHead(201, { "content-type": WEB_CONTENT_TYPE, "x-processor": "web" })
        .end(JSON.stringify({ seen: id, body }));
    });
  });
  server.listen(0, "127.0.0.1");
  return once(server, "listening").then(() => server);
}

// ---------------------------------------------------------------------------------------------
// Calling: helpers that need no pipeline state.

type Client = InstanceType<typeof EventServiceClient>;

export type GrpcOutcome =
  | { readonly reply: CallReply; readonly error?: undefined }
  | { readonly error: ServiceError; readonly reply?: undefined };

/** The Call RPC; `event` undefined sends a CallRequest without one. */
export function grpcCall(
  client: Client,
  event: Event | undefined,
  deadlineMs = CALL_DEADLINE_MS,
): Promise<GrpcOutcome> {
  return new Promise((resolve) => {
    client.call({ event }, new Metadata(), { deadline: Date.now() + deadlineMs }, (error, reply) =>
      resolve(error ? { error } : { reply }),
    );
  });
}

export function eventOf(type: string, fields: Partial<Omit<Event, "type">> = {}): Event {
  return {
    eventId: `call-${randomUUID()}`,
    type,
    timestamp: BigInt(Date.now()),
    payload: Buffer.alloc(0),
    source: "call.test",
    attributes: {},
    schemaVersion: 0,
    partitionKey: "",
    ...fields,
  };
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/** POST /v1/call with one JSON event (or any JSON value). */
export async function httpCall(
  collector: TestCollector,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  const response = await fetch(`${collector.httpUrl}/v1/call`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(CALL_DEADLINE_MS),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

// ---------------------------------------------------------------------------------------------
// The parts of a pipeline known before it starts, and the helpers bound to them.

function pipelineParts(redisUrl: string, redis: Redis) {
  // Keeps this pipeline's queues, ids and globalThis key apart from any other's, pid or not.
  const run = randomUUID().slice(0, 8);
  const recorder: RecorderState = { handled: [], gates: new Map() };
  const gateOpeners = new Map<string, () => void>();
  const clients: Client[] = [];
  const timesHandled = (eventId: string) => recorder.handled.filter((id) => id === eventId).length;
  const openGate = (eventId: string) => {
    gateOpeners.get(eventId)?.();
    gateOpeners.delete(eventId);
  };
  return {
    redisUrl,
    /** A client of the shared redis-server, for checks. */
    redis,
    recorder,
    /** Requests the web processor got, per webhook-id (the event id). */
    webRequests: new Map<string, number>(),
    queues: {
      echo: uniqueQueueName(`call_${run}_echo`),
      web: uniqueQueueName(`call_${run}_web`),
      webResults: uniqueQueueName(`call_${run}_web_results`),
      form: uniqueQueueName(`call_${run}_form`),
      formResults: uniqueQueueName(`call_${run}_form_results`),
      recorded: uniqueQueueName(`call_${run}_recorded`),
      /** A route without a processor in the pipeline: a worker process of its own serves it. */
      loose: uniqueQueueName(`call_${run}_loose`),
      fallback: uniqueQueueName(`call_${run}_default`),
    },
    /** A COLLECTOR_ID / WORKER_ID that no other pipeline uses. */
    instanceId: (name: string) => `call-test-${process.pid}-${run}-${name}`,
    /** The recorder holds `eventId` until openGate(eventId). */
    closeGate(eventId: string): void {
      const gate = new Promise<void>((resolve) => {
        gateOpeners.set(eventId, resolve);
      });
      recorder.gates.set(eventId, gate);
    },
    openGate,
    timesHandled,
    /** Lets every held event go and closes every client: the end of the file's tests. */
    release(): void {
      for (const id of [...gateOpeners.keys()]) openGate(id);
      for (const client of clients) client.close();
    },
    /** A client of `collector`, closed after the file's tests. */
    clientOf(collector: TestCollector): Client {
      const client = new EventServiceClient(collector.address, credentials.createInsecure());
      clients.push(client);
      return client;
    },
    /** The events waiting in `queue` (a result queue nobody reads), oldest first. */
    async eventsIn(queue: string): Promise<Event[]> {
      const entries = await redis.lrangeBuffer(queueKeys(queue).pending, 0, -1);
      return entries.reverse().map((raw) => decodeEnvelope(raw).stored.event!);
    },
    /** Waits until `eventId` reached the recorder (so its call is waiting for the answer). */
    async untilHandled(eventId: string): Promise<void> {
      await expect
        .poll(() => timesHandled(eventId), { timeout: WAIT_MS, interval: 10 })
        .toBeGreaterThan(0);
    },
    /**
     * Waits until `queue` has processed `count` events of `type` and holds nothing of any kind
     * (pending, in flight, waiting for a retry): from then on no event of it can run again.
     */
    async untilDrained(queue: string, type: string, count: number): Promise<void> {
      await expect
        .poll(
          async () => {
            const stats = await readQueueStats(redis, queueKeys(queue));
            return {
              processed: stats.byType[type] ?? 0,
              pending: stats.pending,
              inFlight: stats.inFlight,
              retriesWaiting: stats.retriesWaiting,
            };
          },
          { timeout: WAIT_MS, interval: 25 },
        )
        .toEqual({ processed: count, pending: 0, inFlight: 0, retriesWaiting: 0 });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The pipeline: its file, its workers, its collectors.

export interface CallPipeline extends ReturnType<typeof pipelineParts> {
  /** The pipeline's temp dir: pipeline.yaml, recorder.mjs. */
  readonly dir: string;
  readonly echo: EchoProcessor;
  /** Two collectors of one deployment: the round trips go through both. */
  readonly a: TestCollector;
  readonly b: TestCollector;
  /** A collector whose CALL_TIMEOUT_MS is short: its own DEADLINE_EXCEEDED, not the client's. */
  readonly short: TestCollector;
  /** A collector that lets one call wait at a time. */
  readonly narrow: TestCollector;
}

/** Registers setup and cleanup hooks; call the returned function inside a test. */
export function useCallPipeline(): () => CallPipeline {
  const { redisUrl, redis } = useSharedRedis();
  const parts = pipelineParts(redisUrl, redis);
  const { queues, instanceId } = parts;
  // The recorder module's globalThis key, as unique as the pipeline's ids.
  const recorderKey = Symbol.for(`eventpipe.${instanceId("recorder")}`);
  let dir: string;
  let echo: EchoProcessor;
  let web: Server;
  let workerRedis: Redis;
  let workers: PipelineWorkers;
  let pipeline: CallPipeline | undefined;

  beforeAll(async () => {
    (globalThis as Record<symbol, unknown>)[recorderKey] = parts.recorder;
    dir = mkdtempSync(join(tmpdir(), "eventpipe-call-"));
    echo = await startEchoProcessor({ port: 0 });
    web = await startWebProcessor(parts.webRequests);
    const webPort = (web.address() as AddressInfo).port;
    writeFileSync(join(dir, "recorder.mjs"), recorderModule(recorderKey.description!));
    const pipelineFile = join(dir, "pipeline.yaml");
    writeFileSync(
      pipelineFile,
      `routes:
  - { name: echo, types: ["echo.*"], queue: ${queues.echo} }
  - { name: web, types: ["web.*"], queue: ${queues.web} }
  - { name: form, types: ["form.*"], queue: ${queues.form} }
  - { name: recorded, types: ["recorded.*"], queue: ${queues.recorded} }
  - { name: loose, types: ["loose.*"], queue: ${queues.loose} }
  - { name: default, types: ["*"], queue: ${queues.fallback} }
processors:
  - route: echo
    grpc: { address: "${echo.address}" }
  - route: web
    http: { url: "http://127.0.0.1:${webPort}/hook" }
    results: { queue: ${queues.webResults}, when: [onSuccess] }
  - route: form
    http: { url: "http://127.0.0.1:${webPort}/form" }
    results: { queue: ${queues.formResults}, when: [onSuccess, onError] }
  - route: recorded
    module: ./recorder.mjs
`,
    );

    const config = readWorkerConfig({
      REDIS_URL: redisUrl,
      EVENTPIPE_CONFIG: pipelineFile,
      WORKER_ID: instanceId("workers"),
      WORKER_BLOCK_TIMEOUT_MS: "200",
      WORKER_CONCURRENCY: "128",
      MAX_ATTEMPTS: "3",
    });
    workerRedis = connectWorkerRedis(config);
    workerRedis.on("error", () => {});
    workers = await createPipelineWorkers({
      redis: workerRedis,
      config,
      logger: createLogger("silent", "worker"),
    });
    await workers.start();

    const collector = (id: string, env: Record<string, string> = {}) =>
      startTestCollector(redisUrl, queues.fallback, {
        EVENTPIPE_CONFIG: pipelineFile,
        COLLECTOR_ID: instanceId(id),
        ...env,
      });
    const [a, b, short, narrow] = await Promise.all([
      collector("a"),
      collector("b"),
      collector("short", { CALL_TIMEOUT_MS: "300" }),
      collector("narrow", { MAX_WAITING_CALLS: "1" }),
    ]);
    pipeline = { ...parts, dir, echo, a, b, short, narrow };
  });

  afterAll(async () => {
    const { a, b, short, narrow } = pipeline ?? {};
    pipeline = undefined;
    parts.release();
    await Promise.all([a, b, short, narrow].map((collector) => collector?.close()));
    await workers?.close(2000);
    workerRedis?.disconnect();
    await echo?.close();
    web?.closeAllConnections();
    web?.close();
    rmSync(dir, { recursive: true, force: true });
    delete (globalThis as Record<symbol, unknown>)[recorderKey];
  });

  return () => {
    if (pipeline === undefined) throw new Error("useCallPipeline(): call it inside a test");
    return pipeline;
  };
}
