// What fan-out and listeners cost the batch ingest: the same producer run with a route to one
// queue, to two queues (a copy in each), and to one queue with a listener attached, which
// reads its copies as fast as it can in this process (so the figure is Redis's cost of
// feeding and serving it, not of printing lines).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createListener, queueKeys } from "@eventpipe/queue";
import { Redis } from "ioredis";
import {
  cleanUp,
  newQueue,
  redisCpuSeconds,
  runProducers,
  startCollector,
} from "./bench-services.js";
import { cpuSeconds } from "./processes.js";
import type { BenchRedis } from "./redis-server.js";

export type FanOutShape = "one queue" | "two queues" | "one queue, listener";

export interface FanOutFigures {
  readonly perSecond: number;
  /** CPU microseconds per event. */
  readonly redisMicros: number;
  readonly collectorMicros: number;
  /** Copies the listener read (and those it lost by falling behind). */
  readonly listened?: { readonly read: number; readonly dropped: number };
}

export async function fanOutIngest(
  redis: BenchRedis,
  events: number,
  shape: FanOutShape,
): Promise<FanOutFigures> {
  const queues =
    shape === "two queues" ? [newQueue("fan_a"), newQueue("fan_b")] : [newQueue("fan")];
  const dir = mkdtempSync(join(tmpdir(), "eventpipe-bench-fan-out-"));
  const file = join(dir, "pipeline.yaml");
  writeFileSync(
    file,
    `routes:\n  - { name: default, types: ["*"], queues: [${queues.join(", ")}] }\n`,
  );
  const { child, address } = await startCollector(redis, queues[0]!, { EVENTPIPE_CONFIG: file });
  const listening = shape === "one queue, listener" ? startListening(redis, queues[0]!) : undefined;
  await listening?.ready;
  const collectorBefore = cpuSeconds(child.child.pid!);
  const redisBefore = await redisCpuSeconds(redis);
  const run = await runProducers(address, events, 1, "batch");
  const collectorCpu = cpuSeconds(child.child.pid!) - collectorBefore;
  const redisCpu = (await redisCpuSeconds(redis)) - redisBefore;
  const listened = await listening?.stop(events);
  for (const queue of queues) {
    const length = await redis.client.llen(queue);
    if (length !== events) throw new Error(`${queue} holds ${length} of ${events} events`);
  }
  await cleanUp(redis, [child]);
  rmSync(dir, { recursive: true, force: true });
  if (run.stored !== events) throw new Error(`stored ${run.stored} of ${events}`);
  return {
    perSecond: events / run.seconds,
    redisMicros: (redisCpu * 1e6) / events,
    collectorMicros: (collectorCpu * 1e6) / events,
    listened,
  };
}

/** A listener on `queue` that reads and counts every copy until told to stop. */
function startListening(redis: BenchRedis, queue: string) {
  const control = new Redis(redis.url);
  const blocking = new Redis(redis.url);
  const listener = createListener({
    control,
    blocking,
    queues: [queueKeys(queue)],
    id: "bench",
    leaseMs: 60_000,
  });
  let read = 0;
  let dropped = 0;
  let stopping = false;
  const ready = listener.renew();
  const loop = (async () => {
    await ready;
    while (!stopping) read += (await listener.read(1000, 200)).length;
  })();
  return {
    ready,
    /** Reads what is left (until `expected` copies are accounted for), then leaves. */
    async stop(expected: number) {
      for (let idle = 0; idle < 10 && read + dropped < expected; ) {
        const renewal = await listener.renew();
        dropped += renewal.dropped.get(queue) ?? 0;
        const before = read;
        await new Promise((resolve) => setTimeout(resolve, 100));
        idle = read === before ? idle + 1 : 0;
      }
      stopping = true;
      await loop;
      await listener.leave();
      control.disconnect();
      blocking.disconnect();
      return { read, dropped };
    },
  };
}
