// Operations on the dead-letter list: list, replay and purge, all or by type or reason.
// Replay and purge match entries by their exact bytes, so entries added meanwhile are never
// touched and two operators at once never duplicate or lose one.
import type { Redis } from "ioredis";
import { encodeNewEvent } from "./codec.js";
import { createQueueStore } from "./commands.js";
import { type DeadLetter, decodeDeadLetter } from "./dead-letter.js";
import type { QueueKeys } from "./keys.js";

export interface DeadLetterFilter {
  readonly type?: string;
  readonly reason?: string;
  readonly eventId?: string;
}

/** Entries read per LRANGE while scanning the list. */
const PAGE = 1000;

function matches(entry: DeadLetter, filter: DeadLetterFilter): boolean {
  if (filter.reason !== undefined && entry.meta.reason !== filter.reason) return false;
  const event = entry.stored?.event;
  if (filter.type !== undefined && event?.type !== filter.type) return false;
  if (filter.eventId !== undefined && event?.eventId !== filter.eventId) return false;
  return true;
}

/** Dead letters matching the filter, newest first, at most `limit`. */
export async function listDeadLetters(
  redis: Redis,
  keys: QueueKeys,
  filter: DeadLetterFilter = {},
  limit = Number.POSITIVE_INFINITY,
): Promise<DeadLetter[]> {
  const found: DeadLetter[] = [];
  for (let start = 0; found.length < limit; start += PAGE) {
    const page = await redis.lrangeBuffer(keys.deadLetter, start, start + PAGE - 1);
    for (const raw of page) {
      const entry = decodeDeadLetter(raw);
      if (matches(entry, filter)) found.push(entry);
      if (found.length >= limit) break;
    }
    if (page.length < PAGE) break;
  }
  return found;
}

/**
 * Puts these exact dead-letter entries back on the queue as fresh events (attempts and
 * redeliveries reset, enqueue time now), oldest first; an entry no longer in the list (replayed
 * or purged meanwhile) is left alone, and entries that cannot be decoded are never replayed.
 */
export async function replayDeadLetterEntries(
  redis: Redis,
  keys: QueueKeys,
  entries: readonly DeadLetter[],
): Promise<number> {
  const store = createQueueStore(redis, keys);
  const replayable = entries.flatMap((entry) => {
    const event = entry.stored?.event;
    return event === undefined ? [] : [{ raw: entry.raw, event }];
  });
  let replayed = 0;
  // Oldest first, so replayed events keep their original relative order.
  for (let end = replayable.length; end > 0; end -= PAGE) {
    const pairs: Buffer[] = [];
    for (const entry of replayable.slice(Math.max(0, end - PAGE), end).reverse()) {
      pairs.push(entry.raw, encodeNewEvent(entry.event, Date.now()));
    }
    replayed += await store.replay(pairs);
  }
  return replayed;
}

/** Deletes these exact dead-letter entries for good; counts only what Redis removed. */
export async function purgeDeadLetterEntries(
  redis: Redis,
  keys: QueueKeys,
  entries: readonly DeadLetter[],
): Promise<number> {
  let purged = 0;
  for (let start = 0; start < entries.length; start += PAGE) {
    const pipeline = redis.pipeline();
    for (const entry of entries.slice(start, start + PAGE)) {
      pipeline.lrem(keys.deadLetter, 1, entry.raw);
    }
    for (const [error, removed] of (await pipeline.exec()) ?? []) {
      if (error) throw error;
      purged += Number(removed);
    }
  }
  return purged;
}

/** Puts matching dead letters back on the queue as fresh events. */
export async function replayDeadLetters(
  redis: Redis,
  keys: QueueKeys,
  filter: DeadLetterFilter = {},
): Promise<number> {
  return replayDeadLetterEntries(redis, keys, await listDeadLetters(redis, keys, filter));
}

/** Deletes matching dead letters for good. */
export async function purgeDeadLetters(
  redis: Redis,
  keys: QueueKeys,
  filter: DeadLetterFilter = {},
): Promise<number> {
  return purgeDeadLetterEntries(redis, keys, await listDeadLetters(redis, keys, filter));
}
