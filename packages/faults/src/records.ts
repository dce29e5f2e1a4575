// Reads what recording-handler.ts wrote.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export interface HandledRecord {
  readonly eventId: string;
  readonly workerId: string;
}

/** Lines "<event id> <worker id>", one per handler run that finished. */
export function readRecords(file: string): HandledRecord[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => {
      const [eventId = "", workerId = ""] = line.split(" ");
      return { eventId, workerId };
    });
}

/** The compiled handler, for WORKER_HANDLER (the same path from src/ and from dist/). */
export const RECORDING_HANDLER = fileURLToPath(
  new URL("../dist/recording-handler.js", import.meta.url),
);
