// createProducer: acknowledged streaming over the Publish RPC.
//
// Events are grouped into batches with increasing sequence numbers. A batch stays in memory
// until the collector acknowledges it (stored in Redis); at most maxBatchesInFlight are
// unacknowledged, and send() waits for room: backpressure reaches the caller. When the call
// fails (collector restart, Redis outage, overload) the producer reconnects with exponential
// backoff and jitter and resends every unacknowledged batch; the collector drops the
// duplicates this creates by event id.
//
// Publish is one long call, and a load-balancing policy places calls, not messages: one call
// would send everything to one collector. So a call lives callLifetimeMs at most: then it is
// half-closed (the collector acknowledges what it carries and ends it) and the next batch
// opens a new call, which round_robin places on the next collector; the same turnover moves
// traffic off a collector whose connection reached its max age (GOAWAY) before the server's
// grace period cuts it. Each batch remembers the call that carries it: when a call fails,
// only its unacknowledged batches are sent again, first on a new call.
import { setTimeout as delay } from "node:timers/promises";
import type {
  Event,
  EventServiceClient,
  PublishAck,
  PublishRequest,
  Rejection,
} from "@eventpipe/proto";
import { type ClientDuplexStream, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { createEventClient } from "./client.js";
import {
  type Producer,
  ProducerFailedError,
  type ProducerOptions,
  type ProducerTotals,
} from "./producer-api.js";

/** Statuses after which resending cannot help. */
const FATAL = new Set<number>([
  status.INVALID_ARGUMENT,
  status.UNAUTHENTICATED,
  status.PERMISSION_DENIED,
  status.UNIMPLEMENTED,
]);
const MAX_KEPT_REJECTIONS = 100;

type PublishCall = ClientDuplexStream<PublishRequest, PublishAck>;

interface Batch {
  readonly sequence: bigint;
  readonly events: Event[];
  /** The call that last carried it; undefined before the first write. */
  carrier: PublishCall | undefined;
}

export function createProducer(options: ProducerOptions = {}): Producer {
  const batchSize = options.batchSize ?? 100;
  const maxInFlight = options.maxBatchesInFlight ?? 32;
  const lingerMs = options.lingerMs ?? 5;
  const retryForMs = options.retryForMs ?? 5 * 60_000;
  const ackTimeoutMs = options.ackTimeoutMs ?? 30_000;
  const callLifetimeMs = options.callLifetimeMs ?? 10_000;
  let client: EventServiceClient = createEventClient(options);

  const totals = {
    sent: 0,
    stored: 0,
    duplicates: 0,
    rejected: 0,
    rejections: [] as Rejection[],
    reconnects: 0,
    calls: 0,
  };
  const unacked = new Map<bigint, Batch>();
  let current: Event[] = [];
  let nextSequence = 1n;
  /** The call new batches go to. */
  let call: PublishCall | undefined;
  let callOpenedAt = 0;
  /** Calls past their lifetime: half-closed, still receiving the acks of what they carry. */
  const retiring = new Set<PublishCall>();
  let writable = true;
  let failure: Error | undefined;
  let closed = false;
  let reconnecting = false;
  let failedCalls = 0;
  let lastProgressAt = Date.now();
  let lingerTimer: NodeJS.Timeout | undefined;
  let waiters: (() => void)[] = [];

  const wake = () => {
    const woken = waiters;
    waiters = [];
    for (const resolve of woken) resolve();
  };
  const waitForChange = () => new Promise<void>((resolve) => waiters.push(resolve));

  const watchdog = setInterval(
    () => {
      if (
        unacked.size > 0 &&
        (call !== undefined || retiring.size > 0) &&
        Date.now() - lastProgressAt > ackTimeoutMs
      ) {
        // The link may be half-open (writes go out, nothing comes back): a new call on the
        // same connection would wait for keepalive to notice (up to 40 s), so the channel is
        // replaced along with its calls, which surface as CANCELLED: reconnect and resend.
        const stale = client;
        client = createEventClient(options);
        for (const old of [...retiring, call]) old?.cancel();
        stale.close();
      }
    },
    Math.min(ackTimeoutMs, 1000),
  );
  watchdog.unref();

  function metadata(): Metadata {
    const md = new Metadata();
    if (options.token !== undefined) md.set("authorization", `Bearer ${options.token}`);
    return md;
  }

  function write(batch: Batch): void {
    if (call === undefined) return; // sent on reconnect
    batch.carrier = call;
    if (!call.write({ sequence: batch.sequence, events: batch.events })) writable = false;
  }

  /** Whether a call that can still acknowledge it carries the batch. */
  const carried = (batch: Batch) =>
    batch.carrier !== undefined && (batch.carrier === call || retiring.has(batch.carrier));

  function openCall(): void {
    const opened = client.publish(metadata());
    call = opened;
    callOpenedAt = Date.now();
    totals.calls++;
    writable = true;
    opened.on("data", (ack: PublishAck) => {
      const batch = unacked.get(ack.sequence);
      if (batch === undefined) return;
      unacked.delete(ack.sequence);
      failedCalls = 0;
      lastProgressAt = Date.now();
      totals.stored += ack.accepted;
      totals.duplicates += ack.duplicates;
      totals.rejected += ack.rejected;
      for (const rejection of ack.rejections) {
        if (totals.rejections.length < MAX_KEPT_REJECTIONS) totals.rejections.push(rejection);
      }
      options.onAck?.(batch.events, ack.rejections);
      wake();
    });
    opened.on("drain", () => {
      // A retired call's buffer says nothing about the current one's.
      if (call === opened) writable = true;
      wake();
    });
    opened.on("error", (error: ServiceError) => onCallEnded(opened, error));
    opened.on("status", (end: { code: number }) => {
      if (end.code === status.OK) onCallEnded(opened, undefined);
    });
    // Everything on the first call; after a failure, what the failed call carried.
    for (const batch of unacked.values()) if (!carried(batch)) write(batch);
    wake();
  }

  /** Ends the current call for new batches; it stays until its batches are acknowledged. */
  function retire(): void {
    const old = call!;
    call = undefined;
    retiring.add(old);
    // The collector answers every batch it read, then ends the call with OK.
    old.end();
  }

  function onCallEnded(ended: PublishCall, error: ServiceError | undefined): void {
    if (call === ended) call = undefined;
    else if (!retiring.delete(ended)) return;
    let orphans = 0;
    for (const batch of unacked.values()) if (batch.carrier === ended) orphans++;
    // Nothing waits for an ack from it (an idle stream the collector ended, a retired call
    // whose batches were all acknowledged): the next batch opens a new call when it comes.
    if (orphans === 0 && (error === undefined || !FATAL.has(error.code))) return;
    if (error !== undefined && FATAL.has(error.code)) {
      failure = new ProducerFailedError(`the collector refused the stream: ${error.details}`, {
        cause: error,
      });
      wake();
      return;
    }
    if (Date.now() - lastProgressAt > retryForMs) {
      failure = new ProducerFailedError(
        `no acknowledgement for ${retryForMs} ms; last error: ${error?.details ?? "stream ended"}`,
        { cause: error },
      );
      wake();
      return;
    }
    // Another call is open (the ended one was retired): sequences increase within a call, so
    // rather than send the orphans after newer batches on it, turn it over now; the new call
    // carries them first, with no backoff, since that other call shows the way works.
    if (call !== undefined) {
      totals.reconnects++;
      retire();
      openCall();
      return;
    }
    void reconnect(error);
  }

  async function reconnect(error: ServiceError | undefined): Promise<void> {
    if (reconnecting) return;
    reconnecting = true;
    failedCalls++;
    totals.reconnects++;
    const hinted = Number(error?.metadata?.get("retry-after-ms")[0] ?? 0);
    const ceiling = Math.min(10_000, 100 * 2 ** Math.min(failedCalls - 1, 10));
    const backoff = ceiling / 2 + Math.random() * (ceiling / 2);
    await delay(Math.max(hinted, backoff));
    reconnecting = false;
    if (failure === undefined && call === undefined) openCall();
  }

  function seal(): void {
    if (lingerTimer !== undefined) {
      clearTimeout(lingerTimer);
      lingerTimer = undefined;
    }
    if (current.length === 0) return;
    const batch: Batch = { sequence: nextSequence++, events: current, carrier: undefined };
    current = [];
    if (unacked.size === 0) lastProgressAt = Date.now();
    unacked.set(batch.sequence, batch);
    if (call !== undefined && callLifetimeMs > 0 && Date.now() - callOpenedAt >= callLifetimeMs) {
      retire();
    }
    if (call === undefined && !reconnecting && failure === undefined) openCall();
    else write(batch);
  }

  async function waitFor(condition: () => boolean): Promise<void> {
    while (!condition()) {
      if (failure !== undefined) throw failure;
      await waitForChange();
    }
    if (failure !== undefined) throw failure;
  }

  let closing: Promise<ProducerTotals> | undefined;
  const producer: Producer = {
    totals,
    async send(event) {
      if (failure !== undefined) throw failure;
      if (closed) throw new ProducerFailedError("the producer is closed");
      totals.sent++;
      current.push(event);
      if (current.length >= batchSize) seal();
      else if (lingerTimer === undefined) lingerTimer = setTimeout(seal, lingerMs);
      if (unacked.size >= maxInFlight || !writable) {
        await waitFor(() => unacked.size < maxInFlight && (writable || call === undefined));
      }
    },
    async flush() {
      seal();
      await waitFor(() => unacked.size === 0);
      return { ...totals, rejections: [...totals.rejections] };
    },
    close() {
      closing ??= (async () => {
        try {
          return await producer.flush();
        } finally {
          closed = true;
          clearInterval(watchdog);
          call?.end();
          client.close();
        }
      })();
      return closing;
    },
  };
  return producer;
}
