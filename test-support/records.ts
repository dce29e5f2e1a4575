import { existsSync, readFileSync } from "node:fs";

/** Lines "<event id> <worker id>" written by recording-handler.mjs. */
export function readRecords(file: string): { eventId: string; workerId: string }[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => {
      const [eventId = "", workerId = ""] = line.split(" ");
      return { eventId, workerId };
    });
}
