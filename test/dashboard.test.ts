// The web dashboard (/ui) as an operator uses it, in a real headless Chromium (Debian's
// `chromium`, driven by playwright-core) against a running pipeline: an in-process collector
// with tokens, a worker that fails one type of event on its first run (MAX_ATTEMPTS=1, so
// those are dead-lettered), and a producer sending while the page loads. The page must show
// the figures moving, replay a dead letter from its list after a confirmation, and show it
// gone while the worker processes it; a wrong token shows an error and no data. The
// screenshot lands in test-artifacts/dashboard.png.
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createProducer, newEvent } from "../packages/producer/src/index.js";
import { until } from "../packages/testkit/src/index.js";
import { startTestCollector, uniqueQueueName } from "../test-support/collector.js";
import { useSharedRedis } from "../test-support/shared-redis.js";
import { startTestWorker } from "../test-support/worker.js";

const { redisUrl } = useSharedRedis();

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const ADMIN = "admin-dashboard-0123456789";
const INGEST = "ingest-dashboard-0123456789";
const ARTIFACTS = fileURLToPath(new URL("../test-artifacts/", import.meta.url));
const SCREENSHOT = `${ARTIFACTS}dashboard.png`;
const INSPECT_SCREENSHOT = `${ARTIFACTS}dashboard-inspect.png`;
/** Bound of every wait on the page. */
const PAGE_WAIT_MS = 30_000;
/** Events a chunk; the producer sends the next once the worker is done with the last. */
const CHUNK = 40;
/** Chunks whose first event fails (dash.fail): bad-0 ... bad-3 are dead-lettered. */
const FAILING_CHUNKS = 4;

let browser: Browser;
beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});
afterAll(async () => {
  await browser?.close();
});

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A queue row's figure as the page holds it (its data-value), a number or null. */
async function figure(page: Page, queue: string, field: string): Promise<number | null> {
  const cell = page.locator(`tr[data-queue="${queue}"] [data-field="${field}"]`);
  const value = await cell.getAttribute("data-value", { timeout: PAGE_WAIT_MS });
  return value ? Number(value) : null;
}

describe("the web dashboard in Chromium", () => {
  it("shows the figures moving and replays a dead letter from the page", async () => {
    const queue = uniqueQueueName("dashboard");
    const collector = await startTestCollector(redisUrl, queue, {
      COLLECTOR_TOKENS: `ops:${ADMIN}:admin,producer:${INGEST}:ingest`,
    });
    cleanups.push(() => collector.close());

    // The worker's record: runs per id, and the ids handled successfully.
    const runs = new Map<string, number>();
    const handled = new Set<string>();
    let failures = 0;
    const workerId = `dashboard-worker-${process.pid}`;
    const worker = await startTestWorker(
      redisUrl,
      queue,
      async (event) => {
        const run = (runs.get(event.eventId) ?? 0) + 1;
        runs.set(event.eventId, run);
        if (event.type === "dash.fail" && run === 1) {
          failures++;
          throw new Error(`payment declined for ${event.eventId}`);
        }
        handled.add(event.eventId);
      },
      { WORKER_ID: workerId, MAX_ATTEMPTS: "1" },
    );
    cleanups.push(() => worker.close());

    // Events flow while the page loads and until the test is done with the figures: each
    // chunk once the worker is through the last, so the queue never runs far ahead.
    const producer = createProducer({ address: collector.address, token: INGEST, batchSize: 40 });
    let flowing = true;
    let sent = 0;
    const flow = (async () => {
      for (let chunk = 0; flowing && chunk < 2500; chunk++) {
        for (let i = 0; i < CHUNK; i++) {
          const failing = chunk < FAILING_CHUNKS && i === 0;
          const eventId = failing ? `bad-${chunk}` : `ok-${chunk}-${i}`;
          const payload = Buffer.from(JSON.stringify({ order: eventId, amount: 10 + i }));
          await producer.send(newEvent(failing ? "dash.fail" : "dash.ok", { eventId, payload }));
        }
        await producer.flush();
        sent += CHUNK;
        await until("the chunk handled", () => handled.size + failures >= sent, PAGE_WAIT_MS);
      }
    })();
    // Kept as a value, so a failed flow fails the test at cleanup, not as an unhandled rejection.
    const flowEnd = flow.then(
      () => undefined,
      (error: unknown) => error,
    );
    cleanups.push(async () => {
      flowing = false;
      const error = await flowEnd;
      await producer.close();
      if (error !== undefined) throw error;
    });

    const context = await browser.newContext({ viewport: { width: 1360, height: 1000 } });
    cleanups.push(() => context.close());
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    page.on("console", (message) => {
      if (/Content.Security.Policy|Refused to/i.test(message.text()))
        pageErrors.push(message.text());
    });

    await page.goto(`${collector.httpUrl}/ui`);
    await page.locator("#login-form").waitFor({ state: "visible", timeout: PAGE_WAIT_MS });
    await page.fill("#token", ADMIN);
    await page.click("#login-form button[type=submit]");
    await page.locator("#dashboard").waitFor({ state: "visible", timeout: PAGE_WAIT_MS });
    await page.locator(`tr[data-queue="${queue}"]`).waitFor({ timeout: PAGE_WAIT_MS });

    // The figures move: processed grows and the out rate shows events going through.
    const firstProcessed = (await figure(page, queue, "processed")) ?? 0;
    await expect
      .poll(
        async () => {
          const [processed, outRate, inRate] = await Promise.all(
            ["processed", "outRate", "inRate"].map((field) => figure(page, queue, field)),
          );
          return (processed ?? 0) > firstProcessed && (outRate ?? 0) > 0 && (inRate ?? 0) > 0;
        },
        { timeout: PAGE_WAIT_MS },
      )
      .toBe(true);
    // The worker and the collector have their rows (a collector reports itself every second).
    await page.locator(`tr[data-worker="${workerId}"]`).waitFor({ timeout: PAGE_WAIT_MS });
    const collectorRow = `tr[data-collector="${collector.config.collectorId}"]`;
    await page.locator(collectorRow).waitFor({ timeout: PAGE_WAIT_MS });
    // The chart has a line of several points.
    const outLine = page.locator('#rate-chart polyline[data-series="outRate"]');
    await expect
      .poll(async () => (await outLine.getAttribute("points")) ?? "", { timeout: PAGE_WAIT_MS })
      .toContain(" ");

    // Every failing event is dead-lettered, and the page says so.
    await expect
      .poll(() => figure(page, queue, "deadLetters"), { timeout: PAGE_WAIT_MS })
      .toBe(FAILING_CHUNKS);

    // The dead letters of the queue: inspect one, then replay another after confirming.
    await page.click(`tr[data-queue="${queue}"] button.open-dead-letters`);
    const bad2 = page.locator('#dl-table tr[data-event-id="bad-2"]');
    await bad2.waitFor({ timeout: PAGE_WAIT_MS });
    expect(await page.locator("#dl-table tbody tr[data-ref]").count()).toBe(FAILING_CHUNKS);
    expect(await bad2.textContent()).toContain("payment declined for bad-2");

    await page.click('#dl-table tr[data-event-id="bad-1"] button.inspect');
    await page.locator("#inspect").waitFor({ state: "visible", timeout: PAGE_WAIT_MS });
    expect(await page.textContent("#inspect-payload")).toBe(
      JSON.stringify({ order: "bad-1", amount: 10 }),
    );
    expect(await page.textContent("#inspect-meta")).toContain(workerId);
    await page.screenshot({ path: INSPECT_SCREENSHOT });
    await page.click("#inspect-hex");
    expect(await page.textContent("#inspect-payload")).toContain("00000000  7b 22 6f 72");
    await page.click("#inspect-close");

    await bad2.locator("button.replay").click();
    await page.locator("#confirm").waitFor({ state: "visible", timeout: PAGE_WAIT_MS });
    expect(await page.textContent("#confirm-text")).toContain("bad-2");
    await page.click("#confirm-ok");

    await expect
      .poll(() => figure(page, queue, "deadLetters"), { timeout: PAGE_WAIT_MS })
      .toBe(FAILING_CHUNKS - 1);
    await bad2.waitFor({ state: "detached", timeout: PAGE_WAIT_MS });
    expect(await page.textContent("#dl-message")).toContain("Replayed 1 dead letter");
    await until("bad-2 processed after its replay", () => handled.has("bad-2"), PAGE_WAIT_MS);
    expect(runs.get("bad-2")).toBe(2);
    // Only bad-2 went back: the others are still dead letters, never run again.
    for (const id of ["bad-0", "bad-1", "bad-3"]) {
      expect(handled.has(id)).toBe(false);
      expect(runs.get(id)).toBe(1);
    }
    expect(await page.locator("#dl-table tbody tr[data-ref]").count()).toBe(FAILING_CHUNKS - 1);

    // The chart keeps every reading (one a second) while the page is open.
    await expect
      .poll(async () => ((await outLine.getAttribute("points")) ?? "").split(" ").length, {
        timeout: PAGE_WAIT_MS,
      })
      .toBeGreaterThanOrEqual(10);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it("shows an error and no data for a wrong token, or one without the admin scope", async () => {
    const queue = uniqueQueueName("dashboard_login");
    const collector = await startTestCollector(redisUrl, queue, {
      COLLECTOR_TOKENS: `ops:${ADMIN}:admin,producer:${INGEST}:ingest`,
    });
    cleanups.push(() => collector.close());
    const context = await browser.newContext();
    cleanups.push(() => context.close());
    const page = await context.newPage();
    await page.goto(`${collector.httpUrl}/ui`);
    await page.locator("#login-form").waitFor({ state: "visible", timeout: PAGE_WAIT_MS });

    await page.fill("#token", "not-the-admin-token-0123");
    await page.click("#login-form button[type=submit]");
    const loginError = () => page.textContent("#login-error");
    await expect.poll(loginError, { timeout: PAGE_WAIT_MS }).toContain("unknown token");
    expect(await page.textContent("#login-error")).toContain("Token refused");
    expect(await page.locator("#dashboard").isHidden()).toBe(true);
    expect(await page.locator("#queues tbody tr").count()).toBe(0);
    // The refused token is not kept.
    expect(await page.evaluate("sessionStorage.length")).toBe(0);

    await page.fill("#token", INGEST);
    await page.click("#login-form button[type=submit]");
    await expect.poll(loginError, { timeout: PAGE_WAIT_MS }).toContain("admin scope");
    expect(await page.locator("#dashboard").isHidden()).toBe(true);
    expect(await page.locator("#queues tbody tr").count()).toBe(0);
  });

  it("opens without a login where no tokens are configured, and warns about it", async () => {
    const queue = uniqueQueueName("dashboard_open");
    const collector = await startTestCollector(redisUrl, queue);
    cleanups.push(() => collector.close());
    const context = await browser.newContext();
    cleanups.push(() => context.close());
    const page = await context.newPage();
    await page.goto(`${collector.httpUrl}/ui`);
    await page.locator(`tr[data-queue="${queue}"]`).waitFor({ timeout: PAGE_WAIT_MS });
    expect(await page.locator("#open-warning").isVisible()).toBe(true);
    expect(await page.textContent("#open-warning")).toContain("open to anyone");
    expect(await page.locator("#login").isHidden()).toBe(true);
  });
});
