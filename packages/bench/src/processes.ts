// Child processes for the benchmark: the project's real services, started from their dist/.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type NodeProcess, startNodeProcess } from "@eventpipe/testkit";

export { freePort, until, waitForOutput } from "@eventpipe/testkit";

export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export type Child = NodeProcess;

export function start(script: string, args: string[], env: Record<string, string>): Child {
  // Metrics stay on, as in production, each process on a port of its own.
  return startNodeProcess(
    script,
    args,
    { LOG_LEVEL: "warn", METRICS_LISTEN: "127.0.0.1:0", ...env },
    { cwd: ROOT },
  );
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
