// `pnpm listen` as people use it: in a real terminal (tmux) beside the seed's HTTP flow, killed
// with kill -9 (its keys expire), and paused with SIGSTOP while 100,000 events flow (its
// buffer stays bounded, the drops are reported and account, by id, for what it did not show).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { createProducer, newEvent } from "../packages/producer/src/index.js";
import { LISTENER_BUFFER, queueKeys } from "../packages/queue/src/index.js";
import { type NodeProcess, startNodeProcess, until } from "../packages/testkit/src/index.js";
import {
  startTestCollector,
  type TestCollector,
  uniqueQueueName,
} from "../test-support/collector.js";
import { useSharedRedis } from "../test-support/shared-redis.js";
import { startTestWorker, type TestWorker } from "../test-support/worker.js";

const LISTEN_CLI = fileURLToPath(new URL("../packages/cli/dist/listen-cli.js", import.meta.url));
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const { redisUrl, redis } = useSharedRedis();

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function collectorFor(queue: string): Promise<TestCollector> {
  const collector = await startTestCollector(redisUrl, queue);
  cleanups.push(() => collector.close());
  return collector;
}

function listen(queue: string, args: string[], env: Record<string, string> = {}) {
  const proc = startNodeProcess(LISTEN_CLI, ["--queue", queue, ...args], {
    REDIS_URL: redisUrl,
    ...env,
  });
  let stdout = "";
  proc.child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  cleanups.push(async () => {
    proc.signal("SIGCONT");
    proc.signal("SIGKILL");
    await proc.exited;
  });
  return { proc, stdout: () => stdout };
}

const registered = async (queue: string) => (await redis.zcard(queueKeys(queue).listeners)) > 0;

async function waitForListener(proc: NodeProcess, queue: string): Promise<void> {
  await until(
    "the listener to register",
    async () => {
      if (proc.child.exitCode !== null) throw new Error(`listen exited:\n${proc.output()}`);
      return registered(queue);
    },
    15_000,
  );
}

describe("pnpm listen", () => {
  it("in a terminal, shows each fruit sent over HTTP while a worker still processes every one", async () => {
    const queue = uniqueQueueName("fruits");
    const collector = await collectorFor(queue);
    const processed: string[] = [];
    const worker: TestWorker = await startTestWorker(redisUrl, queue, async (event) => {
      processed.push(event.eventId);
    });
    cleanups.push(() => worker.close());

    const dir = mkdtempSync(join(tmpdir(), "eventpipe-listen-"));
    const socket = `eventpipe-listen-${process.pid}`;
    const tmux = (...args: string[]) =>
      execFileSync("tmux", ["-L", socket, ...args], { encoding: "utf8" });
    cleanups.push(() => {
      try {
        tmux("kill-server");
      } catch {}
      rmSync(dir, { recursive: true, force: true });
    });

    // As a person types it, from the repository's root.
    const listenCommand = `REDIS_URL=${redisUrl} pnpm --silent listen --queue ${queue} --types SpongeBob.Fruits`;
    tmux("new-session", "-d", "-s", "listen", "-x", "200", "-y", "50", "-c", ROOT, listenCommand);
    await until("the listener to register", () => registered(queue), 15_000);

    const fruits = ["pineapple", "kelp", "jellyfish-jelly", "krabby-patty", "coral-berry"];
    const http = collector.httpUrl;
    const script = join(dir, "send-fruits.sh");
    writeFileSync(
      script,
      [
        "set -e",
        `curl -sf -X POST ${http}/SpongeBob/Fruits/register_event -H 'content-type: application/json' -d '{"type":"object","required":["fruit"],"properties":{"fruit":{"type":"string"}}}'`,
        ...fruits.map(
          (fruit) =>
            `curl -sf -X POST ${http}/SpongeBob/Fruits/send_event -H 'content-type: application/json' -d '{"fruit":"${fruit}"}'`,
        ),
        // Another type: the worker gets it, the listener's --types leaves it out.
        `curl -sf -X POST ${http}/SpongeBob/Weather/send_event -H 'content-type: application/json' -d '{"sky":"blue"}'`,
        `echo; echo SENT-ALL`,
        "sleep 600",
      ].join("\n"),
    );
    tmux("split-window", "-v", "-t", "listen", `bash ${script}`);

    const screen = () => tmux("capture-pane", "-p", "-t", "listen:0.0");
    const sender = () => tmux("capture-pane", "-p", "-t", "listen:0.1");
    await until("the sender to finish", () => sender().includes("SENT-ALL"), 15_000);
    await until(
      "every fruit on the listener's screen",
      () => fruits.every((fruit) => screen().includes(fruit)),
      15_000,
    );
    const lines = screen()
      .split("\n")
      .filter((line) => line.includes("SpongeBob."));
    expect(lines).toHaveLength(fruits.length);
    expect(lines.every((line) => line.includes("SpongeBob.Fruits"))).toBe(true);
    expect(screen()).not.toContain("blue");

    // The worker still gets every event, the fruits and the other type alike.
    await until("the worker to process all six events", () => processed.length === 6, 15_000);
    expect(new Set(processed).size).toBe(6);
  });

  it("killed with kill -9, leaves no key behind once its lease runs out", async () => {
    const queue = uniqueQueueName("killed");
    const collector = await collectorFor(queue);
    const { proc } = listen(queue, [], { LISTEN_LEASE_MS: "1500" });
    await waitForListener(proc, queue);

    const producer = createProducer({ address: collector.address, batchSize: 100 });
    for (let i = 0; i < 300; i++) await producer.send(newEvent("t"));
    await producer.close();
    proc.signal("SIGKILL");
    await proc.exited;
    // Stored after its death: the feed must not bring its list back to life.
    const late = createProducer({ address: collector.address, batchSize: 100 });
    for (let i = 0; i < 50; i++) await late.send(newEvent("t"));
    await late.close();

    const listenerKeys = () => redis.keys(`${queueKeys(queue).listeners}*`);
    await until(
      "the killed listener's keys to expire",
      async () => (await listenerKeys()).length === 0,
      15_000,
    );
    expect(await redis.llen(queue)).toBe(350);
  });

  it("paused with SIGSTOP while 100,000 events flow, holds at most its buffer, then reports what it dropped", async () => {
    const queue = uniqueQueueName("paused");
    const collector = await collectorFor(queue);
    const { proc, stdout } = listen(queue, ["--json"]);
    await waitForListener(proc, queue);

    const total = 100_000;
    const sent: string[] = [];
    const producer = createProducer({ address: collector.address, batchSize: 500 });
    const early = 1000;
    for (let i = 0; i < early; i++) {
      const event = newEvent("paused.test");
      sent.push(event.eventId);
      await producer.send(event);
    }
    await producer.flush();
    const printedIds = () =>
      stdout()
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => (JSON.parse(line) as { eventId: string }).eventId);
    await until("the first events on screen", () => printedIds().length === early, 15_000);

    proc.signal("SIGSTOP");
    for (let i = early; i < total; i++) {
      const event = newEvent("paused.test");
      sent.push(event.eventId);
      await producer.send(event);
    }
    await producer.close();
    const list = queueKeys(queue).listener(await onlyListener(queue));
    expect(await redis.llen(list)).toBe(LISTENER_BUFFER);
    const bytes = Number(await redis.memory("USAGE", list, "SAMPLES", "0"));
    expect(bytes).toBeLessThan(LISTENER_BUFFER * 1024);

    proc.signal("SIGCONT");
    const reported = () => /listen: (\d+) events of (\S+) dropped/.exec(proc.output());
    await until(
      "the listener to catch up and report its drops",
      () => {
        const drops = reported();
        return drops !== null && printedIds().length + Number(drops[1]) === total;
      },
      30_000,
    );
    const dropped = Number(reported()![1]);
    expect(reported()![2]).toBe(queue);
    // What it showed: everything up to the pause (and a read already waiting in Redis when it
    // stopped), then the newest LISTENER_BUFFER; exactly the events in between are the ones it
    // reported dropped.
    const before = printedIds().length - LISTENER_BUFFER;
    expect(before).toBeGreaterThanOrEqual(early);
    expect(printedIds()).toEqual([...sent.slice(0, before), ...sent.slice(before + dropped)]);
    // It took nothing: the queue holds every event.
    expect(await redis.llen(queue)).toBe(total);

    proc.signal("SIGINT");
    expect(await proc.exited).toBe(0);
    expect(await redis.keys(`${queueKeys(queue).listeners}*`)).toEqual([]);
  });
});

async function onlyListener(queue: string): Promise<string> {
  const members = await redis.zrange(queueKeys(queue).listeners, 0, -1);
  expect(members).toHaveLength(1);
  return members[0]!;
}
