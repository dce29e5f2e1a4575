#!/usr/bin/env node
// `node dist/main.js`: the echo processor as a process. ECHO_LISTEN sets where it listens
// (default 127.0.0.1:50061); SIGTERM or SIGINT stops it.
import { startEchoProcessor } from "./echo-processor.js";
import { DEFAULT_ECHO_LISTEN, parseListenAddress } from "./listen-address.js";

async function main(): Promise<void> {
  let listen: ReturnType<typeof parseListenAddress>;
  try {
    listen = parseListenAddress(process.env.ECHO_LISTEN || DEFAULT_ECHO_LISTEN);
  } catch (error) {
    process.stderr.write(`echo processor: ${(error as Error).message}\n`);
    process.exit(2);
  }
  const processor = await startEchoProcessor(listen);
  process.stdout.write(`echo processor listening on ${processor.address}\n`);

  // The first signal stops it once; a second one while closing is ignored, not fatal.
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    processor.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`echo processor: close failed: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`echo processor: failed to start: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
