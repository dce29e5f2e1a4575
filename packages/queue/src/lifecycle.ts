// Process lifecycle shared by the services' main.ts: the first SIGTERM or SIGINT runs the
// service's orderly stop once, then the process exits (0 when the stop went well).

export function stopOnSignals(
  stop: (signal: NodeJS.Signals) => Promise<void>,
  onError: (error: unknown) => void,
): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    stop(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        onError(error);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", handle);
  process.on("SIGINT", handle);
}
