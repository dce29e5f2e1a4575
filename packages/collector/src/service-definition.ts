// The generated EventService definition with the collector's own request decoders: they keep
// each event's wire bytes (see incoming.ts), and a message that is not valid protobuf becomes
// a MalformedMessage value instead of failing the whole call inside grpc-js, so one bad
// message is rejected with a reason and the stream goes on.
import { EventServiceService, type Rejection, RejectionReason } from "@eventpipe/proto";
import type { ServiceDefinition } from "@grpc/grpc-js";
import { decodeIncomingBatch, decodeIncomingEvent, decodeIncomingPublish } from "./incoming.js";

export class MalformedMessage {
  constructor(
    readonly bytes: number,
    readonly detail: string,
  ) {}
}

function forgiving<T>(decode: (bytes: Buffer) => T): (bytes: Buffer) => T | MalformedMessage {
  return (bytes) => {
    try {
      return decode(bytes);
    } catch (error) {
      return new MalformedMessage(bytes.length, (error as Error).message);
    }
  };
}

export const eventServiceDefinition = {
  streamEvents: {
    ...EventServiceService.streamEvents,
    requestDeserialize: forgiving(decodeIncomingEvent),
  },
  streamEventBatches: {
    ...EventServiceService.streamEventBatches,
    requestDeserialize: forgiving(decodeIncomingBatch),
  },
  publish: {
    ...EventServiceService.publish,
    requestDeserialize: forgiving(decodeIncomingPublish),
  },
  // A CallRequest holds its event in field 1, like an EventBatch.
  call: {
    ...EventServiceService.call,
    requestDeserialize: forgiving(decodeIncomingBatch),
  },
} satisfies ServiceDefinition;

/** The rejection that stands for a message that did not decode. */
export function rejectionOfMalformed(index: number, message: MalformedMessage): Rejection {
  return {
    index,
    eventId: "",
    reason: RejectionReason.REJECTION_REASON_MALFORMED,
    message: `message of ${message.bytes} bytes is not valid protobuf: ${message.detail}`,
  };
}
