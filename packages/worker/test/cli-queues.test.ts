// `pnpm stats` and `pnpm dead-letters` across the queues of a pipeline file, as an operator runs
// them: the built CLIs in child processes against real Redis. The queues are filled the real
// way: events posted to an in-process collector that routes them by type, and the worker
// process (dist/main.js) with a handler module that rejects some of them (PermanentFailure),
// stores results of one route, and leaves the route without a processor alone.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startTestCollector, uniqueQueueName } from "../../../test-support/collector.js";
import { useSharedRedis } from "../../../test-support/shared-redis.js";
import {
  decodeEnvelope,
  type QueueStats,
  queueKeys,
  readQueueStats,
} from "../../queue/src/index.js";
import { type NodeProcess, startNodeProcess, waitForOutput } from "../../testkit/src/index.js";

const { redisUrl, redis } = useSharedRedis();

const DIST = fileURLToPath(new URL("../dist/", import.meta.url));
const STATS_CLI = join(DIST, "stats-cli.js");
const DEAD_LETTER_CLI = join(DIST, "dead-letter-cli.js");
const WORKER_MAIN = join(DIST, "main.js");
const WAIT_MS = 20_000;

const queues = {
  orders: uniqueQueueName("cli_orders"),
  logins: uniqueQueueName("cli_logins"),
  fallback: uniqueQueueName("cli_default"),
  results: uniqueQueueName("cli_results"),
};
const dir = mkdtempSync(join(tmpdir(), "eventpipe-cli-queues-"));
const pipelineFile = join(dir, "pipeline.yaml");

const JUDGE_MODULE = `// Written by packages/worker/test/cli-queues.test.ts.
import { PermanentFailure } from ${JSON.stringify(join(DIST, "index.js"))};
export default async function judge(event) {
  if (event.attributes.verdict === "reject") throw new PermanentFailure("refused " + event.eventId);
  return { outcome: "success", body: Buffer.from("accepted " + event.eventId) };
}
`;

interface Run {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

/** Runs a built CLI with only PATH, REDIS_URL and `env` in its environment. */
function cli(script: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [script, ...args],
      {
        env: { PATH: process.env.PATH ?? "", REDIS_URL: redisUrl, ...env },
        encoding: "utf8",
        timeout: WAIT_MS,
      },
      (error, out, err) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
        resolve({ code, out, err });
      },
    );
  });
}

const stats = (args: string[], env?: Record<string, string>) => cli(STATS_CLI, args, env);
const deadLetters = (args: string[], env?: Record<string, string>) =>
  cli(DEAD_LETTER_CLI, args, env);

/** The JSON a CLI printed; fails with its output when it did not succeed. */
function jsonOf<T>(run: Run): T {
  expect(run, run.err).toMatchObject({ code: 0 });
  return JSON.parse(run.out) as T;
}

/** `pnpm stats --json` prints readQueueStats' object as it is. */
type StatsJson = QueueStats;

interface DeadLetterJson {
  readonly eventId: string;
  readonly type: string;
  readonly reason: string;
  readonly message: string;
}

/** Ids of the events in `queue`'s pending list. */
async function pendingIds(queue: string): Promise<string[]> {
  const entries = await redis.lrangeBuffer(queueKeys(queue).pending, 0, -1);
  return entries.map((raw) => decodeEnvelope(raw).stored.event!.eventId).sort();
}

const ids = (prefix: string, count: number) =>
  Array.from({ length: count }, () => `${prefix}-${randomUUID()}`);
const sent = {
  ordersAccepted: ids("order-ok", 3),
  ordersRejected: ids("order-no", 2),
  loginsAccepted: ids("login-ok", 1),
  loginsRejected: ids("login-no", 2),
  other: ids("other", 1),
};
const sorted = (values: readonly string[]) => [...values].sort();

let worker: NodeProcess | undefined;

beforeAll(async () => {
  writeFileSync(join(dir, "judge.mjs"), JUDGE_MODULE);
  writeFileSync(
    pipelineFile,
    `routes:
  - { name: orders, types: ["order.*"], queue: ${queues.orders} }
  - { name: logins, types: ["login.*"], queue: ${queues.logins} }
  - { name: default, types: ["*"], queue: ${queues.fallback} }
processors:
  - route: orders
    module: ./judge.mjs
    results: { queue: ${queues.results} }
  - route: logins
    module: ./judge.mjs
`,
  );

  // The events, routed by the collector.
  const collector = await startTestCollector(redisUrl, queues.fallback, {
    EVENTPIPE_CONFIG: pipelineFile,
  });
  const event = (eventId: string, type: string, verdict: string) => ({
    eventId,
    type,
    payload: { eventId },
    attributes: { verdict },
  });
  const body = [
    ...sent.ordersAccepted.map((id) => event(id, "order.created", "accept")),
    ...sent.ordersRejected.map((id) => event(id, "order.cancelled", "reject")),
    ...sent.loginsAccepted.map((id) => event(id, "login.password", "accept")),
    ...sent.loginsRejected.map((id) => event(id, "login.password", "reject")),
    ...sent.other.map((id) => event(id, "misc.thing", "accept")),
  ];
  try {
    const response = await fetch(`${collector.httpUrl}/v1/events`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(await response.json()).toMatchObject({ accepted: body.length, rejected: 0 });
  } finally {
    await collector.close();
  }

  // The worker process serves both routes with processors; the default route has none.
  worker = startNodeProcess(WORKER_MAIN, [], {
    REDIS_URL: redisUrl,
    EVENTPIPE_CONFIG: pipelineFile,
    WORKER_ID: `cli-queues-${process.pid}`,
    WORKER_BLOCK_TIMEOUT_MS: "200",
    LOG_LEVEL: "info",
    METRICS_LISTEN: "127.0.0.1:0",
  });
  await waitForOutput(worker, "worker running", WAIT_MS);
  const settled = async () => {
    const [orders, logins] = await Promise.all([
      readQueueStats(redis, queueKeys(queues.orders)),
      readQueueStats(redis, queueKeys(queues.logins)),
    ]);
    return [orders, logins].map((s) => ({
      processed: s.processed,
      deadLettered: s.deadLettered,
      pending: s.pending,
      inFlight: s.inFlight,
    }));
  };
  await vi.waitFor(
    async () =>
      expect(await settled()).toEqual([
        { processed: 3, deadLettered: 2, pending: 0, inFlight: 0 },
        { processed: 1, deadLettered: 2, pending: 0, inFlight: 0 },
      ]),
    { timeout: WAIT_MS, interval: 25 },
  );
  // Stopped, so that what the tests replay stays where replay put it.
  await worker.stop();
  expect(await worker.exited, worker.output()).toBe(0);
});

afterAll(async () => {
  await worker?.stop(2000);
  rmSync(dir, { recursive: true, force: true });
});

describe("pnpm stats across queues", () => {
  it("--queue Q --json reports that one queue as an object", async () => {
    const [ordersRun, resultsRun] = await Promise.all([
      stats(["--queue", queues.orders, "--json"]),
      // --queue wins over the pipeline file.
      stats(["--queue", queues.results, "--json"], { EVENTPIPE_CONFIG: pipelineFile }),
    ]);
    expect(jsonOf<StatsJson>(ordersRun)).toMatchObject({
      queue: queues.orders,
      pending: 0,
      inFlight: 0,
      processed: 3,
      deadLettered: 2,
      deadLetteredTotal: 2,
      byType: { "order.created": 3 },
    });
    expect(jsonOf<StatsJson>(resultsRun)).toMatchObject({
      queue: queues.results,
      pending: 3,
      processed: 0,
    });
  });

  it("without --queue lists every queue of EVENTPIPE_CONFIG: routes, then results", async () => {
    const [json, text] = await Promise.all([
      stats(["--json"], { EVENTPIPE_CONFIG: pipelineFile }),
      stats([], { EVENTPIPE_CONFIG: pipelineFile }),
    ]);
    const all = jsonOf<StatsJson[]>(json);
    expect(all.map((queue) => queue.queue)).toEqual([
      queues.orders,
      queues.logins,
      queues.fallback,
      queues.results,
    ]);
    expect(
      all.map(({ pending, processed, deadLettered }) => ({ pending, processed, deadLettered })),
    ).toEqual([
      { pending: 0, processed: 3, deadLettered: 2 },
      { pending: 0, processed: 1, deadLettered: 2 },
      // The default route has no processor: its event waits.
      { pending: 1, processed: 0, deadLettered: 0 },
      // One result per accepted order.
      { pending: 3, processed: 0, deadLettered: 0 },
    ]);
    // The text form names the same queues, in the same order.
    expect(text.code, text.err).toBe(0);
    const named = text.out
      .split("\n")
      .filter((line) => line.startsWith("queue "))
      .map((line) => line.split(/\s+/)[1]);
    expect(named).toEqual([queues.orders, queues.logins, queues.fallback, queues.results]);
  });

  it("without --queue and without a pipeline file reports QUEUE_NAME", async () => {
    const logins = jsonOf<StatsJson>(await stats(["--json"], { QUEUE_NAME: queues.logins }));
    expect(logins).toMatchObject({ queue: queues.logins, processed: 1, deadLettered: 2 });
  });
});

describe("pnpm dead-letters --queue", () => {
  it("list --queue Q --json lists that queue's dead letters only", async () => {
    const [ordersRun, loginsRun, fallbackRun] = await Promise.all(
      [queues.orders, queues.logins, queues.fallback].map((queue) =>
        deadLetters(["list", "--queue", queue, "--json"]),
      ),
    );
    const orders = jsonOf<DeadLetterJson[]>(ordersRun!);
    expect(sorted(orders.map((entry) => entry.eventId))).toEqual(sorted(sent.ordersRejected));
    for (const entry of orders) {
      expect(entry).toMatchObject({
        type: "order.cancelled",
        reason: "rejected",
        message: `refused ${entry.eventId}`,
      });
    }
    const logins = jsonOf<DeadLetterJson[]>(loginsRun!);
    expect(sorted(logins.map((entry) => entry.eventId))).toEqual(sorted(sent.loginsRejected));
    expect(jsonOf<DeadLetterJson[]>(fallbackRun!)).toEqual([]);
  });

  it("replay --queue Q --all puts Q's dead letters back on Q and touches no other queue", async () => {
    const refused = await deadLetters(["replay", "--queue", queues.orders]);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain("--all");

    const loginsPendingBefore = await pendingIds(queues.logins);
    const fallbackPendingBefore = await pendingIds(queues.fallback);
    const resultsPendingBefore = await pendingIds(queues.results);

    const replay = await deadLetters(["replay", "--queue", queues.orders, "--all"]);
    expect(replay, replay.err).toMatchObject({ code: 0, out: "replayed 2 dead letters\n" });

    expect(await pendingIds(queues.orders)).toEqual(sorted(sent.ordersRejected));
    expect(await redis.llen(queueKeys(queues.orders).deadLetter)).toBe(0);
    // Everything else is where it was.
    expect(await pendingIds(queues.logins)).toEqual(loginsPendingBefore);
    expect(await pendingIds(queues.fallback)).toEqual(fallbackPendingBefore);
    expect(await pendingIds(queues.results)).toEqual(resultsPendingBefore);
    const [loginsRun, ordersRun] = await Promise.all([
      deadLetters(["list", "--queue", queues.logins, "--json"]),
      stats(["--queue", queues.orders, "--json"]),
    ]);
    const logins = jsonOf<DeadLetterJson[]>(loginsRun);
    expect(sorted(logins.map((entry) => entry.eventId))).toEqual(sorted(sent.loginsRejected));
    expect(jsonOf<StatsJson>(ordersRun)).toMatchObject({
      pending: 2,
      deadLettered: 0,
      deadLetteredTotal: 2,
    });
  });
});

describe("the CLIs refuse a bad argument in one line", () => {
  /** A line of a stack trace: an operator should get what to fix, not where the CLI broke. */
  const STACK_LINE = /^\s+at /m;

  it("a --queue that cannot be a queue name", async () => {
    const runs = await Promise.all([
      stats(["--queue", "orders{1}", "--json"]),
      deadLetters(["list", "--queue", "orders{1}", "--json"]),
    ]);
    for (const [name, run] of [
      ["stats", runs[0]],
      ["dead-letters", runs[1]],
    ] as const) {
      expect(run.code, `${name}: ${run.err}`).not.toBe(0);
      expect(run.err, name).toContain("queue name must be non-empty without braces or spaces");
      expect(run.err, `${name} printed a stack trace`).not.toMatch(STACK_LINE);
    }
  });

  it("a --limit that is not a number, rather than an empty list", async () => {
    const run = await deadLetters(["list", "--queue", queues.logins, "--limit", "ten", "--json"]);
    expect(run.out, "printed a list although --limit is no number").toBe("");
    expect(run.code).not.toBe(0);
    expect(run.err).toContain("--limit");
  });
});
