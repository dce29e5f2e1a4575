// Public surface of @eventpipe/echo-processor: the example gRPC processor, to start in tests
// or to copy as the skeleton of your own.
export type { EchoAnswer } from "./answer.js";
export { answerOf, ECHO_ATTRIBUTES, MAX_ECHO_DELAY_MS } from "./answer.js";
export type { EchoProcessor, EchoProcessorOptions } from "./echo-processor.js";
export { startEchoProcessor } from "./echo-processor.js";
