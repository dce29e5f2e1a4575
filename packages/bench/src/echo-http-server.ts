// The endpoint of the HTTP processor figures: a node:http server that answers every request
// with 200 and the request's own body and content type, over keep-alive connections. The
// undici ceiling and the worker's HTTP processor both talk to it, each to a fresh process.
// `node dist/echo-http-server.js <port>`; prints the requests it answered when it stops.
import { createServer } from "node:http";

const port = Number(process.argv[2] ?? "0");
let answered = 0;

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", () => {
    const body = Buffer.concat(chunks);
    response.writeHead(200, {
      "content-type": request.headers["content-type"] ?? "application/octet-stream",
      "content-length": body.length,
    });
    response.end(body);
    answered++;
  });
});
// Both clients keep their sockets for the whole run; the default 5 s would only matter
// between a client's start and its first request, but a run must never pay for reconnects.
server.keepAliveTimeout = 60_000;

server.listen(port, "127.0.0.1", () => {
  const address = server.address();
  const bound = typeof address === "object" && address ? address.port : port;
  process.stdout.write(`echo http server listening on 127.0.0.1:${bound}\n`);
});
server.on("error", (error) => {
  process.stderr.write(`echo http server: ${error.stack ?? error}\n`);
  process.exit(1);
});
process.on("SIGTERM", () => {
  process.stdout.write(`echo http server answered ${answered} requests\n`);
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
