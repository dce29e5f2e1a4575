// The HTTP processor's ceiling: a plain undici loop, the client the worker's HTTP processor is
// built on, with nothing around it. One Pool of `connections` keep-alive sockets (no
// pipelining, as the processor's pool), `connections` lanes each POSTing the next ~200-byte
// JSON body as soon as the previous answer's body has been read. Anything but a 200 ends the
// run with exit code 1. The last line printed is a JSON summary; `seconds` runs from the first
// request to the last answer.
// `node dist/http-ceiling.js --url http://127.0.0.1:8080/hook --count N [--connections 64]`
import { parseArgs } from "node:util";
import { Pool } from "undici";
import { webhookPayload } from "./webhook-payload.js";

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    count: { type: "string", default: "10000" },
    connections: { type: "string", default: "64" },
  },
});

function integer(name: string, value: string | undefined, min: number): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < min) {
    throw new Error(`--${name}=${value} is invalid: expected an integer >= ${min}`);
  }
  return parsed;
}

async function main(): Promise<void> {
  if (values.url === undefined) throw new Error("--url is required");
  const url = new URL(values.url);
  const count = integer("count", values.count, 1);
  const connections = integer("connections", values.connections, 1);
  const pool = new Pool(url.origin, { connections, pipelining: 1 });
  const path = `${url.pathname}${url.search}`;

  let next = 0;
  let answered = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const n = next++;
      const response = await pool.request({
        path,
        method: "POST",
        headers: { "content-type": "application/json" },
        body: webhookPayload(n),
      });
      // Read to the end, as the processor does: the answer is its result.
      const body = Buffer.from(await response.body.arrayBuffer());
      if (response.statusCode !== 200) {
        throw new Error(
          `request ${n}: HTTP ${response.statusCode}: ${body.toString().slice(0, 500)}`,
        );
      }
      answered++;
    }
  };

  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(connections, count) }, lane));
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  await pool.close();
  if (answered !== count) throw new Error(`answered ${answered} of ${count}`);
  console.log(
    JSON.stringify({
      ok: true,
      requests: answered,
      seconds: Number(seconds.toFixed(3)),
      requestsPerSecond: Math.round(answered / seconds),
      // This process's CPU time during the loop, so the benchmark can compare it with the
      // worker's per event.
      loopCpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(3)),
    }),
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`http-ceiling failed: ${(error as Error).message}`);
    process.exit(1);
  },
);
