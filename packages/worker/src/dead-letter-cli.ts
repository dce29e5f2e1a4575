// `pnpm dead-letters <list|inspect|replay|purge> [--queue Q] [--type T] [--reason R] [--id EVENT_ID] [--limit N] [--json]`
// Over every partition the queue has recorded in Redis; a replayed event goes back on the
// partition that dead-lettered it.
import { parseArgs } from "node:util";
import {
  connectRedis,
  countQueueDeadLetters,
  DEFAULT_QUEUE_NAME,
  type DeadLetterFilter,
  listQueueDeadLetters,
  purgeQueueDeadLetters,
  type QueueDeadLetter,
  queueKeys,
  readPartitionCount,
  readRedisConnection,
  readString,
  replayQueueDeadLetters,
} from "@eventpipe/queue";

const USAGE = `usage: dead-letters <command> [filters]
  list      [--limit 20] [--json]   newest first
  inspect   --id EVENT_ID           everything recorded about one dead letter
  replay    (--all | filters)       put them back on the queue as fresh events
  purge     (--all | filters)       delete them for good
filters: --type EVENT_TYPE  --reason max_attempts|rejected|poison|undecodable  --id EVENT_ID
--queue Q: the queue (default QUEUE_NAME, event_queue)`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    queue: { type: "string" },
    type: { type: "string" },
    reason: { type: "string" },
    id: { type: "string" },
    limit: { type: "string", default: "20" },
    all: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  },
});
const command = positionals[0];
const filter: DeadLetterFilter = { type: values.type, reason: values.reason, eventId: values.id };
const filtered =
  values.type !== undefined || values.reason !== undefined || values.id !== undefined;

/** `partitioned`: name the partition, which a queue with one partition has no need of. */
function describe({ entry, partition }: QueueDeadLetter, partitioned: boolean) {
  const event = entry.stored?.event;
  return {
    ...(partitioned && { partition }),
    eventId: event?.eventId,
    type: event?.type,
    timestamp: event?.timestamp.toString(),
    source: event?.source || undefined,
    payloadBytes: event?.payload.length,
    attributes: event?.attributes,
    ...entry.meta,
    deadLetteredAt: new Date(entry.meta.deadLetteredAtMs).toISOString(),
  };
}

if (!["list", "inspect", "replay", "purge"].includes(command ?? "")) {
  console.error(USAGE);
  process.exit(2);
}
if ((command === "replay" || command === "purge") && !filtered && !values.all) {
  console.error(`dead-letters ${command}: say --all, or filter with --type, --reason or --id`);
  process.exit(2);
}
if (command === "inspect" && values.id === undefined) {
  console.error("dead-letters inspect: --id EVENT_ID is required");
  process.exit(2);
}

const limit = Number(values.limit);
if (!Number.isInteger(limit) || limit < 1) {
  console.error(`dead-letters: --limit must be a whole number above 0, got ${values.limit}`);
  process.exit(2);
}
let queue: string;
try {
  queue = queueKeys(values.queue ?? readString(process.env, "QUEUE_NAME", DEFAULT_QUEUE_NAME)).name;
} catch (error) {
  console.error(`dead-letters: ${(error as Error).message}`);
  process.exit(2);
}
const redis = connectRedis(readRedisConnection(process.env), "writer", {
  enableOfflineQueue: true,
  retryStrategy: () => null,
});
try {
  const partitions = await readPartitionCount(redis, queue);
  const partitioned = partitions > 1;
  if (command === "list") {
    const entries = await listQueueDeadLetters(redis, queue, filter, limit);
    if (values.json) console.log(JSON.stringify(entries.map((e) => describe(e, partitioned))));
    else {
      const total = await countQueueDeadLetters(redis, queue);
      console.log(
        partitioned
          ? `${total} dead letters in the ${partitions} partitions of ${queue}`
          : `${total} dead letters in ${queueKeys(queue).deadLetter}`,
      );
      for (const entry of entries) {
        const d = describe(entry, partitioned);
        const where = partitioned ? `${entry.keys.name}  ` : "";
        console.log(
          `${d.deadLetteredAt}  ${where}${d.reason.padEnd(12)} ${d.type ?? "?"}  ${d.eventId ?? "?"}  ${d.lastError ?? d.message}`,
        );
      }
    }
  } else if (command === "inspect") {
    const entries = await listQueueDeadLetters(redis, queue, filter);
    if (entries.length === 0) {
      console.error(`no dead letter with event id ${values.id}`);
      process.exitCode = 1;
    }
    for (const entry of entries) console.log(JSON.stringify(describe(entry, partitioned), null, 2));
  } else if (command === "replay") {
    console.log(`replayed ${await replayQueueDeadLetters(redis, queue, filter)} dead letters`);
  } else {
    console.log(`purged ${await purgeQueueDeadLetters(redis, queue, filter)} dead letters`);
  }
} catch (error) {
  console.error(`dead-letters: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  redis.disconnect();
}
