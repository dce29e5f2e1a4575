// The project's built services (packages/<name>/dist/main.js) as real child processes, for
// the fault tests and `pnpm soak`.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export type ServiceName = "collector" | "worker" | "producer";

export interface ServiceProcess {
  readonly child: ChildProcess;
  /** The last 200 kB the process wrote to stdout and stderr. */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
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
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-200_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    output: () => output,
    exited,
    signal: (signal) => {
      if (running()) child.kill(signal);
    },
    async stop(graceMs = 10_000) {
      if (running()) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

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
    if (Date.now() > deadline) {
      proc.signal("SIGKILL");
      throw new Error(`collector did not start:\n${proc.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return proc;
}

/** Polls `condition` every `intervalMs` until it holds; throws after `timeoutMs`. */
export async function until(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
