// `pnpm top` as people use it: in a real terminal (tmux) beside a running pipeline, read off
// the screen; printed once into a pipe; and through a Redis that goes away and comes back.
import { execFileSync, spawnSync } from "node:child_process";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { createProducer, newEvent } from "../packages/producer/src/index.js";
import {
  type CollectorSnapshot,
  forgetCollector,
  queueKeys,
  readQueueStats,
  reportCollector,
} from "../packages/queue/src/index.js";
import { freePort, startRedisServer, until } from "../packages/testkit/src/index.js";
import { PermanentFailure, RetryLater } from "../packages/worker/src/index.js";
import { startTestCollector, uniqueQueueName } from "../test-support/collector.js";
import { useSharedRedis } from "../test-support/shared-redis.js";
import { startTestWorker } from "../test-support/worker.js";

const TOP_CLI = fileURLToPath(new URL("../packages/cli/dist/top-cli.js", import.meta.url));
const { redisUrl, redis } = useSharedRedis();

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let terminals = 0;
/** `command` in a tmux pane of its own server, killed after the test. */
function terminal(command: string, width = 160, height = 50) {
  const socket = `eventpipe-top-${process.pid}-${terminals++}`;
  const tmux = (...args: string[]) =>
    execFileSync("tmux", ["-L", socket, ...args], { encoding: "utf8" });
  tmux("new-session", "-d", "-s", "top", "-x", String(width), "-y", String(height), command);
  cleanups.push(() => {
    try {
      tmux("kill-server");
    } catch {}
  });
  return {
    tmux,
    screen: () => tmux("capture-pane", "-p", "-t", "top"),
    cursorVisible: () =>
      tmux("display-message", "-p", "-t", "top", "#{cursor_flag}").trim() === "1",
  };
}

/** `top` in a pane, and "top exited with <code>" printed when it ends. */
function topCommand(url: string, args: string): string {
  return `REDIS_URL=${url} node ${TOP_CLI} ${args}; echo "top exited with $?"; sleep 600`;
}

/** The cells of the screen line whose first cell is `first`, numbers as numbers. */
function row(screen: string, first: string): (string | number)[] | undefined {
  for (const line of screen.split("\n")) {
    const cells = line.trim().split(/\s+/);
    if (cells[0] === first)
      return cells.map((cell) => (/^\d+(\.\d+)?$/.test(cell) ? Number(cell) : cell));
  }
  return undefined;
}

type Cell = string | number;
const QUEUE_COLUMNS = [
  "queue",
  "pending",
  "inFlight",
  "oldest",
  "inRate",
  "outRate",
  "processed",
  "retrying",
  "retried",
  "dead",
  "workers",
] as const;
const WORKER_COLUMNS = ["id", "queue", "inFlight", "processed", "rate"] as const;

/** The row whose first cell is `first`, by column name, when it has every column. */
function line<Name extends string>(
  screen: string,
  first: string,
  columns: readonly Name[],
): Record<Name, Cell> | undefined {
  const cells = row(screen, first);
  if (cells?.length !== columns.length) return undefined;
  return Object.fromEntries(columns.map((name, i) => [name, cells[i]])) as Record<Name, Cell>;
}
type QueueLine = Record<(typeof QUEUE_COLUMNS)[number], Cell>;
const queueLine = (screen: string, queue: string) => line(screen, queue, QUEUE_COLUMNS);
const workerLine = (screen: string, id: string) => line(screen, id, WORKER_COLUMNS);
const positive = (cell: Cell | undefined) => typeof cell === "number" && cell > 0;

describe("pnpm top", () => {
  it("in a terminal, follows a run: the queue's figures move, the worker shows what it holds, all drained at the end", async () => {
    const queue = uniqueQueueName("top");
    const collector = await startTestCollector(redisUrl, queue);
    cleanups.push(() => collector.close());
    // The first events wait at this gate, so the worker visibly holds some.
    let openGate = () => {};
    const gate = new Promise<void>((resolve) => {
      openGate = resolve;
    });
    const workerId = `top-worker-${process.pid}-${Date.now().toString(36)}`;
    const worker = await startTestWorker(
      redisUrl,
      queue,
      async () => {
        await gate;
        await delay(2); // the handler's work
      },
      { WORKER_ID: workerId, WORKER_CONCURRENCY: "8" },
    );
    cleanups.push(() => worker.close());
    // A collector's snapshot as collectors write them every second (each collector reports
    // its own; this one's figures are known, so its rates are too).
    const collectorId = `top-test-collector-${process.pid}-${Date.now().toString(36)}`;
    cleanups.push(async () => {
      await forgetCollector(redis, collectorId);
    });
    const snapshot = (atMs: number, received: number): CollectorSnapshot => ({
      id: collectorId,
      streams: 3,
      buffered: 7,
      received,
      accepted: received - 10,
      atMs,
    });
    const firstAt = Date.now();
    await reportCollector(redis, snapshot(firstAt, 1000));

    const { screen, tmux, cursorVisible } = terminal(topCommand(redisUrl, `--queue ${queue}`));
    await until("the queue's row", () => queueLine(screen(), queue) !== undefined, 15_000);
    expect(queueLine(screen(), queue)).toMatchObject({ pending: 0, inFlight: 0, processed: 0 });
    expect(cursorVisible()).toBe(false);
    await until("the worker's row", () => workerLine(screen(), workerId) !== undefined, 15_000);
    expect(workerLine(screen(), workerId)).toMatchObject({ queue, inFlight: 0, processed: 0 });

    // The collector's next snapshot, 1 s later on its clock: 2000 received/s, 2000 accepted/s.
    await until("the collector's row", () => row(screen(), collectorId) !== undefined, 15_000);
    await reportCollector(redis, snapshot(firstAt + 1000, 3000));
    await until(
      "the collector's rates",
      () => row(screen(), collectorId)?.join(" ") === `${collectorId} 3 7 2000 2000`,
      15_000,
    );

    // The pipeline's own collector reports itself every second too.
    await until(
      "the pipeline's collector on the screen",
      () => row(screen(), collector.config.collectorId) !== undefined,
      15_000,
    );

    // Held at the gate: what the screen says the worker holds is what Redis says it holds.
    const producer = createProducer({ address: collector.address, batchSize: 100 });
    cleanups.push(async () => {
      await producer.close();
    });
    const held = 100;
    for (let i = 0; i < held; i++) await producer.send(newEvent("top.test"));
    await producer.flush();
    const heldByWorker = async () =>
      (await readQueueStats(redis, queueKeys(queue))).workers.find((w) => w.id === workerId)
        ?.inFlight ?? 0;
    await until(
      "the worker's in-flight events on the screen",
      async () => {
        const shown = workerLine(screen(), workerId)?.inFlight;
        return positive(shown) && shown === (await heldByWorker());
      },
      15_000,
    );
    const holding = workerLine(screen(), workerId)!.inFlight;
    const during = queueLine(screen(), queue)!;
    expect(during.inFlight).toBe(holding);
    expect(Number(during.pending) + Number(during.inFlight)).toBe(held);
    expect(during.workers).toBe(1);

    // Open the gate and send the rest in chunks, each once the screen shows the last one done.
    openGate();
    const seen: QueueLine[] = [];
    const watch = () => {
      const current = queueLine(screen(), queue);
      if (current !== undefined) seen.push(current);
      return current;
    };
    const chunk = 500;
    const total = held + 6 * chunk;
    let sent = held;
    while (sent < total) {
      for (let i = 0; i < chunk; i++) await producer.send(newEvent("top.test"));
      await producer.flush();
      sent += chunk;
      await until(
        `${sent} processed on the screen`,
        () => Number(watch()?.processed ?? 0) >= sent,
        30_000,
      );
    }
    expect((await producer.close()).stored).toBe(total);
    await until(
      "the queue drained on the screen",
      () => {
        const current = watch();
        return current?.pending === 0 && current.inFlight === 0 && current.processed === total;
      },
      30_000,
    );
    expect(workerLine(screen(), workerId)).toMatchObject({ inFlight: 0, processed: total });
    expect(new Set(seen.map((s) => s.processed)).size).toBeGreaterThan(5);
    expect(seen.some((s) => positive(s.inRate))).toBe(true);
    expect(seen.some((s) => positive(s.outRate))).toBe(true);
    expect(queueLine(screen(), queue)).toMatchObject({ retrying: 0, retried: 0, dead: 0 });

    // Narrower than the table: lines are cut, not wrapped; the names and first counts stay.
    tmux("resize-window", "-t", "top", "-x", "60");
    await until(
      "the frame cut to 60 columns",
      () =>
        screen()
          .split("\n")
          .some((l) => l.startsWith("QUEUE") && l.endsWith("…")),
      15_000,
    );
    const narrow = screen().split("\n");
    expect(narrow.every((l) => [...l].length <= 60)).toBe(true);
    expect(narrow[0]).toMatch(/^eventpipe top /);
    expect(row(narrow.join("\n"), queue)?.slice(0, 3)).toEqual([queue, 0, 0]);

    // Ctrl-C: exit code 0 and the cursor back.
    tmux("send-keys", "-t", "top", "C-c");
    await until("top to exit", () => screen().includes("top exited with"), 15_000);
    expect(screen()).toContain("top exited with 0");
    expect(cursorVisible()).toBe(true);
  });

  it("--once into a pipe: one frame, no escape codes, the figures Redis holds", async () => {
    const queue = uniqueQueueName("top_once");
    const collector = await startTestCollector(redisUrl, queue);
    cleanups.push(() => collector.close());
    const workerId = `top-once-worker-${process.pid}-${Date.now().toString(36)}`;
    const worker = await startTestWorker(
      redisUrl,
      queue,
      async (event) => {
        if (event.type === "top.retry") throw new RetryLater("later", 3_600_000);
        if (event.type === "top.reject") throw new PermanentFailure("never");
      },
      { WORKER_ID: workerId },
    );
    cleanups.push(() => worker.close());
    const producer = createProducer({ address: collector.address, batchSize: 50 });
    const types = [
      ...Array<string>(180).fill("top.ok"),
      ...Array<string>(12).fill("top.retry"),
      ...Array<string>(8).fill("top.reject"),
    ];
    for (const type of types) await producer.send(newEvent(type));
    expect((await producer.close()).stored).toBe(types.length);
    const stats = () => readQueueStats(redis, queueKeys(queue));
    await until(
      "every event handled",
      async () => {
        const s = await stats();
        return s.processed === 180 && s.retriesWaiting === 12 && s.deadLettered === 8;
      },
      15_000,
    );

    const result = spawnSync(process.execPath, [TOP_CLI, "--once", "--queue", queue], {
      env: { PATH: process.env.PATH ?? "", REDIS_URL: redisUrl },
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).not.toContain("\x1b");
    const expected = await stats();
    expect(queueLine(result.stdout, queue)).toEqual({
      queue,
      pending: expected.pending,
      inFlight: expected.inFlight,
      oldest: "-",
      inRate: 0,
      outRate: 0,
      processed: expected.processed,
      retrying: expected.retriesWaiting,
      retried: expected.retried,
      dead: expected.deadLettered,
      workers: expected.workers.length,
    });
    expect(queueLine(result.stdout, queue)).toMatchObject({
      pending: 0,
      processed: 180,
      retrying: 12,
      retried: 12,
      dead: 8,
      workers: 1,
    });
    expect(workerLine(result.stdout, workerId)).toEqual({
      id: workerId,
      queue,
      inFlight: 0,
      processed: expected.workers.find((w) => w.id === workerId)!.processed,
      rate: 0,
    });
  });

  it("--once without Redis: exit 1 and says where it could not connect", async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const result = spawnSync(process.execPath, [TOP_CLI, "--once", "--queue", "q"], {
      env: { PATH: process.env.PATH ?? "", REDIS_URL: url },
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(result.status).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(`top: cannot read from Redis at ${url}: connect ECONNREFUSED`);
  });

  it("in a terminal, shows Redis going away, keeps trying, and recovers when it is back", async () => {
    const server = await startRedisServer();
    cleanups.push(() => server.destroy());
    const queue = uniqueQueueName("top_outage");
    const { screen } = terminal(topCommand(server.url, `--queue ${queue} --interval 200`));
    await until("the queue's row", () => queueLine(screen(), queue) !== undefined, 15_000);

    await server.stop();
    await until(
      "the outage on the screen",
      () => screen().includes(`Redis unreachable at ${server.url}`),
      15_000,
    );
    // The last figures stay, with their time, and top keeps running.
    expect(screen()).toMatch(/retrying; figures below from \d\d:\d\d:\d\d/);
    expect(queueLine(screen(), queue)).toMatchObject({ pending: 0 });
    expect(screen()).not.toContain("top exited");

    await server.start();
    await until("the screen to recover", () => !screen().includes("unreachable"), 15_000);
    expect(queueLine(screen(), queue)).toMatchObject({ pending: 0, processed: 0 });
  });
});
