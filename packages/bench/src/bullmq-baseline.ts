// BullMQ on the same Redis, the way most Node users would use it: addBulk in chunks, then a
// no-op Worker at concurrency 50.
import { Queue, Worker } from "bullmq";
import { until } from "./processes.js";

export interface BullmqFigures {
  readonly addBulkPerSecond: number;
  readonly workerPerSecond: number;
  readonly endToEndPerSecond: number;
}

export async function runBullmq(port: number, jobs: number, name: string): Promise<BullmqFigures> {
  const connection = { host: "127.0.0.1", port, maxRetriesPerRequest: null };
  const queue = new Queue(name, { connection });
  const chunk = 1000;
  const addStarted = performance.now();
  for (let start = 0; start < jobs; start += chunk) {
    const batch = [];
    for (let i = start; i < Math.min(jobs, start + chunk); i++) {
      batch.push({
        name: i % 2 ? "page_view" : "user_login",
        data: { eventId: `job-${i}`, timestamp: Date.now() },
      });
    }
    await queue.addBulk(batch);
  }
  const addSeconds = (performance.now() - addStarted) / 1000;

  let done = 0;
  const drainStarted = performance.now();
  const worker = new Worker(name, async () => {}, {
    connection,
    concurrency: 50,
    removeOnComplete: { count: 0 },
  });
  worker.on("completed", () => {
    done++;
  });
  await until("the BullMQ worker", () => done >= jobs, 600_000, 20);
  const drainSeconds = (performance.now() - drainStarted) / 1000;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return {
    addBulkPerSecond: jobs / addSeconds,
    workerPerSecond: jobs / drainSeconds,
    endToEndPerSecond: jobs / (addSeconds + drainSeconds),
  };
}
