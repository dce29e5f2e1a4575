// What a producer promises its caller: the options, the totals it reports, and the error it
// fails with (createProducer in producer.ts implements them).
import type { Event, Rejection } from "@eventpipe/proto";
import type { ClientOptions } from "./client.js";

export interface ProducerOptions extends ClientOptions {
  /** Events per batch (message). Default 100. */
  readonly batchSize?: number;
  /** Unacknowledged batches before send() waits. Default 32. */
  readonly maxBatchesInFlight?: number;
  /** How long a partial batch waits for more events before it is sent. Default 5 ms. */
  readonly lingerMs?: number;
  /** Give up (flush and close reject) after this long without any acknowledgement. Default 5 min. */
  readonly retryForMs?: number;
  /** A call with unacknowledged batches and no ack for this long is restarted. Default 30 s. */
  readonly ackTimeoutMs?: number;
  /**
   * A Publish call older than this carries no new batch: it is ended once the collector has
   * acknowledged its batches, and the next batch opens a new call, on the next collector of
   * the address. Keep it under the collectors' COLLECTOR_MAX_CONNECTION_AGE_GRACE_MS.
   * 0: one call for as long as it works. Default 10 s.
   */
  readonly callLifetimeMs?: number;
  /** Bearer token sent as `authorization` metadata. */
  readonly token?: string;
  /**
   * Called once per acknowledged batch: every event of it that is not among the rejections
   * (by index) is stored in Redis, now or by an earlier send. For callers that keep their own
   * record of what was delivered, such as an outbox to clear.
   */
  readonly onAck?: (events: readonly Event[], rejections: readonly Rejection[]) => void;
}

export interface ProducerTotals {
  /** Events handed to send(). */
  readonly sent: number;
  /** Events the collector stored. */
  readonly stored: number;
  /** Events already stored earlier (resends, or ids sent twice): not stored again. */
  readonly duplicates: number;
  readonly rejected: number;
  /** The first rejections, with reasons. */
  readonly rejections: readonly Rejection[];
  /** Calls that failed with batches unacknowledged, which went out again on a new call. */
  readonly reconnects: number;
  /** Publish calls opened: the first, one per callLifetimeMs turnover, one per reconnect. */
  readonly calls: number;
}

export interface Producer {
  /** Queues one event; waits while too many batches are unacknowledged. */
  send(event: Event): Promise<void>;
  /** Resolves once every event sent so far is acknowledged. */
  flush(): Promise<ProducerTotals>;
  /** Flushes, ends the stream and closes the channel. Idempotent. */
  close(): Promise<ProducerTotals>;
  readonly totals: ProducerTotals;
}

export class ProducerFailedError extends Error {
  override readonly name = "ProducerFailedError";
  readonly code = "EP_PRODUCER_FAILED";
}
