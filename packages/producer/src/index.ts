export type { ClientOptions } from "./client.js";
export {
  channelCredentialsFromEnv,
  createEventClient,
  DEFAULT_COLLECTOR_ADDRESS,
  ROUND_ROBIN_SERVICE_CONFIG,
} from "./client.js";
export { newEvent, SAMPLE_EVENT_TYPES, sampleEvents } from "./events.js";
export { createProducer } from "./producer.js";
export type { Producer, ProducerOptions, ProducerTotals } from "./producer-api.js";
export { ProducerFailedError } from "./producer-api.js";
export type { StreamRpc } from "./stream.js";
export { streamEvents } from "./stream.js";
export type { CollectorTarget, CollectorTargetKind, HostPort } from "./targets.js";
export { InvalidCollectorAddressError, parseCollectorTarget } from "./targets.js";
