// createWorker: a reliable FIFO consumer.
//
// Events move atomically from the right (oldest) end of the pending list into this worker's
// in-flight hash: one blocking BLMOVE when the queue is empty, then a Lua script that claims up
// to a batch more. Handlers run with bounded concurrency, started in queue order; an event
// leaves the in-flight hash only after its handler resolved (acks are grouped into one script
// call). The worker renews a lease; events of workers whose lease ran out are put back by the
// others. See the README's guarantees section.
import { setMaxListeners } from "node:events";
import type { ResultsTarget } from "@eventpipe/pipeline";
import { createQueueStore, type QueueKeys, type QueueStore, queueKeys } from "@eventpipe/queue";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { AckBatcher } from "./ack-batcher.js";
import { Backoff } from "./backoff.js";
import type { WorkerConfig } from "./config.js";
import { connectBlocking } from "./connections.js";
import { createDispatch } from "./dispatch.js";
import { createFailureHandling } from "./failure-handling.js";
import { errorText } from "./failure-plan.js";
import type { EventHandler } from "./handler.js";
import { NO_OBSERVER, type WorkerObserver } from "./observer.js";
import { startUpkeep, takeOverWorkerId, type Upkeep } from "./upkeep.js";

export interface WorkerDependencies {
  /** Made with connectWorkerRedis(); the worker duplicates it for blocking reads. */
  readonly redis: Redis;
  readonly config: WorkerConfig;
  readonly logger: Logger;
  readonly handler: EventHandler;
  /** The pipeline route this worker serves (names results and log lines); default "default". */
  readonly route?: string;
  /** Where results of the processing go, and for which outcomes. */
  readonly results?: ResultsTarget;
  /** Told of claims, handler runs, acks, retries, dead letters and recoveries (metrics). */
  readonly observer?: WorkerObserver;
  /** The queue partition consumed and its results partition; default: config.queueName. */
  readonly partition?: { readonly keys: QueueKeys; readonly results?: QueueKeys };
}

export interface WorkerCounters {
  readonly processed: number;
  readonly failed: number;
  readonly retried: number;
  readonly deadLettered: number;
  readonly recoveredFromOthers: number;
}

export interface Worker {
  readonly id: string;
  /** Registers the worker and starts consuming; resolves once the first lease is held. */
  start(): Promise<void>;
  readonly counters: WorkerCounters;
  readonly inFlight: number;
  /**
   * Stops taking events, lets in-flight handlers finish for up to the grace period, acks
   * what finished and puts the rest back at the head of the queue. Idempotent; does not
   * close the Redis connection passed in.
   */
  close(graceMs?: number): Promise<void>;
}

export function createWorker({
  redis,
  config,
  logger,
  handler,
  route = "default",
  results,
  observer = NO_OBSERVER,
  partition,
}: WorkerDependencies): Worker {
  const id = config.workerId;
  const keysConsumed = partition?.keys ?? queueKeys(config.queueName);
  const log = logger.child({ worker: id, queue: keysConsumed.name });
  const store: QueueStore = createQueueStore(redis, keysConsumed);
  const resultsQueue =
    results === undefined ? undefined : (partition?.results ?? queueKeys(results.queue));
  const blocking = connectBlocking(redis, config);
  blocking.on("error", (error) => log.debug({ err: error.message }, "blocking connection error"));

  const counters = { processed: 0, failed: 0, retried: 0, deadLettered: 0, recoveredFromOthers: 0 };
  const graceAbort = new AbortController();
  // Every handler in flight may listen to it (ctx.signal): no leak warning past 10 of them.
  setMaxListeners(0, graceAbort.signal);
  /**
   * Delivery sequence of the next claimed event. It starts at the Redis clock in microseconds
   * (set in start()), so a later process with the same WORKER_ID never reuses a sequence of an
   * earlier one that may still be alive (paused, say), and a stale ack never hits a new claim.
   */
  let nextSequence = 0;
  let stopping = false;
  let slotFreed: (() => void) | undefined;
  let allReleased: (() => void) | undefined;
  let loop: Promise<void> | undefined;
  let upkeep: Upkeep | undefined;

  /**
   * Sequences of the events claimed and not yet acked, retried or dead-lettered: what our
   * in-flight hash holds for us (orphans.ts finds anything else there).
   */
  const holding = new Set<number>();
  const release = (sequences: readonly number[]) => {
    for (const sequence of sequences) holding.delete(sequence);
    slotFreed?.();
    if (holding.size === 0) allReleased?.();
  };

  const acks = new AckBatcher(
    store,
    id,
    log,
    (sequences, byType) => {
      counters.processed += sequences.length;
      for (const [type, acked] of byType) observer.acknowledged(type, acked);
      release(sequences);
    },
    () => stopping && graceAbort.signal.aborted,
    resultsQueue,
  );

  const failures = createFailureHandling({
    store,
    redis,
    config,
    log,
    counters,
    observer,
    release,
    givenUp: graceAbort.signal,
  });

  const dispatch = createDispatch({
    handler,
    workerId: id,
    signal: graceAbort.signal,
    acks,
    failures,
    route,
    results,
    observer,
  });

  /**
   * A busy worker claims again once a quarter of its slots (or a batch) are free, not every
   * time one frees: one claim per event would be a Redis round trip per event.
   */
  const refillRoom = Math.max(1, Math.min(config.batchSize, Math.floor(config.concurrency / 4)));

  async function waitForSlot(): Promise<void> {
    while (holding.size > config.concurrency - refillRoom && !stopping) {
      await new Promise<void>((resolve) => {
        slotFreed = resolve;
      });
      slotFreed = undefined;
    }
  }

  /**
   * A claim whose reply never came (Redis failed mid-call). The script may have run and put
   * events in our in-flight hash that nobody else would process while our lease is alive, so
   * the next claim repeats it with the same arguments: the claim script then returns what the
   * first run took, or claims afresh if it never ran.
   */
  let unanswered: { first: number; room: number } | undefined;

  /** Claims up to `room` events and starts their handlers; resolves how many it claimed. */
  async function claimBatch(room: number): Promise<number> {
    const request = unanswered ?? { first: nextSequence, room };
    unanswered = request;
    const claimed = await store.claim({
      workerId: id,
      max: request.room,
      firstSequence: request.first,
      leaseMs: config.leaseMs,
    });
    unanswered = undefined;
    // A sequence that held an event is never used again.
    nextSequence = request.first + claimed.length;
    for (let i = 0; i < claimed.length; i++) holding.add(request.first + i);
    if (claimed.length > 0) observer.claimed(claimed.length);
    for (let i = 0; i < claimed.length; i++) dispatch(request.first + i, claimed[i]!);
    return claimed.length;
  }

  async function consume(): Promise<void> {
    const backoff = new Backoff(100, 2000);
    const roomNow = () => Math.min(config.concurrency - holding.size, config.batchSize);
    // The last claim took less than it had room for: the queue was empty, so wait for an
    // event instead of asking again (at low rates that saves a round trip per event).
    let drained = false;
    while (!stopping) {
      await waitForSlot();
      if (stopping) break;
      try {
        if (!drained) {
          const room = roomNow();
          drained = (await claimBatch(room)) < room;
          if (!drained) {
            backoff.reset();
            continue;
          }
        }
        // Nothing pending: block until an event arrives. Moving the list's oldest entry
        // onto the same end of the same list leaves it where it was, so the wait takes
        // nothing and a worker that dies here holds nothing; the claim script takes it.
        const moved = await blocking.blmoveBuffer(
          keysConsumed.pending,
          keysConsumed.pending,
          "RIGHT",
          "RIGHT",
          config.blockTimeoutMs / 1000,
        );
        if (stopping) break;
        // A wait that ran out claims once anyway: a claim left unanswered by a failure is
        // repeated there, whether or not new events arrive.
        if (moved === null) {
          drained = false;
          continue;
        }
        const room = roomNow();
        const claimed = await claimBatch(room);
        drained = claimed < room;
        // Claiming nothing: another worker took the events first (the queue is empty again,
        // and the next wait blocks), or our claims are fenced off while events stay pending
        // (a second process runs with our WORKER_ID): then back off instead of spinning.
        // Losing a race is no reason to wait, or the loser would fall ever further behind.
        if (claimed === 0) {
          if ((await redis.llen(keysConsumed.pending)) > 0) await backoff.wait();
          continue;
        }
        backoff.reset();
      } catch (error) {
        if (stopping) break;
        drained = false; // repeat the unanswered claim first (see claimBatch)
        log.warn({ err: errorText(error) }, "claiming events failed; retrying");
        await backoff.wait();
      }
    }
  }

  let closing: Promise<void> | undefined;
  return {
    id,
    counters,
    get inFlight() {
      return holding.size;
    },
    async start() {
      nextSequence = (await takeOverWorkerId(store, config, log)) * 1000;
      upkeep = startUpkeep(store, redis, config, log, {
        onRecovered(requeued) {
          counters.recoveredFromOthers += requeued;
          observer.recovered(requeued);
        },
        held: () => ({ holding, claimedBelow: nextSequence }),
        onReturned: observer.recovered,
      });
      log.info({ route, concurrency: config.concurrency }, "worker started");
      loop = consume();
    },
    close(graceMs = config.shutdownGraceMs) {
      closing ??= (async () => {
        stopping = true;
        slotFreed?.();
        upkeep?.stop();
        // Ends a blocking wait in progress (it holds nothing).
        blocking.disconnect();
        await loop?.catch(() => undefined);
        if (holding.size > 0) {
          const drained = new Promise<void>((resolve) => {
            allReleased = resolve;
          });
          const grace = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
          await Promise.race([drained, grace]);
        }
        graceAbort.abort();
        await acks.flush().catch(() => undefined);
        // Whatever is still held (handlers past the grace period, a claimed leftover) goes
        // back to the head of the queue; a clean stop is not a failed delivery.
        const returned = await store
          .recover(id, { maxDeliveries: config.maxDeliveries, force: true, countDelivery: false })
          .catch((error: unknown) => {
            log.error({ err: errorText(error) }, "could not return held events; the lease will");
            return undefined;
          });
        log.info({ ...counters, returned: returned?.requeued ?? 0 }, "worker stopped");
      })();
      return closing;
    },
  };
}
