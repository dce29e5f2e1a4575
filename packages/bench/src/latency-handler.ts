// A worker handler for the latency benchmark: records, for every event, the time from the
// collector's enqueue to the handler's start, and writes the percentiles to LATENCY_OUT when
// the worker exits. Millisecond resolution: the envelope's enqueue time is in milliseconds.
import { writeFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { Event } from "@eventpipe/proto";
import type { EventContext } from "@eventpipe/worker";

const out = process.env.LATENCY_OUT;
const samples: number[] = [];
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();

process.on("exit", () => {
  if (out === undefined) return;
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  writeFileSync(
    out,
    JSON.stringify({
      count: sorted.length,
      p50: at(0.5),
      p99: at(0.99),
      max: at(1),
      // The worker's own event-loop delay: how much of the tail is this process being busy.
      loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    }),
  );
});

export default async function handle(_event: Event, ctx: EventContext): Promise<void> {
  samples.push(Date.now() - ctx.enqueuedAtMs);
}
