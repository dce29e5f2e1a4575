// Request and reply through the pipeline: the gRPC Call RPC of a collector process, a worker
// process whose pipeline sends the route to the echo gRPC processor (its own process), and the
// answer back on the collector's reply channel. Driven open loop: a 1 ms timer starts every
// call that is due by the schedule, whether or not earlier ones have answered, and each
// latency runs from the call's scheduled start, so a stall shows as latency of every call it
// delayed (no coordinated omission).
import { randomUUID } from "node:crypto";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createEventClient } from "@eventpipe/producer";
import type { CallRequest, Event, EventServiceClient } from "@eventpipe/proto";
import { Outcome } from "@eventpipe/proto";
import { queueKeys } from "@eventpipe/queue";
import { Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { Pool } from "undici";
import { cleanUp, newQueue, redisCpuSeconds, startCollector, WORKER } from "./bench-services.js";
import { type Child, cpuSeconds, freePort, start, until, waitForOutput } from "./processes.js";
import { type PipelineFile, writePipelineFile } from "./processor-scenarios.js";
import type { BenchRedis } from "./redis-server.js";
import { webhookPayload } from "./webhook-payload.js";

const ECHO_PROCESSOR = "packages/echo-processor/dist/main.js";
/** Calls at the same rate before the measured ones, not recorded: connections, JIT. */
const WARM_UP_SECONDS = 1;
/**
 * Each call's gRPC deadline, so an overloaded run ends: a call past it counts with the
 * latency it had when it gave up (a lower bound), and is reported.
 */
export const CALL_DEADLINE_MS = 10_000;
const TICK_MS = 1;

export interface CallLatency {
  readonly calls: number;
  /** Calls that hit CALL_DEADLINE_MS; their latency counts as what they waited. */
  readonly timedOut: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Calls answered in time per second, from the first scheduled start to the last answer. */
  readonly perSecond: number;
  /** This (the calling) process's event-loop delay p99 while measuring, in ms. */
  readonly clientLoopDelayP99Ms: number;
  /** CPU microseconds per call of each process while measuring: on 2 cores, their sum bounds the rate. */
  readonly cpuMicros: {
    readonly caller: number;
    readonly collector: number;
    readonly worker: number;
    readonly echoProcessor: number;
    readonly redis: number;
  };
}

/** Which door the calls go through: the gRPC Call RPC, or POST /v1/call. */
export type CallDoor = "grpc" | "http";

/** Starts call number n; resolves on its echoed answer, rejects with what went wrong. */
type CallOnce = (n: number) => Promise<void>;

/** A deadline-exceeded call, either door: counted apart, with what it waited. */
class PastDeadline extends Error {}

/** POST /v1/call over a keep-alive pool; 504 is the door's DEADLINE_EXCEEDED. */
function httpCaller(pool: Pool): CallOnce {
  return async (n) => {
    const eventId = randomUUID();
    const payload = webhookPayload(n);
    const response = await pool.request({
      path: "/v1/call",
      method: "POST",
      headers: {
        "content-type": "application/json",
        "eventpipe-timeout-ms": String(CALL_DEADLINE_MS),
      },
      body: `{"eventId":"${eventId}","type":"${n % 2 ? "page_view" : "user_login"}","source":"bench-call","payload":${payload.toString()}}`,
    });
    const body = await response.body.text();
    if (response.statusCode === 504) throw new PastDeadline();
    if (response.statusCode !== 200 || response.headers["eventpipe-event-id"] !== eventId) {
      throw new Error(`call ${n}: HTTP ${response.statusCode} ${body.slice(0, 200)}`);
    }
  };
}

/** Resolves on the echoed reply; rejects with the gRPC ServiceError or a wrong reply. */
function callOnce(client: EventServiceClient, n: number): Promise<void> {
  const event: Event = {
    eventId: randomUUID(),
    type: n % 2 ? "page_view" : "user_login",
    timestamp: BigInt(Date.now()),
    payload: webhookPayload(n),
    source: "bench-call",
    attributes: {},
    schemaVersion: 0,
    partitionKey: "",
  };
  const request: CallRequest = { event };
  return new Promise((resolve, reject) => {
    client.call(
      request,
      new Metadata(),
      { deadline: Date.now() + CALL_DEADLINE_MS },
      (error, reply) => {
        if (error) return reject(error);
        if (reply.outcome !== Outcome.OUTCOME_SUCCESS || reply.eventId !== event.eventId) {
          return reject(new Error(`call ${n}: unexpected reply ${JSON.stringify(reply)}`));
        }
        resolve();
      },
    );
  });
}

/**
 * `perSecond * seconds` calls started on schedule; resolves each one's latency in ms, from
 * its scheduled start to its answer, and when the last answer came.
 */
async function openLoop(
  call: CallOnce,
  perSecond: number,
  seconds: number,
): Promise<{ latencies: Float64Array; timedOut: number; startedAt: number; endedAt: number }> {
  const total = Math.round(perSecond * seconds);
  const latencies = new Float64Array(total);
  const calls: Promise<void>[] = [];
  let timedOut = 0;
  let failed = 0;
  let firstFailure: string | undefined;
  const startedAt = performance.now();
  let endedAt = startedAt;
  await new Promise<void>((resolve) => {
    const startDue = () => {
      // Call n is due at n / perSecond seconds.
      const elapsedMs = performance.now() - startedAt;
      const due = Math.min(total, Math.floor((elapsedMs * perSecond) / 1000) + 1);
      while (calls.length < due) {
        const n = calls.length;
        const scheduled = startedAt + (n * 1000) / perSecond;
        calls.push(
          call(n).then(
            () => {
              endedAt = performance.now();
              latencies[n] = endedAt - scheduled;
            },
            (error: unknown) => {
              if (
                error instanceof PastDeadline ||
                (error as Partial<ServiceError>).code === status.DEADLINE_EXCEEDED
              ) {
                latencies[n] = performance.now() - scheduled;
                timedOut++;
                return;
              }
              failed++;
              firstFailure ??= `call ${n}: ${(error as Error).message}`;
            },
          ),
        );
      }
      if (calls.length === total) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(startDue, TICK_MS);
    startDue();
  });
  await Promise.all(calls);
  if (failed > 0) {
    throw new Error(
      `${failed} of ${total} calls failed (besides ${timedOut} past the deadline); the first: ${firstFailure}`,
    );
  }
  return { latencies, timedOut, startedAt, endedAt };
}

/** Nearest-rank percentile of sorted samples. */
function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

export async function callLatency(
  redis: BenchRedis,
  perSecond: number,
  seconds: number,
  door: CallDoor = "grpc",
): Promise<CallLatency> {
  const queue = newQueue("call");
  const children: Child[] = [];
  let pipeline: PipelineFile | undefined;
  let client: EventServiceClient | undefined;
  let pool: Pool | undefined;
  try {
    const echoPort = await freePort();
    const echo = start(ECHO_PROCESSOR, [], { ECHO_LISTEN: `127.0.0.1:${echoPort}` });
    children.push(echo);
    await waitForOutput(echo, "echo processor listening");
    pipeline = writePipelineFile({
      routes: [{ name: "default", types: ["*"], queue }],
      processors: [{ route: "default", grpc: { address: `127.0.0.1:${echoPort}` } }],
    });
    const worker = start(WORKER, [], {
      REDIS_URL: redis.url,
      EVENTPIPE_CONFIG: pipeline.file,
      WORKER_ID: `${queue}-w0`,
    });
    children.push(worker);
    const collector = await startCollector(
      redis,
      queue,
      { EVENTPIPE_CONFIG: pipeline.file },
      { http: door === "http" },
    );
    children.push(collector.child);
    await until(
      "the worker",
      async () => {
        if (worker.child.exitCode !== null) throw new Error(`worker exited:\n${worker.output()}`);
        return (await redis.client.zcard(queueKeys(queue).workers)) === 1;
      },
      15_000,
    );

    let call: CallOnce;
    if (door === "http") {
      pool = new Pool(`http://${collector.httpAddress}`, { connections: 64 });
      call = httpCaller(pool);
    } else {
      const grpcClient = createEventClient({ address: collector.address });
      client = grpcClient;
      call = (n) => callOnce(grpcClient, n);
    }
    await openLoop(call, perSecond, WARM_UP_SECONDS);
    const cpuNow = async () => ({
      caller: process.cpuUsage(),
      collector: cpuSeconds(collector.child.child.pid!),
      worker: cpuSeconds(worker.child.pid!),
      echoProcessor: cpuSeconds(echo.child.pid!),
      redis: await redisCpuSeconds(redis),
    });
    const loopDelay = monitorEventLoopDelay({ resolution: 1 });
    const before = await cpuNow();
    loopDelay.enable();
    const { latencies, timedOut, startedAt, endedAt } = await openLoop(call, perSecond, seconds);
    loopDelay.disable();
    const after = await cpuNow();
    const callerCpu = process.cpuUsage(before.caller);
    const micros = (cpu: number) => (cpu * 1e6) / latencies.length;
    const used = (name: Exclude<keyof typeof after, "caller">) =>
      micros(after[name] - before[name]);
    latencies.sort();
    return {
      calls: latencies.length,
      timedOut,
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
      max: latencies.at(-1) ?? Number.NaN,
      perSecond: ((latencies.length - timedOut) * 1000) / (endedAt - startedAt),
      clientLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
      cpuMicros: {
        caller: micros((callerCpu.user + callerCpu.system) / 1e6),
        collector: used("collector"),
        worker: used("worker"),
        echoProcessor: used("echoProcessor"),
        redis: used("redis"),
      },
    };
  } finally {
    client?.close();
    await pool?.close();
    await cleanUp(redis, children);
    pipeline?.remove();
  }
}
