// The generated EventService definition with forgiving request decoders: a message that is
// not valid protobuf becomes a MalformedMessage value instead of failing the whole call
// inside grpc-js, so one bad message is rejected with a reason and the stream goes on.
import { Event, EventBatch, EventServiceService, PublishRequest } from "@eventpipe/proto";
import type { ServiceDefinition } from "@grpc/grpc-js";

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
    requestDeserialize: forgiving((bytes) => Event.decode(bytes)),
  },
  streamEventBatches: {
    ...EventServiceService.streamEventBatches,
    requestDeserialize: forgiving((bytes) => EventBatch.decode(bytes)),
  },
  publish: {
    ...EventServiceService.publish,
    requestDeserialize: forgiving((bytes) => PublishRequest.decode(bytes)),
  },
} satisfies ServiceDefinition;
