// One pipeline run per test: a temporary folder for pipeline files, real collector, worker and
// echo-processor processes, in-test HTTP receivers, and readers for what a run leaves in Redis
// (results as decoded events, dead letters, an audit by id). Tests share the suite's
// redis-server and isolate themselves by queue name; everything a test starts is stopped in
// afterEach, whatever the test did.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { afterEach, beforeEach, inject } from "vitest";
import {
  Ledger,
  type LedgerVerdict,
  recordingAcks,
  type ServiceProcess,
  spawnService,
  startCollectorProcess,
  waitUntilDrained,
} from "../packages/faults/src/index.js";
import { createProducer, type ProducerTotals } from "../packages/producer/src/index.js";
import type { Event } from "../packages/proto/src/index.js";
import {
  auditQueue,
  type DeadLetter,
  decodeEnvelope,
  listDeadLetters,
  type QueueAudit,
  queueKeys,
} from "../packages/queue/src/index.js";
import { startNodeProcess, until, waitForOutput } from "../packages/testkit/src/index.js";
import { uniqueQueueName } from "./collector.js";
import { freePort } from "./redis-server.js";

const ECHO_PROCESSOR = fileURLToPath(
  new URL("../packages/echo-processor/dist/main.js", import.meta.url),
);
/** Bound on a service's start: a node process on two busy cores. */
const START_TIMEOUT_MS = 15_000;

/** One request an in-test HTTP receiver got, body read in full. */
export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface TestHttpServer {
  /** http://127.0.0.1:<port> */
  readonly origin: string;
  /** Every request, in arrival order (a request is listed once its body has arrived). */
  readonly requests: readonly ReceivedRequest[];
  /** Requests whose `webhook-id` header is `id`, in arrival order. */
  requestsFor(id: string): ReceivedRequest[];
}

/** Answers one request; may leave `res` unanswered (a server that hangs). */
export type Responder = (request: ReceivedRequest, res: ServerResponse) => void;

export interface SendResult {
  /** Every id handed to the producer, in order. */
  readonly sent: readonly string[];
  /** Ids the collector acknowledged as stored. */
  readonly acknowledged: ReadonlySet<string>;
  readonly totals: ProducerTotals;
}

export interface PipelineRun {
  readonly redisUrl: string;
  /** A direct client for checks. */
  readonly redis: Redis;
  readonly dir: string;
  /** A queue name no other test uses. */
  queueName(label: string): string;
  /** Writes `yaml` to <dir>/<name> and returns its path. */
  writePipeline(name: string, yaml: string): string;
  /** A collector process with the pipeline file, listening on a free port. */
  startCollector(
    pipelineFile: string,
    env?: Record<string, string>,
  ): Promise<{ readonly proc: ServiceProcess; readonly address: string }>;
  /** A worker process with the pipeline file; resolves once it runs its consumers. */
  startWorker(
    id: string,
    pipelineFile: string,
    env?: Record<string, string>,
  ): Promise<ServiceProcess>;
  /** Spawns a service without waiting for it; stopped in cleanup like the others. */
  spawn(name: "collector" | "worker", env: Record<string, string>): ServiceProcess;
  /** packages/echo-processor as a process on 127.0.0.1:`port`; resolves once it listens. */
  startEchoProcessor(port: number): Promise<ServiceProcess>;
  /** An HTTP receiver on 127.0.0.1:0 that reads each body, records it, then calls `respond`. */
  startHttpServer(respond: Responder): Promise<TestHttpServer>;
  /** Sends the events through the collector's gRPC door, acknowledged, then closes. */
  send(address: string, events: Iterable<Event>): Promise<SendResult>;
  /** The events in a queue's pending list (a results queue, say), decoded, oldest first. */
  readQueue(queue: string): Promise<Event[]>;
  deadLetters(queue: string): Promise<DeadLetter[]>;
  audit(queue: string): Promise<QueueAudit>;
  /** Waits until nothing of the queue is pending, in flight or waiting for a retry. */
  waitUntilDrained(queue: string, timeoutMs?: number): Promise<void>;
  /** Polls `condition` until it holds; throws after `timeoutMs`. */
  until(
    what: string,
    condition: () => boolean | Promise<boolean>,
    timeoutMs?: number,
  ): Promise<void>;
  /**
   * The ledger of a drained queue: sent and acknowledged ids from `ids`, stored, dead-lettered and
   * still-queued ids from the queue's audit, and `handled` (one entry per run of an id, e.g.
   * the ids of the results a processor left). Its verdict lists what was lost.
   */
  account(
    queue: string,
    ids: { readonly sent: Iterable<string>; readonly acknowledged: Iterable<string> },
    handled: Iterable<string>,
  ): Promise<{ readonly ledger: Ledger; readonly verdict: LedgerVerdict }>;
}

/** Registers setup and cleanup hooks; call the returned function inside a test. */
export function usePipelineRun(): () => PipelineRun {
  let run: PipelineRun | undefined;
  let cleanup: (() => Promise<void>) | undefined;

  beforeEach(() => {
    const redisUrl = inject("redisUrl");
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
    redis.on("error", () => {});
    const dir = mkdtempSync(join(tmpdir(), "eventpipe-pipeline-"));
    const processes: ServiceProcess[] = [];
    const servers: ReturnType<typeof createServer>[] = [];

    const track = (proc: ServiceProcess): ServiceProcess => {
      processes.push(proc);
      return proc;
    };
    const spawn: PipelineRun["spawn"] = (name, env) =>
      track(spawnService(name, { REDIS_URL: redisUrl, LOG_LEVEL: "warn", ...env }));

    run = {
      redisUrl,
      redis,
      dir,
      queueName: uniqueQueueName,
      writePipeline(name, yaml) {
        const path = join(dir, name);
        writeFileSync(path, yaml);
        return path;
      },
      async startCollector(pipelineFile, env = {}) {
        const port = await freePort();
        const proc = track(
          await startCollectorProcess(
            port,
            { REDIS_URL: redisUrl, EVENTPIPE_CONFIG: pipelineFile, LOG_LEVEL: "info", ...env },
            START_TIMEOUT_MS,
          ),
        );
        return { proc, address: `127.0.0.1:${port}` };
      },
      async startWorker(id, pipelineFile, env = {}) {
        const proc = spawn("worker", {
          EVENTPIPE_CONFIG: pipelineFile,
          WORKER_ID: id,
          WORKER_BLOCK_TIMEOUT_MS: "200",
          // "worker running" is an info line; a handled event logs nothing above debug.
          LOG_LEVEL: "info",
          ...env,
        });
        await waitForOutput(proc, "worker running", START_TIMEOUT_MS);
        return proc;
      },
      spawn,
      async startEchoProcessor(port) {
        const proc = track(
          startNodeProcess(ECHO_PROCESSOR, [], { ECHO_LISTEN: `127.0.0.1:${port}` }),
        );
        await waitForOutput(proc, "echo processor listening on", START_TIMEOUT_MS);
        return proc;
      },
      async startHttpServer(respond) {
        const requests: ReceivedRequest[] = [];
        const server = createServer((req, res) => {
          const chunks: Buffer[] = [];
          req.on("data", (chunk: Buffer) => chunks.push(chunk));
          req.on("end", () => {
            const request: ReceivedRequest = {
              method: req.method ?? "",
              url: req.url ?? "",
              headers: req.headers,
              body: Buffer.concat(chunks),
            };
            requests.push(request);
            respond(request, res);
          });
        });
        servers.push(server);
        await new Promise<void>((resolve, reject) => {
          server.once("error", reject);
          server.listen(0, "127.0.0.1", () => resolve());
        });
        const { port } = server.address() as AddressInfo;
        return {
          origin: `http://127.0.0.1:${port}`,
          requests,
          requestsFor: (id) => requests.filter((request) => request.headers["webhook-id"] === id),
        };
      },
      async send(address, events) {
        const ledger = new Ledger();
        const producer = createProducer(recordingAcks(ledger, { address, batchSize: 100 }));
        const sent: string[] = [];
        try {
          for (const event of events) {
            sent.push(event.eventId);
            await producer.send(event);
          }
        } catch (error) {
          await producer.close().catch(() => undefined);
          throw error;
        }
        // close() flushes: it resolves once every event sent is acknowledged.
        const totals = await producer.close();
        return { sent, acknowledged: ledger.acknowledged, totals };
      },
      async readQueue(queue) {
        const raw = await redis.lrangeBuffer(queueKeys(queue).pending, 0, -1);
        // LPUSH puts the newest on the left.
        return raw.reverse().map((entry) => decodeEnvelope(entry).stored.event!);
      },
      deadLetters: (queue) => listDeadLetters(redis, queueKeys(queue)),
      audit: (queue) => auditQueue(redis, queueKeys(queue)),
      waitUntilDrained: (queue, timeoutMs = 30_000) =>
        waitUntilDrained(redis, queueKeys(queue), timeoutMs),
      until: (what, condition, timeoutMs = 30_000) => until(what, condition, timeoutMs),
      async account(queue, ids, handled) {
        const ledger = new Ledger();
        ledger.recordSent(ids.sent);
        ledger.recordAcknowledged(ids.acknowledged);
        const audit = await auditQueue(redis, queueKeys(queue));
        ledger.recordStored(audit.stored);
        ledger.recordHandled(handled);
        ledger.recordDeadLettered(audit.deadLettered);
        ledger.recordStillQueued([...audit.pending, ...audit.inFlight, ...audit.delayed]);
        return { ledger, verdict: ledger.check() };
      },
    };

    cleanup = async () => {
      for (const proc of processes) proc.signal("SIGKILL");
      await Promise.all(processes.map((proc) => proc.exited));
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              // A hanging receiver holds its requests open: drop them, or close() never ends.
              server.closeAllConnections();
              server.close(() => resolve());
            }),
        ),
      );
      redis.disconnect();
      rmSync(dir, { recursive: true, force: true });
    };
  });

  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
    run = undefined;
  });

  return () => {
    if (run === undefined) throw new Error("usePipelineRun(): call it inside a test");
    return run;
  };
}

/** The values that occur more than once, once each: `[]` says every id came once. */
export function repeated<T>(values: Iterable<T>): T[] {
  const seen = new Set<T>();
  const again = new Set<T>();
  for (const value of values) (seen.has(value) ? again : seen).add(value);
  return [...again];
}
