// `node dist/main.js [--count N] [--batch-size N] [--rate N] [--payload-bytes N | --payload json] [--rpc publish|batch|single] [--address A] [--call-lifetime-ms N] [--json]`
// Streams sample events to COLLECTOR_ADDRESS (one collector, a comma list of them, or a
// dns:/// target; calls are balanced round_robin) and prints what was stored. Exits non-zero
// unless every event sent was stored (or was already stored: a duplicate).
import { setTimeout as delay } from "node:timers/promises";
import { parseArgs } from "node:util";
import type { Event } from "@eventpipe/proto";
import {
  channelCredentialsFromEnv,
  createEventClient,
  DEFAULT_COLLECTOR_ADDRESS,
} from "./client.js";
import { newEvent, SAMPLE_EVENT_TYPES, sampleEvents } from "./events.js";
import { createProducer } from "./producer.js";
import { streamEvents } from "./stream.js";
import { parseCollectorTarget } from "./targets.js";

const { values } = parseArgs({
  options: {
    count: { type: "string", default: "10000" },
    "batch-size": { type: "string", default: "100" },
    rate: { type: "string", default: "0" },
    "payload-bytes": { type: "string", default: "0" },
    payload: { type: "string", default: "bytes" },
    rpc: { type: "string", default: "publish" },
    address: { type: "string" },
    "call-lifetime-ms": { type: "string", default: "10000" },
    json: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});

if (values.help) {
  console.log(`usage: producer [--count 10000] [--batch-size 100] [--rate events/s, 0 = unlimited]
                [--payload-bytes 0 | --payload json] [--rpc publish|batch|single]
                [--address host:port[,host:port...] | dns:///name:port]
                [--call-lifetime-ms 10000] [--json]
--payload json: each payload is a small JSON object {"user":"u<i>","path":"/p/<i>","n":<i>}
  instead of --payload-bytes bytes of "a" (for collectors with a JSON Schema registered)
--address: several collectors as a comma list, or a dns:/// name with one address per
  collector; each Publish call goes to the next one (round_robin)
--call-lifetime-ms: a Publish call older than this is ended after its acks and the next
  batch opens a new call, on the next collector (0: never)
env: COLLECTOR_ADDRESS (default ${DEFAULT_COLLECTOR_ADDRESS}), PRODUCER_TOKEN`);
  process.exit(0);
}

function integer(name: string, value: string | undefined, min: number): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < min) {
    console.error(`producer: --${name}=${value} is invalid: expected an integer >= ${min}`);
    process.exit(2);
  }
  return parsed;
}

const count = integer("count", values.count, 0);
const batchSize = integer("batch-size", values["batch-size"], 1);
const rate = integer("rate", values.rate, 0);
const payloadBytes = integer("payload-bytes", values["payload-bytes"], 0);
const payloadKind = values.payload;
if (payloadKind !== "bytes" && payloadKind !== "json") {
  console.error(`producer: --payload=${payloadKind} is invalid: expected bytes or json`);
  process.exit(2);
}
if (payloadKind === "json" && payloadBytes !== 0) {
  console.error("producer: --payload json and --payload-bytes cannot be combined");
  process.exit(2);
}
const rpc = values.rpc;
if (rpc !== "publish" && rpc !== "batch" && rpc !== "single") {
  console.error(`producer: --rpc=${rpc} is invalid: expected publish, batch or single`);
  process.exit(2);
}
const callLifetimeMs = integer("call-lifetime-ms", values["call-lifetime-ms"], 0);
const address = values.address ?? process.env.COLLECTOR_ADDRESS ?? DEFAULT_COLLECTOR_ADDRESS;
try {
  parseCollectorTarget(address);
} catch (error) {
  console.error(`producer: ${(error as Error).message}`);
  process.exit(2);
}
const token = process.env.PRODUCER_TOKEN || undefined;
let credentials: ReturnType<typeof channelCredentialsFromEnv>;
try {
  credentials = channelCredentialsFromEnv(process.env);
} catch (error) {
  console.error(`producer: ${(error as Error).message}`);
  process.exit(2);
}

/** The sample stream with a small JSON object as each payload, valid for a typical schema. */
function* jsonSampleEvents(total: number): Generator<Event> {
  for (let i = 0; i < total; i++) {
    const payload = Buffer.from(`{"user":"u${i}","path":"/p/${i}","n":${i}}`, "utf8");
    yield newEvent(SAMPLE_EVENT_TYPES[i % SAMPLE_EVENT_TYPES.length]!, {
      payload,
      source: "eventpipe-producer",
    });
  }
}

const samples = (): Iterable<Event> =>
  payloadKind === "json" ? jsonSampleEvents(count) : sampleEvents(count, payloadBytes);

/** Paces a stream to `rate` events/s by sleeping between batches, not per event. */
async function* paced(events: Iterable<Event>): AsyncGenerator<Event> {
  const started = performance.now();
  let sent = 0;
  for (const event of events) {
    if (rate > 0 && sent % batchSize === 0) {
      const due = started + (sent * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 1) await delay(wait);
    }
    sent++;
    yield event;
  }
}

let sentSoFar = 0;
const progress =
  process.stderr.isTTY && !values.json
    ? setInterval(() => {
        const width = 30;
        const done = count === 0 ? 1 : sentSoFar / count;
        const bar = "#".repeat(Math.round(done * width)).padEnd(width, ".");
        process.stderr.write(`\r[${bar}] ${sentSoFar}/${count}`);
      }, 100)
    : undefined;

const started = performance.now();
let result: {
  sent: number;
  stored: number;
  duplicates: number;
  rejected: number;
  reasons: string[];
};
let failure: string | undefined;
try {
  if (rpc === "publish") {
    const producer = createProducer({ address, batchSize, token, credentials, callLifetimeMs });
    try {
      for await (const event of paced(samples())) {
        await producer.send(event);
        sentSoFar++;
      }
    } finally {
      const totals = await producer.close().catch((error: Error) => {
        failure = error.message;
        return producer.totals;
      });
      result = {
        sent: totals.sent,
        stored: totals.stored,
        duplicates: totals.duplicates,
        rejected: totals.rejected,
        reasons: totals.rejections.map((r) => `#${r.index} ${r.eventId}: ${r.message}`),
      };
    }
  } else {
    const client = createEventClient({ address, credentials });
    const counted = (async function* () {
      for await (const event of paced(samples())) {
        sentSoFar++;
        yield event;
      }
    })();
    try {
      const summary = await streamEvents(client, counted, { rpc, batchSize, token });
      result = {
        sent: sentSoFar,
        stored: summary.eventsReceived,
        duplicates: summary.duplicates,
        rejected: summary.rejected,
        reasons: summary.rejections.map((r) => `#${r.index} ${r.eventId}: ${r.message}`),
      };
    } catch (error) {
      failure = (error as Error).message;
      result = { sent: sentSoFar, stored: 0, duplicates: 0, rejected: 0, reasons: [] };
    } finally {
      client.close();
    }
  }
} catch (error) {
  failure = (error as Error).message;
  result = { sent: sentSoFar, stored: 0, duplicates: 0, rejected: 0, reasons: [] };
}
if (progress) {
  clearInterval(progress);
  process.stderr.write("\n");
}

const seconds = (performance.now() - started) / 1000;
const ok = failure === undefined && result.stored + result.duplicates === result.sent;
const summary = {
  ok,
  rpc,
  sent: result.sent,
  stored: result.stored,
  duplicates: result.duplicates,
  rejected: result.rejected,
  seconds: Number(seconds.toFixed(3)),
  eventsPerSecond: Math.round(result.stored / seconds),
  // This process's own CPU time, so a benchmark can say where the CPU goes.
  cpuSeconds: Number(((process.cpuUsage().user + process.cpuUsage().system) / 1e6).toFixed(3)),
  ...(failure === undefined ? {} : { error: failure }),
};
if (values.json) {
  console.log(JSON.stringify(summary));
} else {
  console.log(
    `sent ${summary.sent}, stored ${summary.stored}, duplicates ${summary.duplicates}, rejected ${summary.rejected} ` +
      `in ${summary.seconds} s (${summary.eventsPerSecond} events/s)`,
  );
  for (const reason of result.reasons.slice(0, 10)) console.log(`  rejected ${reason}`);
  if (failure !== undefined) console.error(`producer: ${failure}`);
}
process.exitCode = ok ? 0 : 1;
