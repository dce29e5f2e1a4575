// `pnpm top [--queue Q]... [--interval MS] [--once]`: a live view of the pipeline, redrawn
// every interval: per queue depth, in flight, oldest pending age, in/out rates, retries, dead
// letters and workers; per worker what it holds and its rate; the collectors' streams. Plain
// ANSI (home, clear line, clear below) on a terminal, so it works over SSH and in tmux; frames
// one after another, without escape codes, when stdout is not a terminal. Redis being
// unreachable is shown on the screen and retried; with --once it is an error (exit 1).
import { setTimeout as delay } from "node:timers/promises";
import { parseArgs } from "node:util";
import { queuesOf, readPipeline } from "@eventpipe/pipeline";
import {
  ConfigError,
  connectRedis,
  DEFAULT_QUEUE_NAME,
  describeRedis,
  readRedisConnection,
  readString,
} from "@eventpipe/queue";
import { advance, type TopState, type TopView } from "./top-model.js";
import { readTop } from "./top-read.js";
import { type FrameOptions, renderFrame } from "./top-render.js";

const USAGE = `usage: pnpm top [--queue Q]... [--interval MS] [--once]
  --queue Q        a queue to show; repeat it or give a comma list (default: every queue of
                   EVENTPIPE_CONFIG, else QUEUE_NAME)
  --interval MS    time between readings (default 1000)
  --once           print one frame and exit (two readings one interval apart, for the rates)
Redis: REDIS_URL (or REDIS_HOST, REDIS_PORT, REDIS_PASSWORD). Colour on a terminal unless
NO_COLOR is set.`;

const MIN_INTERVAL_MS = 100;
const MAX_INTERVAL_MS = 3_600_000;

const CLEAR_SCREEN = "\x1b[2J";
const HOME = "\x1b[H";
const CLEAR_LINE_END = "\x1b[K";
const CLEAR_BELOW = "\x1b[J";
const HIDE_CURSOR = "\x1b[?25l";
const SHOW_CURSOR = "\x1b[?25h";

function fail(message: string, exitCode: number): never {
  console.error(`top: ${message}`);
  if (exitCode === 2) console.error(USAGE);
  process.exit(exitCode);
}

function readOptions() {
  try {
    const { values } = parseArgs({
      options: {
        queue: { type: "string", multiple: true },
        interval: { type: "string", default: "1000" },
        once: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    });
    if (values.help) {
      console.log(USAGE);
      process.exit(0);
    }
    const intervalMs = Number(values.interval);
    if (
      !Number.isInteger(intervalMs) ||
      intervalMs < MIN_INTERVAL_MS ||
      intervalMs > MAX_INTERVAL_MS
    ) {
      fail(
        `--interval must be a whole number of ms from ${MIN_INTERVAL_MS} to ${MAX_INTERVAL_MS}, got "${values.interval}"`,
        2,
      );
    }
    const named = (values.queue ?? [])
      .flatMap((list) => list.split(","))
      .map((queue) => queue.trim())
      .filter((queue) => queue !== "");
    const queues =
      named.length > 0
        ? [...new Set(named)]
        : queuesOf(
            readPipeline(process.env, readString(process.env, "QUEUE_NAME", DEFAULT_QUEUE_NAME)),
          );
    return { queues, intervalMs, once: values.once };
  } catch (error) {
    fail((error as Error).message, error instanceof ConfigError ? 1 : 2);
  }
}

const clock = (date = new Date()) => date.toTimeString().slice(0, 8);
const every = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);

async function main(): Promise<void> {
  const options = readOptions();
  let connection: ReturnType<typeof readRedisConnection>;
  try {
    connection = readRedisConnection(process.env);
  } catch (error) {
    fail((error as Error).message, 1);
  }
  const where = describeRedis(connection);
  const redis = connectRedis(connection, "writer", {
    // Commands wait for the connection instead of failing before it is made; each still fails
    // once an attempt to connect fails (maxRetriesPerRequest 0), which the screen then shows.
    enableOfflineQueue: true,
    // Live: keep trying, backing off to 2 s. --once: one attempt, then say so and exit 1.
    retryStrategy: options.once ? () => null : (attempt) => Math.min(250 * attempt, 2000),
    // A Redis that stopped answering shows as unreachable after this, not as a frozen screen.
    commandTimeout: Math.max(2000, options.intervalMs * 2),
  });
  // ioredis's reason (ECONNREFUSED, ETIMEDOUT...) says more than the failed command's error.
  let redisError: string | undefined;
  redis.on("error", (error: Error) => {
    redisError = error.message;
  });
  redis.on("ready", () => {
    redisError = undefined;
  });
  const why = (error: unknown) => redisError ?? (error as Error).message;

  const out = process.stdout;
  // Output piped into `head` that exits: nothing left to show.
  out.on("error", () => process.exit(0));
  const terminal = out.isTTY === true && process.env.TERM !== "dumb";
  const colour = terminal && (process.env.NO_COLOR ?? "") === "";
  const header = (live: boolean) =>
    [
      "eventpipe top",
      where,
      `${options.queues.length} queue${options.queues.length === 1 ? "" : "s"}`,
      `every ${every(options.intervalMs)}`,
      clock(),
      ...(live ? ["Ctrl-C quits"] : []),
    ].join("  ");
  const frame = (view: TopView | undefined, extra: Partial<FrameOptions>) =>
    renderFrame(view, {
      colour,
      // One column short of the edge: a full line would leave the cursor waiting to wrap,
      // where "clear to end of line" erases the last character on many terminals.
      width: out.isTTY && out.columns ? Math.max(1, out.columns - 1) : Number.POSITIVE_INFINITY,
      height: terminal && out.rows ? out.rows : Number.POSITIVE_INFINITY,
      header: header(!options.once),
      ...extra,
    });

  if (options.once) {
    try {
      const first = advance(undefined, await readTop(redis, options.queues));
      await delay(options.intervalMs);
      const { view } = advance(first.state, await readTop(redis, options.queues));
      out.write(`${frame(view, { height: Number.POSITIVE_INFINITY }).join("\n")}\n`);
    } catch (error) {
      redis.disconnect();
      fail(`cannot read from Redis at ${where}: ${why(error)}`, 1);
    }
    redis.disconnect();
    return;
  }

  let state: TopState | undefined;
  let view: TopView | undefined;
  let status: FrameOptions["status"] = { text: `connecting to Redis at ${where}…`, style: "muted" };
  let lastReadingAt: Date | undefined;
  const draw = () => {
    const lines = frame(view, status === undefined ? {} : { status });
    if (terminal) {
      out.write(
        `${HOME}${lines.map((line) => `${line}${CLEAR_LINE_END}`).join("\n")}${CLEAR_BELOW}`,
      );
    } else {
      out.write(`${lines.join("\n")}\n\n`);
    }
  };
  const restore = () => {
    if (terminal) out.write(`\x1b[0m${SHOW_CURSOR}\n`);
  };
  // Read-only: nothing to finish, so Ctrl-C leaves at once, even in the middle of a read.
  const stop = () => {
    restore();
    redis.disconnect();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  process.once("SIGHUP", stop);
  if (terminal) {
    out.write(`${HIDE_CURSOR}${CLEAR_SCREEN}`);
    out.on("resize", () => {
      out.write(CLEAR_SCREEN);
      draw();
    });
  }

  // "connecting…" at once, rather than a blank screen while the first reading waits.
  if (terminal) draw();
  for (;;) {
    const started = performance.now();
    try {
      ({ view, state } = advance(state, await readTop(redis, options.queues)));
      status = undefined;
      lastReadingAt = new Date();
    } catch (error) {
      const since =
        lastReadingAt === undefined ? "" : `; figures below from ${clock(lastReadingAt)}`;
      status = {
        text: `Redis unreachable at ${where}: ${why(error)}; retrying${since}`,
        style: "bad",
      };
    }
    draw();
    await delay(Math.max(0, started + options.intervalMs - performance.now()));
  }
}

main().catch((error: unknown) => fail((error as Error).message, 1));
