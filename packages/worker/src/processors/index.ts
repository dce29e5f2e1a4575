// The processor kinds a pipeline file can name, found by a table: each turns a processor's
// spec into the handler a worker runs, plus what to release on shutdown.
import type { ProcessorSpec } from "@eventpipe/pipeline";
import type { Logger } from "pino";
import type { WorkerConfig } from "../config.js";
import { createSimulatedWorkHandler, type EventHandler, loadHandlerModule } from "../handler.js";
import { createGrpcProcessor } from "./grpc.js";
import { createHttpProcessor } from "./http.js";

export interface Processor {
  readonly handler: EventHandler;
  close(): Promise<void>;
}

interface ProcessorContext {
  readonly config: WorkerConfig;
  readonly logger: Logger;
}

type Factories = {
  [K in ProcessorSpec["kind"]]: (
    spec: Extract<ProcessorSpec, { kind: K }>,
    context: ProcessorContext,
  ) => Promise<Processor>;
};

const nothingToClose = async () => {};

const FACTORIES: Factories = {
  // No pipeline file: today's WORKER_HANDLER, or the simulated unit of work.
  async default(_spec, { config }) {
    const handler =
      config.handlerModule === undefined
        ? createSimulatedWorkHandler(config.workMs)
        : await loadHandlerModule(config.handlerModule);
    return { handler, close: nothingToClose };
  },
  async module(spec) {
    return { handler: await loadHandlerModule(spec.module), close: nothingToClose };
  },
  async http(spec, { config }) {
    return createHttpProcessor({
      ...spec.http,
      queue: spec.queue,
      connections: spec.concurrency ?? config.concurrency,
      errorAnswersAreResults: spec.results?.when.includes("onError") ?? false,
    });
  },
  async grpc(spec, { logger }) {
    return createGrpcProcessor({ ...spec.grpc, logger: logger.child({ processor: spec.route }) });
  },
};

export function createProcessor(
  spec: ProcessorSpec,
  context: ProcessorContext,
): Promise<Processor> {
  const create = FACTORIES[spec.kind] as (
    spec: ProcessorSpec,
    context: ProcessorContext,
  ) => Promise<Processor>;
  return create(spec, context);
}
