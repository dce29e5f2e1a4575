// Real service processes for tests: the helpers live in @eventpipe/faults, shared with
// `pnpm soak`.
export type { ServiceName, ServiceProcess } from "../packages/faults/src/index.js";
export {
  RECORDING_HANDLER,
  spawnService,
  startCollectorProcess,
} from "../packages/faults/src/index.js";

/** One line per fault scenario with the counts it checked, for the CI log. */
export function report(scenario: string, counts: Record<string, number | string>): void {
  process.stdout.write(`[fault-injection] ${scenario}: ${JSON.stringify(counts)}\n`);
}
