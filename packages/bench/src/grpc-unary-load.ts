// The gRPC unary load generator of the proxy figures: `in-flight` lanes on one channel, each
// sending its next call when the previous answer arrives, for `seconds` after a warm-up. Every
// answer must be OK and carry the bytes sent: anything else ends the run with exit code 1.
// The last line printed is a JSON summary.
// `node dist/grpc-unary-load.js --address 127.0.0.1:50051 --method /bench.v1.Echo/Echo
//   [--seconds 3] [--in-flight 64] [--bytes 256] [--token T]`
import { parseArgs } from "node:util";
import { Client, credentials, Metadata, type ServiceError } from "@grpc/grpc-js";

const { values } = parseArgs({
  options: {
    address: { type: "string" },
    method: { type: "string" },
    seconds: { type: "string", default: "3" },
    "warm-up-ms": { type: "string", default: "500" },
    "in-flight": { type: "string", default: "64" },
    bytes: { type: "string", default: "256" },
    token: { type: "string" },
  },
});

const identity = (bytes: Buffer): Buffer => bytes;
const seconds = Number(values.seconds);
const warmUpMs = Number(values["warm-up-ms"]);
const inFlight = Number(values["in-flight"]);
const request = Buffer.alloc(Number(values.bytes), 0x2a);
const metadata = new Metadata();
if (values.token) metadata.set("authorization", `Bearer ${values.token}`);

const client = new Client(values.address ?? "", credentials.createInsecure());
const started = performance.now();
const measureFrom = started + warmUpMs;
const stopAt = measureFrom + seconds * 1000;
let counted = 0;

function call(): Promise<void> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      values.method ?? "",
      identity,
      identity,
      request,
      metadata,
      (error: ServiceError | null, reply?: Buffer) => {
        if (error) reject(error);
        else if (!reply?.equals(request))
          reject(new Error("the answer is not the request's bytes"));
        else resolve();
      },
    );
  });
}

async function lane(): Promise<void> {
  while (performance.now() < stopAt) {
    await call();
    if (performance.now() >= measureFrom) counted++;
  }
}

try {
  await Promise.all(Array.from({ length: inFlight }, lane));
  const measured = (performance.now() - measureFrom) / 1000;
  const cpu = process.cpuUsage();
  process.stdout.write(
    `${JSON.stringify({ calls: counted, seconds: measured, perSecond: counted / measured, cpuSeconds: (cpu.user + cpu.system) / 1e6 })}\n`,
  );
  client.close();
} catch (error) {
  process.stderr.write(`grpc unary load: ${(error as Error).message}\n`);
  process.exit(1);
}
