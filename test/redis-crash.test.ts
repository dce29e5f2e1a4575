// Redis killed with SIGKILL and restarted on the same data, at different moments of a run
// (while events stream in, while workers claim and acknowledge, while a dead worker's events
// are taken back), with `appendfsync always` and `everysec`: a process crash loses nothing
// acknowledged in either. Each round accounts for every event id (the same rounds that
// `pnpm soak` repeats, smaller).
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  type CrashMoment,
  formatVerdict,
  runRedisCrashRound,
} from "../packages/faults/src/index.js";

const EVENTS = 20_000;
const rounds: { moment: CrashMoment; appendfsync: "always" | "everysec"; offsetMs: number }[] = [
  { moment: "ingest", appendfsync: "always", offsetMs: 0 },
  { moment: "ingest", appendfsync: "everysec", offsetMs: 100 },
  { moment: "processing", appendfsync: "always", offsetMs: 0 },
  { moment: "processing", appendfsync: "everysec", offsetMs: 200 },
  { moment: "recovery", appendfsync: "always", offsetMs: 0 },
  { moment: "recovery", appendfsync: "everysec", offsetMs: 100 },
];

describe("Redis killed and restarted", () => {
  for (const round of rounds) {
    const label = `Redis killed during ${round.moment}, appendfsync ${round.appendfsync}, +${round.offsetMs} ms`;
    it(`${label}: every acknowledged id is handled, no service restarts`, async () => {
      const result = await runRedisCrashRound({
        ...round,
        events: EVENTS,
        // 20 ms per handler: two workers take a few seconds, so the kill lands mid-run.
        workMs: 20,
        downMs: 1500,
        drainTimeoutMs: 60_000,
        // Memory-backed where possible, as for every test Redis (test-support/redis-server.ts).
        redisBaseDir: existsSync("/dev/shm") ? "/dev/shm" : undefined,
      });
      process.stdout.write(
        `[fault-injection] ${formatVerdict(label, result.verdict)} killed at ${JSON.stringify(result.atKill)}\n`,
      );
      // The fault hit the phase it was meant for.
      if (round.moment === "ingest") expect(result.atKill.acknowledged).toBeLessThan(EVENTS);
      else expect(result.atKill.handled).toBeLessThan(EVENTS);
      expect(result.verdict.problems).toEqual([]);
      expect(result.verdict.counts).toMatchObject({ acknowledged: EVENTS, handled: EVENTS });
      expect(result.exited).toEqual([]);
    });
  }
});
