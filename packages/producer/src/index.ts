export { DEFAULT_COLLECTOR_ADDRESS, createEventClient } from "./client.js";
export type { ClientOptions } from "./client.js";
export { SAMPLE_EVENT_TYPES, newEvent, sampleEvents } from "./events.js";
export { ProducerFailedError, createProducer } from "./producer.js";
export type { Producer, ProducerOptions, ProducerTotals } from "./producer.js";
export { streamEvents } from "./stream.js";
export type { StreamRpc } from "./stream.js";
