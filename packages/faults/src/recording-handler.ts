// A worker handler for fault runs: WORKER_HANDLER=<repo>/packages/faults/dist/recording-handler.js.
// Waits TEST_WORK_MS per event, then appends "<event id> <worker id>\n" to TEST_RECORD_FILE
// before it resolves, so every event a worker acknowledges is on file (a worker killed between
// the write and the ack leaves a line for an event that will run again: a duplicate, never a
// gap). Lines of one turn of the event loop go out in one O_APPEND write, so lines from
// several processes never interleave and a fast run does not make a system call per event.
import { closeSync, openSync, writeSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";

interface RecordedEvent {
  readonly eventId: string;
}
interface RecordedContext {
  readonly workerId: string;
}

const file = process.env.TEST_RECORD_FILE;
const workMs = Number(process.env.TEST_WORK_MS ?? "0");
if (!file) throw new Error("TEST_RECORD_FILE is not set");
const fd = openSync(file, "a");
process.once("exit", () => closeSync(fd));

let lines: string[] = [];
let written: Promise<void> | undefined;

function record(line: string): Promise<void> {
  lines.push(line);
  written ??= new Promise<void>((resolve) =>
    setImmediate(() => {
      const batch = lines.join("");
      lines = [];
      written = undefined;
      writeSync(fd, batch);
      resolve();
    }),
  );
  return written;
}

export default async function handle(event: RecordedEvent, ctx: RecordedContext): Promise<void> {
  if (workMs > 0) await delay(workMs);
  await record(`${event.eventId} ${ctx.workerId}\n`);
}
