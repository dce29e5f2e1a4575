// Many collectors behind client-side load balancing: real collector processes on loopback,
// one producer whose address lists them all (round_robin, a new Publish call every
// callLifetimeMs), a worker with the recording handler, and the ledger by event id. One
// collector is killed with SIGKILL mid-run; collectors whose connections reach their max age
// send GOAWAY and cut what is still open after the grace. Each collector's accepted count is
// read from its own /metrics and printed.
import { describe, expect, it } from "vitest";
import type { ServiceProcess } from "../packages/faults/src/index.js";
import { waitForOutput } from "../packages/testkit/src/index.js";
import { type FaultRun, useFaultRun } from "../test-support/fault-run.js";
import { freePort } from "../test-support/redis-server.js";

const run = useFaultRun({ ownRedis: false });

interface Collector {
  readonly name: string;
  readonly proc: ServiceProcess;
  readonly port: number;
  readonly metricsPort: number;
}

async function startCollectors(
  faults: FaultRun,
  count: number,
  env: Record<string, string> = {},
): Promise<Collector[]> {
  const collectors: Collector[] = [];
  for (let i = 0; i < count; i++) {
    const metricsPort = await freePort();
    const { proc, port } = await faults.startCollector({
      COLLECTOR_ID: `c${i}`,
      METRICS_LISTEN: `127.0.0.1:${metricsPort}`,
      ...env,
    });
    // "collector started" comes once /metrics listens too.
    await waitForOutput(proc, "collector started");
    collectors.push({ name: `c${i}`, proc, port, metricsPort });
  }
  return collectors;
}

/** Events the collector stored (first time, not duplicates) from Publish calls, and duplicates. */
async function scrape(collector: Collector): Promise<{ accepted: number; duplicates: number }> {
  const response = await fetch(`http://127.0.0.1:${collector.metricsPort}/metrics`);
  const text = await response.text();
  const read = (metric: string) => {
    const line = new RegExp(`^${metric}\\{[^}]*rpc="Publish"[^}]*\\} (\\d+)$`, "m").exec(text);
    return line === null ? 0 : Number(line[1]);
  };
  return {
    accepted: read("eventpipe_collector_events_accepted_total"),
    duplicates: read("eventpipe_collector_events_duplicate_total"),
  };
}

const acceptedBy = async (collectors: readonly Collector[]) =>
  Promise.all(collectors.map(async (c) => (await scrape(c)).accepted));

/** Every id sent was acknowledged, stored and handled, none twice (the ledger, by id). */
async function expectEveryIdOnce(faults: FaultRun, scenario: string, total: number) {
  const verdict = await faults.expectNothingLost(scenario);
  expect(verdict.counts).toMatchObject({
    sent: total,
    acknowledged: total,
    stored: total,
    handled: total,
    duplicates: 0,
  });
}

describe("many collectors", () => {
  it("three collectors behind one list target, one killed with SIGKILL mid-run: traffic moves to the survivors and nothing is lost", async () => {
    const faults = run();
    const total = 60_000;
    const collectors = await startCollectors(faults, 3);
    faults.startWorker("drainer", { WORKER_CONCURRENCY: "200", WORKER_BATCH_SIZE: "200" });
    const address = collectors.map((c) => `127.0.0.1:${c.port}`).join(",");
    // A short call lifetime so that a run of seconds shows the turns (the default is 10 s).
    const producer = faults.producer({ address, batchSize: 100, callLifetimeMs: 500 });
    const done = faults.send(producer, total, 8000);

    // Before the kill: at least two collectors have a real share. The victim is the one
    // taking traffic right now (its count grows between two reads), so the kill lands
    // mid-call, most likely with batches in flight.
    const share = 2000;
    let beforeKill: number[] = [];
    let victimIndex = -1;
    await expect
      .poll(
        async () => {
          const first = await acceptedBy(collectors);
          beforeKill = await acceptedBy(collectors);
          victimIndex = beforeKill.findIndex((n, i) => n > first[i]!);
          return beforeKill.filter((n) => n >= share).length >= 2 && victimIndex >= 0;
        },
        { timeout: 30_000, interval: 10 },
      )
      .toBe(true);
    const victim = collectors[victimIndex]!;
    const survivors = collectors.filter((c) => c !== victim);
    victim.proc.signal("SIGKILL");
    await victim.proc.exited;
    const atKill = await acceptedBy(survivors);

    const totals = await done;
    const atEnd = await acceptedBy(survivors);
    const afterKill = survivors.map((_, i) => atEnd[i]! - atKill[i]!);
    const storedAfterKill = afterKill.reduce((sum, n) => sum + n, 0);
    process.stdout.write(
      `[many-collectors] accepted before the kill: ${collectors
        .map((c, i) => `${c.name}=${beforeKill[i]}`)
        .join(" ")}; ${victim.name} killed; accepted after it: ${survivors
        .map((c, i) => `${c.name}=${afterKill[i]}`)
        .join(" ")}; survivors' totals: ${survivors
        .map((c, i) => `${c.name}=${atEnd[i]}`)
        .join(" ")}; producer ${JSON.stringify({ ...totals, rejections: undefined })}\n`,
    );

    await expectEveryIdOnce(faults, "3 collectors, one killed with SIGKILL", total);
    expect(totals).toMatchObject({ sent: total, rejected: 0 });
    expect(totals.stored + totals.duplicates).toBeGreaterThanOrEqual(total);
    // After the kill both survivors took turns: each stored at least a tenth of it.
    expect(storedAfterKill).toBeGreaterThan(0);
    for (const stored of afterKill) expect(stored).toBeGreaterThanOrEqual(storedAfterKill / 10);
  }, 120_000);

  it("collectors with a 1 s max connection age: the producer's calls end on GOAWAY, are cut after the grace, reopened, and nothing is lost or stored twice", async () => {
    const faults = run();
    const total = 30_000;
    const collectors = await startCollectors(faults, 2, {
      COLLECTOR_MAX_CONNECTION_AGE_MS: "1000",
      COLLECTOR_MAX_CONNECTION_AGE_GRACE_MS: "500",
    });
    faults.startWorker("drainer", { WORKER_CONCURRENCY: "200", WORKER_BATCH_SIZE: "200" });
    // Host names: the producer's own resolver (one endpoint per listed host). The call
    // lifetime is longer than the run, so only the GOAWAY and the cut after it end calls.
    const address = collectors.map((c) => `localhost:${c.port}`).join(",");
    const producer = faults.producer({ address, batchSize: 100, callLifetimeMs: 600_000 });
    const totals = await faults.send(producer, total, 5000);
    const accepted = await acceptedBy(collectors);
    process.stdout.write(
      `[many-collectors] max connection age 1 s, grace 0.5 s: accepted ${collectors
        .map((c, i) => `${c.name}=${accepted[i]}`)
        .join(" ")}; producer ${JSON.stringify({ ...totals, rejections: undefined })}\n`,
    );

    await expectEveryIdOnce(faults, "max connection age 1 s", total);
    // Six seconds of sending over connections that live about one and a half: calls were
    // cut and reopened (a cut between batches leaves nothing to resend and is no
    // "reconnect"). Which collector a reopened call lands on is round_robin's turn among
    // the connections ready at that moment, and both connections are renewed each second:
    // one producer can land on the same collector every time, so only the sum is checked;
    // call turnover (the first test) is what spreads one producer.
    expect(totals.calls).toBeGreaterThanOrEqual(3);
    expect(accepted.reduce((sum, n) => sum + n, 0)).toBe(total);
  }, 120_000);
});
