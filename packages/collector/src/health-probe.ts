// `node dist/health-probe.js [address]`: exits 0 when the collector reports SERVING.
// Used by the Docker healthcheck; the address defaults to 127.0.0.1 and COLLECTOR_LISTEN's
// port. When the collector serves TLS (COLLECTOR_TLS_CERT_FILE), the probe speaks TLS too,
// trusting COLLECTOR_TLS_CA_FILE or else the server's own certificate; it skips the host
// name check, which means nothing for a probe of 127.0.0.1.
import { readFileSync } from "node:fs";
import { HealthClient, ServingStatus } from "@eventpipe/proto";
import { credentials, Metadata } from "@grpc/grpc-js";

const listen = process.env.COLLECTOR_LISTEN ?? "0.0.0.0:50051";
const address = process.argv[2] ?? `127.0.0.1:${listen.slice(listen.lastIndexOf(":") + 1)}`;
const serverCert = process.env.COLLECTOR_TLS_CERT_FILE;
const trusted = process.env.COLLECTOR_TLS_CA_FILE ?? serverCert;
const channel =
  serverCert === undefined || trusted === undefined
    ? credentials.createInsecure()
    : credentials.createSsl(readFileSync(trusted), null, null, {
        checkServerIdentity: () => undefined,
      });
const client = new HealthClient(address, channel);
client.check({ service: "" }, new Metadata(), { deadline: Date.now() + 3000 }, (error, reply) => {
  client.close();
  const serving = !error && reply?.status === ServingStatus.SERVING;
  process.stdout.write(`${address}: ${error ? error.message : ServingStatus[reply!.status]}\n`);
  process.exit(serving ? 0 : 1);
});
