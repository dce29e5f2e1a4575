// The dashboard's JSON API (/ui/api) against a real collector, a real worker and the suite's
// redis-server: the figures it reports against what happened, the admin token (401, 403,
// 200), dead letters listed, inspected, replayed and purged by exact entries, bad bodies, and
// queues outside the pipeline.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queueKeys, readQueueStats } from "../../../packages/queue/src/index.js";
import { until } from "../../../packages/testkit/src/index.js";
import { PermanentFailure } from "../../../packages/worker/src/index.js";
import {
  startTestCollector,
  type TestCollector,
  uniqueQueueName,
} from "../../../test-support/collector.js";
import { useSharedRedis } from "../../../test-support/shared-redis.js";
import { startTestWorker, type TestWorker } from "../../../test-support/worker.js";

const { redisUrl, redis } = useSharedRedis();

const ADMIN = "admin-secret-0123456789";
const INGEST = "ingest-secret-0123456789";
/** A token with no scope list may do everything, the dashboard included. */
const UNLIMITED = "unlimited-secret-0123456789";
const TOKENS = `ops:${ADMIN}:admin,producer:${INGEST}:ingest,root:${UNLIMITED}`;

const dir = mkdtempSync(join(tmpdir(), "eventpipe-ui-api-"));
const main = uniqueQueueName("ui_main");
const side = uniqueQueueName("ui_side");
const workerId = `ui-api-worker-${process.pid}-${Date.now().toString(36)}`;
let guarded: TestCollector;
let open: TestCollector;
let worker: TestWorker;

/** Ids the worker handled successfully, and how often each one's handler ran. */
const handled = new Set<string>();
const runs = new Map<string, number>();
/** `ui.fail` events fail on their first run only, except these, which always fail. */
const alwaysFail = new Set(["f2"]);

const OK = Array.from({ length: 20 }, (_, i) => `ok-${i}`);
const FAILING = ["f1", "f2", "f3"];
const REJECTED = ["r1", "r2"];
const SIDE = ["s1", "s2", "s3", "s4"];

function call(path: string, token?: string, body?: unknown, contentType = "application/json") {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = contentType;
  return fetch(`${guarded.httpUrl}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function json<T = Record<string, unknown>>(path: string, body?: unknown): Promise<T> {
  const response = await call(path, ADMIN, body);
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as T;
}

interface Row {
  ref: string;
  eventId: string | null;
  type: string | null;
  reason: string;
  attempts: number | null;
  lastError: string | null;
}
const deadLetters = (query = "") =>
  json<{ total: number; entries: Row[] }>(`/ui/api/queues/${main}/dead-letters${query}`);
const dlPath = (action: string) => `/ui/api/queues/${main}/dead-letters/${action}`;
const deadLetterCount = () => redis.llen(queueKeys(main).deadLetter);

beforeAll(async () => {
  const pipelineFile = join(dir, "pipeline.yaml");
  writeFileSync(
    pipelineFile,
    `routes:
  - { name: side, types: ["side.*"], queue: ${side} }
  - { name: default, types: ["*"], queue: ${main} }
`,
  );
  guarded = await startTestCollector(redisUrl, main, {
    EVENTPIPE_CONFIG: pipelineFile,
    COLLECTOR_TOKENS: TOKENS,
  });
  open = await startTestCollector(redisUrl, main, { EVENTPIPE_CONFIG: pipelineFile });
  worker = await startTestWorker(
    redisUrl,
    main,
    async (event) => {
      const run = (runs.get(event.eventId) ?? 0) + 1;
      runs.set(event.eventId, run);
      if (event.type === "ui.fail" && (run === 1 || alwaysFail.has(event.eventId))) {
        throw new Error(`boom ${event.eventId} run ${run}`);
      }
      if (event.type === "ui.reject") throw new PermanentFailure("no such customer");
      handled.add(event.eventId);
    },
    { WORKER_ID: workerId, MAX_ATTEMPTS: "1" },
  );
  const events = [
    ...OK.map((id) => ({ eventId: id, type: "ui.ok", payload: { id } })),
    ...FAILING.map((id) => ({ eventId: id, type: "ui.fail", payload: { order: id } })),
    ...REJECTED.map((id) => ({ eventId: id, type: "ui.reject", payload: { customer: id } })),
    ...SIDE.map((id) => ({ eventId: id, type: "side.note", payload: { id } })),
  ];
  const response = await call("/v1/events", INGEST, events);
  expect(await response.json()).toMatchObject({ accepted: events.length, rejected: 0 });
  await until(
    "every main-queue event handled or dead-lettered",
    async () => handled.size === OK.length && (await deadLetterCount()) === 5,
    15_000,
  );
});

afterAll(async () => {
  await Promise.allSettled([worker?.close(), guarded?.close(), open?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

describe("the dashboard API", () => {
  it("serves the page to anyone and the data only to admin tokens", async () => {
    const page = await call("/ui");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(await page.text()).toContain('<script src="/ui/app.js" defer></script>');
    const script = await call("/ui/app.js");
    expect(script.headers.get("content-type")).toMatch(/^text\/javascript/);

    const missing = await call("/ui/api/overview");
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect((await call("/ui/api/overview", "wrong-secret-0123456789")).status).toBe(401);
    expect((await call("/ui/api/overview", INGEST)).status).toBe(403);
    expect((await call(`/ui/api/queues/${main}/dead-letters`, INGEST)).status).toBe(403);
    expect((await call(dlPath("replay"), INGEST, { all: true })).status).toBe(403);
    expect((await call(dlPath("purge"), undefined, { all: true })).status).toBe(401);
    expect(await deadLetterCount()).toBe(5);
    expect((await call("/ui/api/overview", UNLIMITED)).status).toBe(200);
    const overview = await call("/ui/api/overview", ADMIN);
    expect(overview.status).toBe(200);
    expect(overview.headers.get("cache-control")).toBe("no-store");
    // The admin token is no ingest token.
    expect((await call("/v1/events", ADMIN, [{ type: "x" }])).status).toBe(403);
  });

  it("reports the figures Redis holds, for the pipeline's queues", async () => {
    const overview = await json<{
      auth: string;
      atMs: number;
      queues: Record<string, unknown>[];
      workers: Record<string, unknown>[];
      collectors: { id: string }[];
    }>("/ui/api/overview");
    expect(overview.auth).toBe("token");
    expect(overview.queues.map((q) => q.queue)).toEqual([side, main]);
    expect(overview.queues[1]).toEqual({
      queue: main,
      pending: 0,
      inFlight: 0,
      oldestPendingAgeMs: 0,
      enqueued: 25,
      processed: 20,
      retriesWaiting: 0,
      retried: 0,
      deadLetters: 5,
      liveWorkers: 1,
    });
    expect(overview.queues[0]).toMatchObject({ pending: 4, processed: 0, liveWorkers: 0 });
    const stats = await readQueueStats(redis, queueKeys(main));
    expect(stats.processed).toBe(20);
    expect(overview.workers).toEqual([
      { id: workerId, queue: main, inFlight: 0, processed: 20, expired: false },
    ]);
    // Collectors report themselves once a second.
    await expect
      .poll(
        async () => (await json<typeof overview>("/ui/api/overview")).collectors.map((c) => c.id),
        { timeout: 10_000 },
      )
      .toContain(guarded.config.collectorId);
    // Side's events wait for a worker: their age grows.
    await expect
      .poll(
        async () => (await json<typeof overview>("/ui/api/overview")).queues[0]!.oldestPendingAgeMs,
        { timeout: 10_000 },
      )
      .toBeGreaterThan(0);
    const later = await json<typeof overview>("/ui/api/overview");
    expect(later.atMs).toBeGreaterThanOrEqual(overview.atMs);
  });

  it("lists, filters and inspects dead letters", async () => {
    const all = await deadLetters();
    expect(all.total).toBe(5);
    expect(all.entries.map((e) => e.eventId).sort()).toEqual([...FAILING, ...REJECTED].sort());
    expect(new Set(all.entries.map((e) => e.ref)).size).toBe(5);
    const f1 = all.entries.find((e) => e.eventId === "f1")!;
    expect(f1).toMatchObject({ type: "ui.fail", reason: "max_attempts", attempts: 1 });
    expect(f1.lastError).toContain("boom f1 run 1");

    const rejected = await deadLetters("?reason=rejected");
    expect(rejected.entries.map((e) => e.eventId).sort()).toEqual(REJECTED);
    expect(rejected.total).toBe(5);
    expect((await deadLetters("?type=ui.fail")).entries).toHaveLength(3);
    expect((await deadLetters("?limit=2")).entries).toHaveLength(2);
    for (const query of ["?limit=0", "?limit=abc", "?limit=1001", "?reason=nope"]) {
      expect((await call(`/ui/api/queues/${main}/dead-letters${query}`, ADMIN)).status).toBe(400);
    }

    const detail = await json<{
      entries: { ref: string; payload: unknown; event: unknown; meta: unknown }[];
    }>(dlPath("f1"));
    expect(detail.entries).toHaveLength(1);
    const entry = detail.entries[0]!;
    const payload = JSON.stringify({ order: "f1" });
    expect(entry.payload).toEqual({
      bytes: payload.length,
      text: payload,
      hex: Buffer.from(payload).toString("hex"),
    });
    expect(entry.event).toMatchObject({ eventId: "f1", type: "ui.fail" });
    expect(entry.meta).toMatchObject({ reason: "max_attempts", attempts: 1, worker: workerId });
    expect(entry.ref).toBe(f1.ref);
    expect((await call(dlPath("no-such-id"), ADMIN)).status).toBe(404);
  });

  it("replays and purges exactly the entries named", async () => {
    const refOf = async (id: string) =>
      (await deadLetters()).entries.find((e) => e.eventId === id)?.ref;

    // One entry by its ref: replayed once, then processed; the same ref again finds nothing.
    const f1 = (await refOf("f1"))!;
    expect(await json(dlPath("replay"), { refs: [f1] })).toEqual({
      queue: main,
      replayed: 1,
      missing: [],
    });
    await until("f1 processed after its replay", () => handled.has("f1"), 15_000);
    expect(runs.get("f1")).toBe(2);
    expect(await json(dlPath("replay"), { refs: [f1] })).toMatchObject({
      replayed: 0,
      missing: [f1],
    });

    // f2 fails again after a replay by id: a new entry with the same id, which the old ref
    // does not name.
    const f2 = (await refOf("f2"))!;
    expect(await json(dlPath("replay"), { ids: ["f2"] })).toMatchObject({ replayed: 1 });
    await until(
      "f2 dead-lettered again",
      async () => ![undefined, f2].includes(await refOf("f2")),
      15_000,
    );
    expect(await json(dlPath("replay"), { refs: [f2] })).toMatchObject({
      replayed: 0,
      missing: [f2],
    });
    expect(await json(dlPath("purge"), { refs: [f2] })).toMatchObject({ purged: 0, missing: [f2] });
    expect(await refOf("f2")).toBeDefined();
    expect(await json(dlPath("purge"), { ids: ["f2", "never-there"] })).toEqual({
      queue: main,
      purged: 1,
      missing: ["never-there"],
    });
    expect(await refOf("f2")).toBeUndefined();

    // By reason, then everything that is left.
    expect(await json(dlPath("purge"), { reason: "rejected" })).toEqual({ queue: main, purged: 2 });
    expect((await deadLetters()).entries.map((e) => e.eventId)).toEqual(["f3"]);
    expect(await json(dlPath("replay"), { all: true })).toEqual({ queue: main, replayed: 1 });
    await until("f3 processed after its replay", () => handled.has("f3"), 15_000);
    expect(await deadLetterCount()).toBe(0);
    const stats = await readQueueStats(redis, queueKeys(main));
    expect(stats.processed).toBe(OK.length + 2);
  });

  it("refuses bodies that name no single selection, and forms", async () => {
    const bad: unknown[] = [
      {},
      { all: false },
      { ids: "f1" },
      { ids: [] },
      { ids: [""] },
      { refs: [1] },
    ];
    bad.push({ ids: ["a"], all: true }, { id: "f1" }, { reason: "nope" }, { type: "" });
    for (const body of [...bad, [], "null"]) {
      const response = await call(dlPath("replay"), ADMIN, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
    }
    expect(
      (await call(dlPath("purge"), ADMIN, "all=true", "application/x-www-form-urlencoded")).status,
    ).toBe(415);
    expect((await call(dlPath("purge"), ADMIN, '{"all":true}', "text/plain")).status).toBe(415);
    const noBody = await fetch(`${guarded.httpUrl}${dlPath("purge")}`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(noBody.status).toBe(400);
    // GET cannot change anything: there is no such route.
    expect((await call(dlPath("replay"), ADMIN)).status).toBe(404);
  });

  it("answers 404 for a queue that is not the pipeline's", async () => {
    // A queue that exists in Redis, but not in this collector's pipeline.
    const other = uniqueQueueName("ui_other");
    await redis.lpush(queueKeys(other).deadLetter, "dl1:{}\nx");
    for (const queue of [other, "nope"]) {
      const base = `/ui/api/queues/${queue}/dead-letters`;
      expect((await call(base, ADMIN)).status).toBe(404);
      expect((await call(`${base}/x`, ADMIN)).status).toBe(404);
      expect((await call(`${base}/replay`, ADMIN, { all: true })).status).toBe(404);
      expect((await call(`${base}/purge`, ADMIN, { all: true })).status).toBe(404);
    }
    expect(await redis.llen(queueKeys(other).deadLetter)).toBe(1);
    await redis.del(queueKeys(other).deadLetter);
  });

  it("is open without tokens, and says so", async () => {
    const response = await fetch(`${open.httpUrl}/ui/api/overview`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ auth: "open" });
  });
});
