// `node dist/health-probe.js [address]`: exits 0 when the collector reports SERVING.
// Used by the Docker healthcheck; the address defaults to 127.0.0.1 and COLLECTOR_LISTEN's port.
import { HealthClient, ServingStatus } from "@eventpipe/proto";
import { credentials, Metadata } from "@grpc/grpc-js";

const listen = process.env.COLLECTOR_LISTEN ?? "0.0.0.0:50051";
const address = process.argv[2] ?? `127.0.0.1:${listen.slice(listen.lastIndexOf(":") + 1)}`;
const client = new HealthClient(address, credentials.createInsecure());
client.check({ service: "" }, new Metadata(), { deadline: Date.now() + 3000 }, (error, reply) => {
  client.close();
  const serving = !error && reply?.status === ServingStatus.SERVING;
  process.stdout.write(`${address}: ${error ? error.message : ServingStatus[reply!.status]}\n`);
  process.exit(serving ? 0 : 1);
});
