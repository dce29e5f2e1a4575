// A worker handler for tests that run real worker processes: waits TEST_WORK_MS, then
// appends the event id and the worker id to TEST_RECORD_FILE (one short O_APPEND write per
// event, so lines from several processes never interleave).
import { appendFileSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";

const file = process.env.TEST_RECORD_FILE;
const workMs = Number(process.env.TEST_WORK_MS ?? "0");
if (!file) throw new Error("TEST_RECORD_FILE is not set");

export default async function handle(event, ctx) {
  if (workMs > 0) await delay(workMs);
  appendFileSync(file, `${event.eventId} ${ctx.workerId}\n`);
}
