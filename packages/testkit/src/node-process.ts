// Node scripts as child processes (the project's services, the benchmark's sink), for the
// tests, the fault runs and the benchmark: output kept for error messages, an orderly stop.
import { type ChildProcess, spawn } from "node:child_process";

export interface NodeProcess {
  readonly child: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** The last 200 kB the process wrote to stdout and stderr. */
  output(): string;
  /** Sends a signal unless the process has exited. */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

const KEPT_OUTPUT = 200_000;

/** Runs `node script ...args` with only PATH and `env` in its environment. */
export function startNodeProcess(
  script: string,
  args: readonly string[],
  env: Record<string, string>,
  options: { readonly cwd?: string } = {},
): NodeProcess {
  const child = spawn(process.execPath, [script, ...args], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-KEPT_OUTPUT);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    exited,
    output: () => output,
    signal(signal) {
      if (running()) child.kill(signal);
    },
    async stop(graceMs = 15_000) {
      if (running()) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls `condition` every `intervalMs` until it holds; throws after `timeoutMs`. */
export async function until(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 20,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Waits until the process has printed `text`; throws if it exits first or after `timeoutMs`. */
export async function waitForOutput(
  proc: NodeProcess,
  text: string,
  timeoutMs = 15_000,
): Promise<void> {
  await until(
    `"${text}"`,
    () => {
      if (proc.child.exitCode !== null) throw new Error(`process exited:\n${proc.output()}`);
      return proc.output().includes(text);
    },
    timeoutMs,
  );
}
