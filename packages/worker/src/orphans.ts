// Entries of the worker's in-flight hash that the worker does not hold. Redis can hand them
// back: a failover to a replica that had not received the worker's latest acks, retries or
// dead letters (replication is asynchronous) restores those entries, under sequences the
// worker has finished with. Its lease stays live, so no recovery would ever take them back and
// they would sit there until the worker restarts. The worker compares the hash with what it
// holds now and then, and returns the strangers to the head of the queue (return-3.lua): they
// run again, which at-least-once allows, rather than never.
import type { QueueStore } from "@eventpipe/queue";
import type { Logger } from "pino";
import { errorText } from "./failure-plan.js";

export interface HeldByWorker {
  /** Sequences whose events the worker holds: claimed, not yet out of the hash. */
  readonly holding: ReadonlySet<number>;
  /** Sequences from here on may belong to a claim whose reply has not been read yet. */
  readonly claimedBelow: number;
}

/** One check of the in-flight hash; upkeep.ts runs it three times a lease, like the lease renewal. */
export async function returnStrangers(
  store: QueueStore,
  workerId: string,
  log: Logger,
  held: () => HeldByWorker,
  onReturned: (count: number) => void,
): Promise<void> {
  try {
    // Whatever order the replies come back in, nothing held is returned: a claim's sequences
    // are at or past `claimedBelow` until its reply is read (and in `holding` from then on),
    // a sequence leaves `holding` only once Redis confirmed its entry gone, and return-3
    // skips an entry that is no longer there when it runs.
    const inHash = await store.heldSequences(workerId);
    const { holding, claimedBelow } = held();
    const strangers = inHash.filter((s) => s < claimedBelow && !holding.has(s));
    if (strangers.length === 0) return;
    const returned = await store.returnEntries(workerId, strangers);
    if (returned > 0) {
      onReturned(returned);
      log.warn(
        { returned },
        "events finished here were back in this worker's in-flight hash (Redis lost its latest writes, e.g. a failover to a replica that was behind): put back in the queue",
      );
    }
  } catch (error) {
    log.debug({ err: errorText(error) }, "checking the in-flight hash failed");
  }
}
