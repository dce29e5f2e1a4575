// `pnpm soak`: repeats a fault round after round and prints the ledger of each, so a loss
// that shows up once in fifty runs shows up here. Not part of CI: a full run takes a while.
//
//   pnpm soak [--rounds 50] [--minutes M] [--events 100000] [--moment ingest|processing|recovery|mixed]
//             [--appendfsync always|everysec|mixed] [--down-ms 3000] [--max-offset-ms 1500] [--json]
import { parseArgs } from "node:util";
import { formatVerdict } from "./ledger.js";
import { type CrashMoment, runRedisCrashRound } from "./redis-crash.js";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "50" },
    minutes: { type: "string" },
    events: { type: "string", default: "100000" },
    moment: { type: "string", default: "mixed" },
    appendfsync: { type: "string", default: "mixed" },
    "down-ms": { type: "string", default: "3000" },
    "max-offset-ms": { type: "string", default: "1500" },
    json: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  console.log(`usage: pnpm soak [--rounds 50] [--minutes M] [--events 100000]
                 [--moment ingest|processing|recovery|mixed] [--appendfsync always|everysec|mixed]
                 [--down-ms 3000] [--max-offset-ms 1500] [--json]
Kills redis-server (SIGKILL) once per round while a collector, two workers and a producer run,
restarts it, waits for the queue to drain and accounts for every event id.`);
  process.exit(0);
}

function integer(name: string, text: string | undefined, min: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) {
    console.error(`soak: --${name}=${text} is invalid: expected an integer >= ${min}`);
    process.exit(2);
  }
  return value;
}
function choice<T extends string>(name: string, text: string, allowed: readonly T[]): T[] {
  if (text === "mixed") return [...allowed];
  if (!(allowed as readonly string[]).includes(text)) {
    console.error(`soak: --${name}=${text} is invalid: expected ${allowed.join(", ")} or mixed`);
    process.exit(2);
  }
  return [text as T];
}

const rounds = integer("rounds", values.rounds, 1);
const minutes = values.minutes === undefined ? undefined : integer("minutes", values.minutes, 1);
const events = integer("events", values.events, 1);
const downMs = integer("down-ms", values["down-ms"], 0);
const maxOffsetMs = integer("max-offset-ms", values["max-offset-ms"], 0);
const moments = choice<CrashMoment>("moment", values.moment, ["ingest", "processing", "recovery"]);
const fsyncs = choice("appendfsync", values.appendfsync, ["always", "everysec"] as const);

const deadline = minutes === undefined ? Number.POSITIVE_INFINITY : Date.now() + minutes * 60_000;
const started = Date.now();
let failed = 0;
let done = 0;
let duplicates = 0;
let handled = 0;
for (let round = 1; round <= rounds && Date.now() < deadline; round++) {
  const moment = moments[(round - 1) % moments.length]!;
  const appendfsync = fsyncs[Math.floor((round - 1) / moments.length) % fsyncs.length]!;
  const offsetMs = Math.floor(Math.random() * maxOffsetMs);
  const label = `round ${round}/${rounds} (${moment}, appendfsync ${appendfsync}, +${offsetMs} ms)`;
  try {
    const result = await runRedisCrashRound({ events, moment, offsetMs, downMs, appendfsync });
    const ok = result.verdict.ok && result.exited.length === 0;
    if (!ok) failed++;
    duplicates += result.verdict.counts.duplicates;
    handled += result.verdict.counts.handled;
    if (values.json) {
      console.log(JSON.stringify({ round, moment, appendfsync, offsetMs, ok, ...result }));
    } else {
      const exited = result.exited.length > 0 ? ` exited on their own: ${result.exited}` : "";
      console.log(
        `${formatVerdict(label, result.verdict)} killed at ${JSON.stringify(result.atKill)}${exited}`,
      );
    }
  } catch (error) {
    failed++;
    console.log(`${label}: ERROR ${error instanceof Error ? error.message : String(error)}`);
  }
  done++;
}
const seconds = Math.round((Date.now() - started) / 1000);
console.log(
  `soak: ${done} rounds, ${done - failed} with every id accounted for, ${failed} with problems; ` +
    `${handled} events handled, ${duplicates} handled twice; ${seconds} s`,
);
process.exit(failed === 0 ? 0 : 1);
