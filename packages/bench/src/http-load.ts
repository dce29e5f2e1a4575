// The HTTP load generator: `count` sample events as JSON arrays of `batch-size` POSTed to `url`
// over keep-alive connections, `in-flight` requests at a time, each lane sending its next batch
// when the previous answer arrives. Every answer must be a 200 whose `accepted` is the batch's
// size: anything else ends the run with exit code 1 and the answer. The last line printed is a
// JSON summary; `seconds` runs from the first request to the last answer, process start aside.
// `node dist/http-load.js --url http://127.0.0.1:8080/v1/events --count N
//   [--batch-size 100] [--in-flight 16]`
import { randomUUID } from "node:crypto";
import { Agent, request } from "node:http";
import { parseArgs } from "node:util";

const TYPES = ["page_view", "user_login"] as const;

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    count: { type: "string", default: "10000" },
    "batch-size": { type: "string", default: "100" },
    "in-flight": { type: "string", default: "16" },
  },
});

function integer(name: string, value: string | undefined, min: number): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < min) {
    throw new Error(`--${name}=${value} is invalid: expected an integer >= ${min}`);
  }
  return parsed;
}

interface Answer {
  readonly status: number;
  readonly text: string;
}

interface Summary {
  readonly accepted?: unknown;
  readonly rejected?: unknown;
  readonly duplicates?: unknown;
}

/** The JSON array body of events first..first+size-1: unique ids, small JSON payloads. */
function batchBody(first: number, size: number): string {
  const timestamp = Date.now();
  const events = new Array<unknown>(size);
  for (let i = 0; i < size; i++) {
    const n = first + i;
    events[i] = {
      eventId: randomUUID(),
      type: TYPES[n % TYPES.length],
      timestamp,
      source: "bench-http-load",
      payload: { user: `u${n}`, path: `/p/${n}`, n },
    };
  }
  return JSON.stringify(events);
}

function post(url: URL, agent: Agent, body: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      {
        method: "POST",
        agent,
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
        },
      },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
        incoming.on("error", reject);
        incoming.on("end", () =>
          resolve({
            status: incoming.statusCode ?? 0,
            text: Buffer.concat(chunks).toString("utf8"),
          }),
        );
      },
    );
    outgoing.on("error", reject);
    outgoing.end(body);
  });
}

async function main(): Promise<void> {
  if (values.url === undefined) throw new Error("--url is required");
  const url = new URL(values.url);
  const count = integer("count", values.count, 1);
  const batchSize = integer("batch-size", values["batch-size"], 1);
  const inFlight = integer("in-flight", values["in-flight"], 1);
  // One socket per lane, kept open between requests.
  const agent = new Agent({ keepAlive: true, maxSockets: inFlight });

  let next = 0;
  let accepted = 0;
  let requests = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const first = next;
      const size = Math.min(batchSize, count - first);
      next += size;
      const answer = await post(url, agent, batchBody(first, size));
      const where = `events ${first}..${first + size - 1}: HTTP ${answer.status}`;
      if (answer.status !== 200) throw new Error(`${where}: ${answer.text.slice(0, 1000)}`);
      const summary = JSON.parse(answer.text) as Summary;
      if (summary.accepted !== size) {
        throw new Error(
          `${where}: accepted ${String(summary.accepted)} of ${size} (rejected ` +
            `${String(summary.rejected)}, duplicates ${String(summary.duplicates)}): ${answer.text.slice(0, 1000)}`,
        );
      }
      accepted += size;
      requests++;
    }
  };

  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(inFlight, Math.ceil(count / batchSize)) }, lane));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  if (accepted !== count) throw new Error(`accepted ${accepted} of ${count}`);
  const cpu = process.cpuUsage();
  console.log(
    JSON.stringify({
      ok: true,
      sent: count,
      accepted,
      requests,
      seconds: Number(seconds.toFixed(3)),
      eventsPerSecond: Math.round(accepted / seconds),
      // This process's own CPU time, so the benchmark can say where the CPU goes.
      cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(3)),
    }),
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`http-load failed: ${(error as Error).message}`);
    process.exit(1);
  },
);
