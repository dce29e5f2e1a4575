// Where the answers of Calls arrive: each collector listens on its own pub/sub channel, and
// the worker that finishes a Call's event publishes the CallReply there, in the same atomic
// step as the ack (see @eventpipe/queue complete-5.lua). Any collector of many gets its own
// callers' replies and no one else's.
import { CallReply } from "@eventpipe/proto";
import { duplicateConnection } from "@eventpipe/queue";
import type { Redis } from "ioredis";
import type { Logger } from "pino";

export interface ReplyListener {
  /** The channel the worker publishes this collector's replies to. */
  readonly channel: string;
  /** Calls waiting for their reply right now. */
  readonly waiting: number;
  /** Subscribed right now: replies can arrive. Calls are refused while it is false. */
  readonly listening: boolean;
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

const KEEP_ALIVE_MS = 5_000;

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
  // A subscribed connection can do nothing else. Unlike the writer it copies, this one keeps
  // its commands through a reconnect (the subscription waits for Redis, however long) and
  // subscribes again by itself once Redis is back.
  const subscriber = duplicateConnection(redis, {
    enableOfflineQueue: true,
    lazyConnect: true,
    maxRetriesPerRequest: null,
    autoResendUnfulfilledCommands: true,
    autoResubscribe: true,
  });
  let subscribedOnce = false;
  let listening = false;
  subscriber.on("error", (error) => logger.debug({ err: error.message }, "reply channel error"));
  subscriber.on("close", () => {
    listening = false;
  });
  // After a reconnect ioredis subscribes again before it reports ready.
  subscriber.on("ready", () => {
    listening = subscribedOnce;
  });
  // A listening connection sends nothing, so nothing would notice a link gone silent: a ping
  // now and then does (the copied socket timeout drops a connection whose ping gets no reply).
  const keepAlive = setInterval(() => {
    if (listening) subscriber.ping().catch(() => undefined);
  }, KEEP_ALIVE_MS);
  keepAlive.unref();
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
    get listening() {
      return listening;
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
      // Resolves once subscribed, however long Redis takes to come (the caller bounds its wait).
      subscriber.connect().catch(() => undefined);
      await subscriber.subscribe(channel);
      subscribedOnce = true;
      listening = subscriber.status === "ready";
    },
    close() {
      clearInterval(keepAlive);
      for (const waiter of [...waiters.values()]) waiter.resolve(undefined);
      subscriber.disconnect();
    },
  };
}
