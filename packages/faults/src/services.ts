// The project's built services (packages/<name>/dist/main.js) as real child processes, for
// the fault tests and `pnpm soak`.
import { fileURLToPath } from "node:url";
import { type NodeProcess, startNodeProcess, waitForOutput } from "@eventpipe/testkit";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export type ServiceName = "collector" | "worker" | "producer";
export type ServiceProcess = NodeProcess;

export function spawnService(
  name: ServiceName,
  env: Record<string, string>,
  args: string[] = [],
): ServiceProcess {
  return startNodeProcess(`${ROOT}packages/${name}/dist/main.js`, args, {
    LOG_LEVEL: "info",
    // Several services share a host here: each serves its metrics on a free port.
    METRICS_LISTEN: "127.0.0.1:0",
    ...env,
  });
}

/** Starts a collector process on `port` and waits until it listens. */
export async function startCollectorProcess(
  port: number,
  env: Record<string, string>,
  timeoutMs = 10_000,
): Promise<ServiceProcess> {
  const proc = spawnService("collector", {
    COLLECTOR_LISTEN: `127.0.0.1:${port}`,
    COLLECTOR_HTTP_LISTEN: "",
    ...env,
  });
  try {
    await waitForOutput(proc, "collector listening", timeoutMs);
  } catch (error) {
    proc.signal("SIGKILL");
    throw error;
  }
  return proc;
}
