// The HTTP ceiling: fastify with its own JSON body parser, the same route and reply shape as the
// collector's POST /v1/events, but the handler only counts the events and replies.
// `node dist/http-sink-server.js <port>`.
import Fastify from "fastify";

const port = Number(process.argv[2] ?? "0");

// The collector's default MAX_MESSAGE_BYTES, so neither server refuses a body the other takes.
const app = Fastify({ logger: false, bodyLimit: 4 * 1024 * 1024 });
app.post("/v1/events", async (request, reply) => {
  const body = request.body;
  if (!Array.isArray(body)) {
    return reply.code(400).send({ error: "the body must be a JSON array of events" });
  }
  return { accepted: body.length, rejected: 0, duplicates: 0, rejections: [] };
});

app.listen({ host: "127.0.0.1", port }).then(
  (address) => process.stdout.write(`http sink listening on ${address}\n`),
  (error: unknown) => {
    process.stderr.write(`http sink: ${(error as Error).stack ?? error}\n`);
    process.exit(1);
  },
);
process.on("SIGTERM", () => {
  void app.close().then(() => process.exit(0));
});
