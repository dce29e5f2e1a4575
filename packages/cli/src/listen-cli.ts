// `pnpm listen [--queue Q] [--types "SpongeBob.*,order.created"] [--json] [--count N]`: every
// event as it is stored in a queue (or in every queue of the pipeline file), taking nothing:
// the workers still get each event once. Ends on Ctrl-C or after --count events and removes
// its keys; a listener killed outright is forgotten when its lease (LISTEN_LEASE_MS) runs out.
// One that cannot keep up loses the oldest copies past a fixed buffer and says how many.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { queuesOf, readPipeline, typeMatcher } from "@eventpipe/pipeline";
import {
  ConfigError,
  connectRedis,
  createListener,
  DEFAULT_QUEUE_NAME,
  decodeEnvelope,
  isClusterClient,
  queueKeys,
  type Renewal,
  readInteger,
  readRedisConnection,
  readString,
  recordedPartitions,
} from "@eventpipe/queue";
import { formatJson, formatLine, recordOf } from "./listen-format.js";

const USAGE = `usage: pnpm listen [--queue Q] [--types "a.*,b"] [--json] [--count N]
  --queue Q     one queue (default: every queue of EVENTPIPE_CONFIG, else QUEUE_NAME)
  --types LIST  only these event types; * matches any run of characters
  --json        one JSON object a line
  --count N     stop after N events
Redis: REDIS_URL (or REDIS_HOST, REDIS_PORT, REDIS_PASSWORD). LISTEN_LEASE_MS: how long a
listener that stopped renewing is kept (default 30000).`;

/** Copies taken per read: enough to keep up with a busy queue, small enough to print at once. */
const READ_BATCH = 500;
const READ_WAIT_MS = 1000;

function fail(message: string, exitCode: number): never {
  console.error(`listen: ${message}`);
  if (exitCode === 2) console.error(USAGE);
  process.exit(exitCode);
}

function readOptions() {
  try {
    const { values } = parseArgs({
      options: {
        queue: { type: "string" },
        types: { type: "string" },
        json: { type: "boolean", default: false },
        count: { type: "string" },
        help: { type: "boolean", default: false },
      },
    });
    if (values.help) {
      console.log(USAGE);
      process.exit(0);
    }
    const count = values.count === undefined ? undefined : Number(values.count);
    if (count !== undefined && (!Number.isInteger(count) || count < 1)) {
      fail(`--count must be a whole number of 1 or more, got "${values.count}"`, 2);
    }
    const types = values.types
      ?.split(",")
      .map((type) => type.trim())
      .filter((type) => type !== "");
    const queues =
      values.queue !== undefined
        ? [values.queue]
        : queuesOf(
            readPipeline(process.env, readString(process.env, "QUEUE_NAME", DEFAULT_QUEUE_NAME)),
          );
    for (const queue of queues) queueKeys(queue); // a clear error for a bad name, before Redis
    const leaseMs = readInteger(process.env, "LISTEN_LEASE_MS", 30_000, {
      min: 1000,
      max: 3_600_000,
    });
    return { queues, types, json: values.json, count, leaseMs };
  } catch (error) {
    const message = (error as Error).message;
    fail(message, error instanceof ConfigError ? 1 : 2);
  }
}

function report(renewal: Renewal, first: boolean): void {
  for (const [queue, dropped] of renewal.dropped) {
    console.error(`listen: ${dropped} events of ${queue} dropped: this listener fell behind`);
  }
  if (!first) {
    for (const queue of renewal.rejoined) {
      console.error(
        `listen: away from ${queue} longer than the lease: events stored meanwhile were not kept`,
      );
    }
  }
}

async function main(): Promise<void> {
  const options = readOptions();
  const connection = readRedisConnection(process.env);
  const control = connectRedis(connection, "commands");
  const blocking = connectRedis(connection, "blocking");
  control.on("error", () => {});
  blocking.on("error", () => {});
  const id = `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
  // A partitioned queue is watched in every partition (its events are copied there).
  const partitioned = await Promise.all(
    options.queues.map(async (queue) => recordedPartitions(control, queue)),
  );
  if (isClusterClient(control) && partitioned.flat().length > 1) {
    fail(
      "on Redis Cluster a listener watches one unpartitioned queue (--queue Q): several lists are read in one call, and their keys are in different slots",
      1,
    );
  }
  const listener = createListener({
    control,
    blocking,
    queues: partitioned.flat(),
    id,
    leaseMs: options.leaseMs,
  });
  const wanted = options.types === undefined ? undefined : typeMatcher(options.types);

  let stopping = false;
  let renewing = Promise.resolve();
  const stop = () => {
    stopping = true;
    // Ends a BLMPOP in progress; the loop then leaves.
    blocking.disconnect();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);

  report(await listener.renew(), true);
  const names = options.queues
    .map((queue, i) =>
      partitioned[i]!.length > 1 ? `${queue} (${partitioned[i]!.length} partitions)` : queue,
    )
    .join(", ");
  console.error(`listen: watching ${names} (Ctrl-C to stop)`);
  const renewal = setInterval(() => {
    renewing = listener.renew().then(
      (result) => report(result, false),
      (error: unknown) => console.error(`listen: renewing failed: ${(error as Error).message}`),
    );
  }, options.leaseMs / 3);

  let printed = 0;
  try {
    while (!stopping && (options.count === undefined || printed < options.count)) {
      const events = await listener.read(READ_BATCH, READ_WAIT_MS).catch((error: unknown) => {
        if (stopping) return [];
        throw error;
      });
      const lines: string[] = [];
      for (const { queue, envelope } of events) {
        let record: ReturnType<typeof recordOf>;
        try {
          record = recordOf(queue, decodeEnvelope(envelope));
        } catch {
          lines.push(`(an entry of ${queue} that is not an eventpipe envelope)`);
          continue;
        }
        if (wanted !== undefined && !wanted(record.type)) continue;
        lines.push(options.json ? formatJson(record) : formatLine(record));
        if (options.count !== undefined && printed + lines.length >= options.count) break;
      }
      if (lines.length > 0) {
        printed += lines.length;
        // One write per batch, and wait for stdout to drain: a slow terminal slows the reads.
        if (!process.stdout.write(`${lines.join("\n")}\n`)) {
          await new Promise((resolve) => process.stdout.once("drain", resolve));
        }
      }
    }
  } finally {
    clearInterval(renewal);
    await renewing;
    await listener.leave().catch(() => {});
    blocking.disconnect();
    control.disconnect();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => fail((error as Error).message, 1),
);
