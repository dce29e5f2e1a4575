// Child processes for the benchmark: the project's real services, started from their dist/.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export { freePort } from "@eventpipe/testkit";

export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export interface Child {
  readonly process: ChildProcess;
  readonly exited: Promise<number | null>;
  output(): string;
  stop(): Promise<void>;
}

export function start(script: string, args: string[], env: Record<string, string>): Child {
  const child = spawn(process.execPath, [script, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "warn", ...env },
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
  return {
    process: child,
    exited,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
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
    if (performance.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

function statusField(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = new RegExp(`${field}:\\s+(\\d+)\\s+kB`).exec(status);
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

/** Peak resident set size of a live process, in MiB (Linux: VmHWM). */
export function peakRssMiB(pid: number): number {
  return statusField(pid, "VmHWM");
}

/** Resident set size of a live process now, in MiB (Linux: VmRSS). */
export function rssMiB(pid: number): number {
  return statusField(pid, "VmRSS");
}

/** CPU seconds (user + system) a live process has used so far (Linux: /proc/<pid>/stat). */
export function cpuSeconds(pid: number): number {
  // Fields 14 and 15 after the command name, in clock ticks of 1/100 s on Linux.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export async function waitForOutput(child: Child, text: string, timeoutMs = 15_000): Promise<void> {
  await until(
    `"${text}"`,
    () => {
      if (child.process.exitCode !== null) throw new Error(`process exited:\n${child.output()}`);
      return child.output().includes(text);
    },
    timeoutMs,
  );
}
