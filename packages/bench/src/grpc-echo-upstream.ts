// The upstream of the gRPC proxy figures: a grpc-js server whose one unary method,
// /bench.v1.Echo/Echo, answers every request with its own bytes (no protobuf decoding, so the
// server costs the same whether the collector's proxy or the load generator calls it).
// `node dist/grpc-echo-upstream.js <port>`; prints the calls it answered when it stops.
import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData } from "@grpc/grpc-js";

export const ECHO_METHOD = "/bench.v1.Echo/Echo";

const port = Number(process.argv[2] ?? "0");
let answered = 0;
const identity = (bytes: Buffer): Buffer => bytes;

const server = new Server();
server.register(
  ECHO_METHOD,
  (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
    answered++;
    callback(null, call.request);
  },
  identity,
  identity,
  "unary",
);
server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error, bound) => {
  if (error) {
    process.stderr.write(`grpc echo upstream: ${error.stack ?? error}\n`);
    process.exit(1);
  }
  process.stdout.write(`grpc echo upstream listening on 127.0.0.1:${bound}\n`);
});
process.on("SIGTERM", () => {
  process.stdout.write(`grpc echo upstream answered ${answered} calls\n`);
  server.forceShutdown();
  process.exit(0);
});
