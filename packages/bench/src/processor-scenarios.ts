// The HTTP processor against its ceiling: the same node:http echo server (echo-http-server.ts,
// a fresh process per run) answers a plain undici loop (http-ceiling.ts) and a worker process
// whose pipeline file sends every event of a pre-filled queue to it.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Event } from "@eventpipe/proto";
import { createQueueStore, type EnqueueEntry, encodeNewEvent, queueKeys } from "@eventpipe/queue";
import { cleanUp, newQueue, redisCpuSeconds, WORKER } from "./bench-services.js";
import { type Child, cpuSeconds, freePort, start, until, waitForOutput } from "./processes.js";
import type { BenchRedis } from "./redis-server.js";
import { webhookPayload } from "./webhook-payload.js";

const ECHO_HTTP = "packages/bench/dist/echo-http-server.js";
const HTTP_CEILING = "packages/bench/dist/http-ceiling.js";
const FILL_CHUNK = 1000;
const LIMIT_MS = 600_000;
/** How often the drain is polled: the figure's timing resolution. */
const POLL_MS = 10;

export interface HttpFigures {
  /** Requests (ceiling) or events (worker) per second. */
  readonly perSecond: number;
  /** CPU microseconds per request of each process that took part. */
  readonly cpuMicros: {
    /** The undici loop, or the worker process. */
    readonly client: number;
    readonly echoServer: number;
    /** 0 for the ceiling, which does not use Redis. */
    readonly redis: number;
  };
}

async function startEchoHttp(): Promise<{ server: Child; url: string }> {
  const port = await freePort();
  const server = start(ECHO_HTTP, [String(port)], {});
  await waitForOutput(server, "echo http server listening");
  return { server, url: `http://127.0.0.1:${port}/hook` };
}

export interface PipelineFile {
  readonly file: string;
  /** Removes the file and its folder. */
  remove(): void;
}

/** A pipeline file in a new temporary folder; JSON is YAML, so services read it as is. */
export function writePipelineFile(pipeline: object): PipelineFile {
  const dir = mkdtempSync(join(tmpdir(), "eventpipe-bench-pipeline-"));
  const file = join(dir, "pipeline.yaml");
  writeFileSync(file, `${JSON.stringify(pipeline, null, 2)}\n`);
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The ceiling: `requests` POSTs of the undici loop, `connections` at a time. */
export async function httpCeiling(
  redis: BenchRedis,
  requests: number,
  connections: number,
): Promise<HttpFigures> {
  const echo = await startEchoHttp();
  const children = [echo.server];
  try {
    const echoBefore = cpuSeconds(echo.server.child.pid!);
    const load = start(
      HTTP_CEILING,
      ["--url", echo.url, "--count", String(requests), "--connections", String(connections)],
      {},
    );
    children.push(load);
    const code = await load.exited;
    const echoCpu = cpuSeconds(echo.server.child.pid!) - echoBefore;
    const summary = JSON.parse(load.output().trim().split("\n").pop() ?? "{}") as {
      requests?: number;
      seconds?: number;
      loopCpuSeconds?: number;
    };
    if (code !== 0 || summary.requests !== requests || !summary.seconds) {
      throw new Error(`the undici ceiling failed:\n${load.output().slice(-2000)}`);
    }
    const micros = (seconds: number) => (seconds * 1e6) / requests;
    return {
      perSecond: requests / summary.seconds,
      cpuMicros: {
        client: micros(summary.loopCpuSeconds ?? Number.NaN),
        echoServer: micros(echoCpu),
        redis: 0,
      },
    };
  } finally {
    await cleanUp(redis, children);
  }
}

/** Queues `events` ~200-byte JSON events with the queue library, in chunks (not timed). */
async function fill(redis: BenchRedis, queue: string, events: number): Promise<void> {
  const store = createQueueStore(redis.client, queueKeys(queue));
  const now = Date.now();
  for (let first = 0; first < events; first += FILL_CHUNK) {
    const entries: EnqueueEntry[] = [];
    for (let n = first; n < Math.min(events, first + FILL_CHUNK); n++) {
      const event: Event = {
        eventId: randomUUID(),
        type: n % 2 ? "page_view" : "user_login",
        timestamp: BigInt(now),
        payload: webhookPayload(n),
        source: "bench",
        attributes: {},
        schemaVersion: 0,
        partitionKey: "",
      };
      entries.push({ eventId: event.eventId, envelope: encodeNewEvent(event, now) });
    }
    const { stored } = await store.enqueue(entries, { dedupWindowMs: 0, maxBacklog: 0 });
    if (stored !== entries.length) throw new Error(`queued ${stored} of ${entries.length} events`);
  }
}

interface DrainState {
  readonly registered: boolean;
  readonly pending: number;
  readonly inFlight: number;
  readonly processed: number;
  readonly deadLettered: number;
  readonly retried: number;
}

async function drainState(redis: BenchRedis, queue: string, workerId: string): Promise<DrainState> {
  const keys = queueKeys(queue);
  const replies = await redis.client
    .pipeline()
    .zcard(keys.workers)
    .llen(keys.pending)
    .hlen(keys.inflight(workerId))
    .hmget(keys.stats, "processed", "deadLettered", "retried")
    .exec();
  const values = (replies ?? []).map(([error, value]) => {
    if (error) throw error;
    return value;
  });
  const [processed, deadLettered, retried] = values[3] as (string | null)[];
  return {
    registered: Number(values[0]) > 0,
    pending: Number(values[1]),
    inFlight: Number(values[2]),
    processed: Number(processed ?? 0),
    deadLettered: Number(deadLettered ?? 0),
    retried: Number(retried ?? 0),
  };
}

/**
 * `events` queued beforehand, then one worker process whose HTTP processor POSTs each to the
 * echo server, `connections` at a time; with `results`, every answer is stored in a result
 * queue too. Timed from the worker's registration (its start-up aside) to the queue drained:
 * nothing pending, nothing in flight, every event processed.
 */
export async function httpProcessorDrain(
  redis: BenchRedis,
  events: number,
  connections: number,
  { results = false } = {},
): Promise<HttpFigures> {
  const queue = newQueue("http_processor");
  const resultsQueue = `${queue}_results`;
  const workerId = `${queue}-w0`;
  const children: Child[] = [];
  let pipeline: PipelineFile | undefined;
  try {
    await fill(redis, queue, events);
    const echo = await startEchoHttp();
    children.push(echo.server);
    pipeline = writePipelineFile({
      routes: [{ name: "default", types: ["*"], queue }],
      processors: [
        {
          route: "default",
          http: { url: echo.url },
          concurrency: connections,
          ...(results ? { results: { queue: resultsQueue, when: ["onSuccess"] } } : {}),
        },
      ],
    });
    const worker = start(WORKER, [], {
      REDIS_URL: redis.url,
      EVENTPIPE_CONFIG: pipeline.file,
      WORKER_ID: workerId,
    });
    children.push(worker);

    let started: number | undefined;
    let before = { worker: 0, echo: 0, redis: 0 };
    await until(
      "the HTTP processor's drain",
      async () => {
        if (worker.child.exitCode !== null) throw new Error(`worker exited:\n${worker.output()}`);
        const state = await drainState(redis, queue, workerId);
        // The echo server answers 200 to everything: a retry or a dead letter means a broken
        // run, and waiting out retry delays would only hide it.
        if (state.deadLettered > 0 || state.retried > 0) {
          throw new Error(
            `${state.retried} retries and ${state.deadLettered} dead letters; the worker said:\n${worker.output().slice(-2000)}`,
          );
        }
        if (started === undefined && (state.registered || state.processed > 0)) {
          started = performance.now();
          before = {
            worker: cpuSeconds(worker.child.pid!),
            echo: cpuSeconds(echo.server.child.pid!),
            redis: await redisCpuSeconds(redis),
          };
        }
        return state.processed >= events && state.pending === 0 && state.inFlight === 0;
      },
      LIMIT_MS,
      POLL_MS,
    );
    const seconds = (performance.now() - started!) / 1000;
    const micros = (cpu: number) => (cpu * 1e6) / events;
    const cpuMicros = {
      client: micros(cpuSeconds(worker.child.pid!) - before.worker),
      echoServer: micros(cpuSeconds(echo.server.child.pid!) - before.echo),
      redis: micros((await redisCpuSeconds(redis)) - before.redis),
    };
    if (results) {
      const stored = await redis.client.llen(queueKeys(resultsQueue).pending);
      if (stored !== events) throw new Error(`the result queue holds ${stored} of ${events}`);
    }
    return { perSecond: events / seconds, cpuMicros };
  } finally {
    await cleanUp(redis, children);
    pipeline?.remove();
  }
}
