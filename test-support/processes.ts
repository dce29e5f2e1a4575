// Runs the built services (packages/*/dist/main.js) as real child processes.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

export type ServiceName = "collector" | "worker" | "producer";

export interface ServiceProcess {
  readonly child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  signal(signal: NodeJS.Signals): void;
}

export function spawnService(
  name: ServiceName,
  env: Record<string, string>,
  args: string[] = [],
): ServiceProcess {
  const child = spawn(process.execPath, [`${ROOT}packages/${name}/dist/main.js`, ...args], {
    env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  return {
    child,
    output: () => output,
    exited,
    signal: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

export const RECORDING_HANDLER = `${ROOT}test-support/recording-handler.mjs`;

/** Starts a collector process on `port` and waits until it listens. */
export async function startCollectorProcess(
  port: number,
  env: Record<string, string>,
  timeoutMs = 10_000,
): Promise<ServiceProcess> {
  const proc = spawnService("collector", { COLLECTOR_LISTEN: `127.0.0.1:${port}`, ...env });
  const deadline = Date.now() + timeoutMs;
  while (!proc.output().includes("collector listening")) {
    if (proc.child.exitCode !== null) throw new Error(`collector exited:\n${proc.output()}`);
    if (Date.now() > deadline) throw new Error(`collector did not start:\n${proc.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return proc;
}

/** One line per fault scenario with the counts it checked, for the CI log. */
export function report(scenario: string, counts: Record<string, number | string>): void {
  process.stdout.write(`[fault-injection] ${scenario}: ${JSON.stringify(counts)}\n`);
}
