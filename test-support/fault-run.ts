// One fault run per test: a queue, a record file for the recording handler, real service
// processes, an acknowledged producer and a ledger that accounts for every event id. Every
// fault test ends with expectNothingLost(), which checks sets of ids, never totals.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterEach, beforeEach, expect, inject } from "vitest";
import {
  formatVerdict,
  Ledger,
  type LedgerVerdict,
  RECORDING_HANDLER,
  readRecords,
  recordingAcks,
  recordOutcome,
  type ServiceProcess,
  spawnService,
  startCollectorProcess,
  waitUntilDrained,
} from "../packages/faults/src/index.js";
import {
  createProducer,
  type Producer,
  type ProducerOptions,
  type ProducerTotals,
  sampleEvents,
} from "../packages/producer/src/index.js";
import { type QueueKeys, queueKeys } from "../packages/queue/src/index.js";
import { uniqueQueueName } from "./collector.js";
import { freePort, type RedisServer, startRedisServer } from "./redis-server.js";

export interface FaultRun {
  /** The run's own redis-server, or undefined when it shares the suite's. */
  readonly redisServer: RedisServer | undefined;
  readonly redisUrl: string;
  /** A direct client for checks (never through a fault). */
  readonly redis: Redis;
  readonly queue: string;
  readonly keys: QueueKeys;
  readonly recordFile: string;
  readonly ledger: Ledger;
  /** A worker process with the recording handler; `redisUrl` overrides (a fault proxy, say). */
  startWorker(id: string, env?: Record<string, string>): ServiceProcess;
  startCollector(env?: Record<string, string>): Promise<{ proc: ServiceProcess; port: number }>;
  /** A producer whose acknowledgements go to the ledger. */
  producer(options: ProducerOptions): Producer;
  /** Sends `count` sample events (at most `perSecond` a second when given), then closes. */
  send(producer: Producer, count: number, perSecond?: number): Promise<ProducerTotals>;
  /** Ids handled so far (handler runs, repeats included). */
  handledRuns(): number;
  /** Waits until the queue drained, then accounts for every id and checks the ledger. */
  expectNothingLost(
    scenario: string,
    options?: { drainTimeoutMs?: number; storedIdsKnown?: boolean },
  ): Promise<LedgerVerdict>;
}

export interface FaultRunOptions {
  /** A private redis-server per test (default), so it can be killed, paused, filled. */
  readonly ownRedis?: boolean;
  readonly redisArgs?: readonly string[];
}

/** Registers setup and cleanup hooks; call the returned function inside a test. */
export function useFaultRun(options: FaultRunOptions = {}): () => FaultRun {
  let run: FaultRun | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  beforeEach(async () => {
    const redisServer =
      (options.ownRedis ?? true)
        ? await startRedisServer({ extraArgs: options.redisArgs ?? [] })
        : undefined;
    const redisUrl = redisServer?.url ?? inject("redisUrl");
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
    redis.on("error", () => {});
    const dir = mkdtempSync(join(tmpdir(), "eventpipe-faults-"));
    const processes: ServiceProcess[] = [];
    const queue = uniqueQueueName("faults");
    const keys = queueKeys(queue);
    const recordFile = join(dir, "handled.log");
    const ledger = new Ledger();

    run = {
      redisServer,
      redisUrl,
      redis,
      queue,
      keys,
      recordFile,
      ledger,
      startWorker(id, env = {}) {
        const proc = spawnService("worker", {
          REDIS_URL: redisUrl,
          QUEUE_NAME: queue,
          WORKER_ID: id,
          WORKER_HANDLER: RECORDING_HANDLER,
          TEST_RECORD_FILE: recordFile,
          WORKER_LEASE_MS: "1000",
          WORKER_BLOCK_TIMEOUT_MS: "200",
          LOG_LEVEL: "warn",
          ...env,
        });
        processes.push(proc);
        return proc;
      },
      async startCollector(env = {}) {
        const port = await freePort();
        const proc = await startCollectorProcess(port, {
          REDIS_URL: redisUrl,
          QUEUE_NAME: queue,
          ...env,
        });
        processes.push(proc);
        return { proc, port };
      },
      producer: (producerOptions) => createProducer(recordingAcks(ledger, producerOptions)),
      async send(producer, count, perSecond = 0) {
        const started = performance.now();
        let sent = 0;
        for (const event of sampleEvents(count)) {
          ledger.sent.add(event.eventId);
          await producer.send(event);
          if (perSecond > 0 && ++sent % 500 === 0) {
            const ahead = (sent * 1000) / perSecond - (performance.now() - started);
            if (ahead > 0) await new Promise((resolve) => setTimeout(resolve, ahead));
          }
        }
        return producer.close();
      },
      handledRuns: () => readRecords(recordFile).length,
      async expectNothingLost(scenario, { drainTimeoutMs = 60_000, storedIdsKnown = true } = {}) {
        await waitUntilDrained(redis, keys, drainTimeoutMs);
        await recordOutcome(ledger, { redis, keys, recordFile, storedIdsKnown });
        const verdict = ledger.check();
        process.stdout.write(`[fault-injection] ${formatVerdict(scenario, verdict)}\n`);
        expect(verdict.problems).toEqual([]);
        return verdict;
      },
    };
    cleanup = async () => {
      for (const proc of processes) proc.signal("SIGKILL");
      await Promise.all(processes.map((proc) => proc.exited));
      redis.disconnect();
      await redisServer?.destroy();
      rmSync(dir, { recursive: true, force: true });
    };
  });
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
    run = undefined;
  });
  return () => {
    if (run === undefined) throw new Error("useFaultRun(): call it inside a test");
    return run;
  };
}
