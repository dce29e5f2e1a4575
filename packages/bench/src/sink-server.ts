// The grpc-js ceiling: the same service and generated decoders as the collector, but the
// handlers only count what arrives and reply. `node dist/sink-server.js <port>`.
import {
  type Event,
  type EventBatch,
  EventServiceService,
  type StreamSummary,
} from "@eventpipe/proto";
import {
  Server,
  ServerCredentials,
  type ServerReadableStream,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";

const port = Number(process.argv[2] ?? "0");
const summary = (count: number): StreamSummary => ({
  success: true,
  eventsReceived: count,
  accepted: count,
  rejected: 0,
  duplicates: 0,
  rejections: [],
});

const handlers: UntypedServiceImplementation = {
  streamEvents(
    call: ServerReadableStream<Event, StreamSummary>,
    callback: sendUnaryData<StreamSummary>,
  ) {
    let count = 0;
    call.on("data", () => {
      count++;
    });
    call.on("end", () => callback(null, summary(count)));
  },
  streamEventBatches(
    call: ServerReadableStream<EventBatch, StreamSummary>,
    callback: sendUnaryData<StreamSummary>,
  ) {
    let count = 0;
    call.on("data", (batch: EventBatch) => {
      count += batch.events.length;
    });
    call.on("end", () => callback(null, summary(count)));
  },
};

const server = new Server({ "grpc.max_receive_message_length": 64 * 1024 * 1024 });
server.addService(EventServiceService, handlers);
server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error, bound) => {
  if (error) throw error;
  process.stdout.write(`sink listening on ${bound}\n`);
});
process.on("SIGTERM", () => server.forceShutdown());
