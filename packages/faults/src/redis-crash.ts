// One round of the fault that lost events before claims were safe to run twice: a collector,
// workers with the recording handler and an acknowledged producer run against a private
// redis-server (AOF on); Redis is killed with SIGKILL at a chosen moment and restarted on the
// same port and data after a while. The round then waits for the queue to drain and accounts
// for every event id in a ledger.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createProducer, type ProducerTotals, sampleEvents } from "@eventpipe/producer";
import { queueKeys } from "@eventpipe/queue";
import { freePort, startRedisServer, until } from "@eventpipe/testkit";
import { Redis } from "ioredis";
import { Ledger, type LedgerVerdict } from "./ledger.js";
import { recordingAcks, recordOutcome, waitUntilDrained } from "./outcome.js";
import { RECORDING_HANDLER } from "./records.js";
import { type ServiceProcess, spawnService, startCollectorProcess } from "./services.js";

/**
 * When Redis dies:
 * - "ingest": while the producer streams and workers process (about a fifth acknowledged);
 * - "processing": after ingestion, while workers claim and acknowledge (about a third handled);
 * - "recovery": while a worker's events are being taken back: one worker is killed with
 *   SIGKILL, and Redis dies just as its lease runs out and another worker recovers them.
 */
export type CrashMoment = "ingest" | "processing" | "recovery";

export interface RedisCrashOptions {
  readonly events: number;
  readonly moment: CrashMoment;
  /** Redis is killed this much later than the moment (vary it to hit different steps). */
  readonly offsetMs?: number;
  /** How long Redis stays down. Default 3000. */
  readonly downMs?: number;
  readonly appendfsync: "always" | "everysec";
  /** Default 2. */
  readonly workers?: number;
  /** Each handler run waits this long first (TEST_WORK_MS), to stretch the processing. */
  readonly workMs?: number;
  /** Bound on the whole round after the restart. Default 120 s. */
  readonly drainTimeoutMs?: number;
  /** Where Redis keeps its data (a temporary folder is made in it); default: the system's. */
  readonly redisBaseDir?: string;
}

export interface RedisCrashResult {
  readonly verdict: LedgerVerdict;
  readonly producer: ProducerTotals;
  /** Events acknowledged and handled (estimated from the record file) when Redis died. */
  readonly atKill: { readonly acknowledged: number; readonly handled: number };
  /** Services that exited on their own during the round (they must not). */
  readonly exited: readonly string[];
}

const LEASE_MS = 1000;

export async function runRedisCrashRound(options: RedisCrashOptions): Promise<RedisCrashResult> {
  const dir = mkdtempSync(join(tmpdir(), "eventpipe-crash-"));
  const recordFile = join(dir, "handled.log");
  const redisServer = await startRedisServer({
    baseDir: options.redisBaseDir,
    extraArgs: ["--appendfsync", options.appendfsync],
  });
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  redis.on("error", () => {});
  const queue = "crash_queue";
  const keys = queueKeys(queue);
  const services = new Map<string, ServiceProcess>();
  const base = { REDIS_URL: redisServer.url, QUEUE_NAME: queue };
  const startWorker = (name: string) => {
    services.set(
      name,
      spawnService("worker", {
        ...base,
        WORKER_ID: name,
        LOG_LEVEL: "warn",
        WORKER_HANDLER: RECORDING_HANDLER,
        TEST_RECORD_FILE: recordFile,
        TEST_WORK_MS: String(options.workMs ?? 0),
        WORKER_LEASE_MS: String(LEASE_MS),
        WORKER_BLOCK_TIMEOUT_MS: "200",
      }),
    );
  };
  const handledSoFar = () => {
    try {
      return Math.floor(statSync(recordFile).size / 46); // a UUID, a space, "worker-N", "\n"
    } catch {
      return 0;
    }
  };

  try {
    const port = await freePort();
    services.set("collector", await startCollectorProcess(port, base));
    const workerCount = options.workers ?? 2;
    for (let i = 0; i < workerCount; i++) startWorker(`worker-${i}`);

    const ledger = new Ledger();
    const producer = createProducer(
      recordingAcks(ledger, { address: `127.0.0.1:${port}`, batchSize: 100 }),
    );
    const produced = (async () => {
      for (const event of sampleEvents(options.events)) {
        ledger.sent.add(event.eventId);
        await producer.send(event);
      }
      return producer.close();
    })();
    produced.catch(() => undefined); // awaited below; a failure must not go unhandled meanwhile

    const total = options.events;
    if (options.moment === "ingest") {
      await until("a fifth acknowledged", () => ledger.acknowledged.size >= total / 5, 60_000);
    } else {
      await produced;
      await until("a third handled", () => handledSoFar() >= total / 3, 60_000);
      if (options.moment === "recovery") {
        const victim = services.get("worker-0")!;
        victim.signal("SIGKILL");
        await victim.exited;
        services.delete("worker-0");
        // Its lease runs out LEASE_MS after its last renewal; the others look every LEASE_MS/3.
        await until(
          "the killed worker's lease to run out",
          async () => {
            const [expiry, time] = await Promise.all([
              redis.zscore(keys.workers, "worker-0"),
              redis.time(),
            ]);
            return expiry === null || Number(expiry) <= Number(time[0]) * 1000;
          },
          10_000,
          5,
        );
      }
    }
    if (options.offsetMs) await new Promise((resolve) => setTimeout(resolve, options.offsetMs));
    const atKill = { acknowledged: ledger.acknowledged.size, handled: handledSoFar() };
    await redisServer.kill();
    await new Promise((resolve) => setTimeout(resolve, options.downMs ?? 3000));
    await redisServer.start();
    if (options.moment === "recovery") startWorker("worker-replacement");

    const producerTotals = await produced;
    await waitUntilDrained(redis, keys, options.drainTimeoutMs ?? 120_000);
    await recordOutcome(ledger, { redis, keys, recordFile });
    const exited = [...services].flatMap(([name, proc]) =>
      proc.child.exitCode === null && proc.child.signalCode === null ? [] : [name],
    );
    return { verdict: ledger.check(), producer: producerTotals, atKill, exited };
  } finally {
    await Promise.all([...services.values()].map((proc) => proc.stop(5000)));
    redis.disconnect();
    await redisServer.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}
