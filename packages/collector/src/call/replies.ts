// Where the answers of Calls arrive: each collector listens on its own pub/sub channel, and
// the worker that finishes a Call's event publishes the CallReply there, in the same atomic
// step as the ack (see @eventpipe/queue complete-5.lua). Any collector of many gets its own
// callers' replies and no one else's.
import { CallReply } from "@eventpipe/proto";
import type { Redis } from "ioredis";
import type { Logger } from "pino";

export interface ReplyListener {
  /** The channel the worker publishes this collector's replies to. */
  readonly channel: string;
  /** Calls waiting for their reply right now. */
  readonly waiting: number;
  isWaiting(eventId: string): boolean;
  /**
   * Starts waiting for the reply to `eventId`; call before storing the event, so a fast reply
   * is not missed. The promise resolves with the reply, or undefined after `timeoutMs`, on
   * `signal`'s abort or on cancel().
   */
  expect(
    eventId: string,
    timeoutMs: number,
    signal?: AbortSignal,
  ): { readonly reply: Promise<CallReply | undefined>; cancel(): void };
  /** Subscribes; resolves once replies can arrive. */
  start(): Promise<void>;
  close(): void;
}

interface Waiter {
  readonly resolve: (reply: CallReply | undefined) => void;
}

export function replyChannel(collectorId: string): string {
  return `eventpipe:replies:${collectorId}`;
}

export function createReplyListener(
  redis: Redis,
  collectorId: string,
  logger: Logger,
): ReplyListener {
  const channel = replyChannel(collectorId);
  const waiters = new Map<string, Waiter>();
  // A subscribed connection can do nothing else; this one queues the subscription until Redis
  // is reachable and subscribes again by itself after a reconnect.
  const subscriber = redis.duplicate({ enableOfflineQueue: true, lazyConnect: true });
  subscriber.on("error", (error) => logger.debug({ err: error.message }, "reply channel error"));
  subscriber.on("messageBuffer", (_channel: Buffer, message: Buffer) => {
    let reply: CallReply;
    try {
      reply = CallReply.decode(message);
    } catch {
      logger.warn({ bytes: message.length }, "undecodable call reply ignored");
      return;
    }
    // No waiter: the caller gave up (deadline) or went away; the event was processed anyway.
    waiters.get(reply.eventId)?.resolve(reply);
  });

  return {
    channel,
    get waiting() {
      return waiters.size;
    },
    isWaiting: (eventId) => waiters.has(eventId),
    expect(eventId, timeoutMs, signal) {
      let finish!: (reply: CallReply | undefined) => void;
      const reply = new Promise<CallReply | undefined>((resolve) => {
        const timer = setTimeout(() => finish(undefined), Math.max(0, timeoutMs));
        const onAbort = () => finish(undefined);
        finish = (value) => {
          if (waiters.get(eventId) !== waiter) return;
          waiters.delete(eventId);
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          resolve(value);
        };
        const waiter: Waiter = { resolve: (value) => finish(value) };
        waiters.set(eventId, waiter);
        if (signal?.aborted) finish(undefined);
        else signal?.addEventListener("abort", onAbort, { once: true });
      });
      return { reply, cancel: () => finish(undefined) };
    },
    async start() {
      await subscriber.connect().catch(() => undefined);
      await subscriber.subscribe(channel);
    },
    close() {
      for (const waiter of [...waiters.values()]) waiter.resolve(undefined);
      subscriber.disconnect();
    },
  };
}
