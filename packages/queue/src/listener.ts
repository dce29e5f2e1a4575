// Watching a queue without taking from it (`pnpm listen`): a listener registers in each
// queue's listeners zset with a lease, and every script that stores events there gives it a
// copy in its own capped list (scripts/feed-listeners.lua). It reads with BLMPOP, renews its
// lease on another connection, and removes its keys when it leaves; a killed listener's keys
// expire with its lease.
import type { Redis } from "ioredis";
import type { QueueKeys } from "./keys.js";
import { scripts } from "./script-commands.js";

/** Copies a listener keeps for it at most, per queue (LISTENER_BUFFER in feed-listeners.lua). */
export const LISTENER_BUFFER = 10_000;

export interface ListenedEvent {
  readonly queue: string;
  /** The stored envelope, as the queue holds it (decodeEnvelope reads it). */
  readonly envelope: Buffer;
}

export interface Renewal {
  /** Events dropped, per queue, since the last renewal because the listener fell behind. */
  readonly dropped: ReadonlyMap<string, number>;
  /** Queues where the listener was not registered: new, or away longer than its lease. */
  readonly rejoined: readonly string[];
}

export interface QueueListener {
  readonly id: string;
  /** Registers the listener (the first call) or renews its lease; call every leaseMs / 3. */
  renew(): Promise<Renewal>;
  /** Up to `max` events stored since, oldest first; [] when none came within `timeoutMs`. */
  read(max: number, timeoutMs: number): Promise<ListenedEvent[]>;
  /** Unregisters and deletes the listener's keys. */
  leave(): Promise<void>;
}

export interface ListenerOptions {
  /** Renewals and cleanup. */
  readonly control: Redis;
  /** Blocking reads; a connection of its own. */
  readonly blocking: Redis;
  readonly queues: readonly QueueKeys[];
  readonly id: string;
  readonly leaseMs: number;
}

export function createListener({
  control,
  blocking,
  queues,
  id,
  leaseMs,
}: ListenerOptions): QueueListener {
  if (queues.length === 0) throw new TypeError("a listener needs at least one queue");
  const run = scripts(control);
  const queueOfList = new Map(queues.map((keys) => [keys.listener(id), keys.name]));
  const lists = [...queueOfList.keys()];
  return {
    id,
    async renew() {
      const pipeline = control.pipeline();
      for (const keys of queues) {
        (pipeline as unknown as typeof run).epListenRenew(
          keys.listeners,
          keys.listener(id),
          keys.listenerDropped(id),
          id,
          leaseMs,
        );
      }
      const replies = (await pipeline.exec()) ?? [];
      const dropped = new Map<string, number>();
      const rejoined: string[] = [];
      replies.forEach(([error, reply], index) => {
        if (error) throw error;
        const [added, lost] = reply as [number, number];
        const queue = queues[index]!.name;
        if (added === 1) rejoined.push(queue);
        if (lost > 0) dropped.set(queue, lost);
      });
      return { dropped, rejoined };
    },
    async read(max, timeoutMs) {
      // BLMPOP takes from the first list that has entries; the rest wait for the next call.
      const reply = (await blocking.blmpopBuffer(
        timeoutMs / 1000,
        lists.length,
        ...lists,
        "RIGHT",
        "COUNT",
        max,
      )) as [Buffer, Buffer[]] | null;
      if (reply === null) return [];
      const queue = queueOfList.get(reply[0].toString())!;
      return reply[1].map((envelope) => ({ queue, envelope }));
    },
    async leave() {
      const pipeline = control.pipeline();
      for (const keys of queues) {
        pipeline.zrem(keys.listeners, id);
        pipeline.del(keys.listener(id), keys.listenerDropped(id));
      }
      await pipeline.exec();
    },
  };
}
