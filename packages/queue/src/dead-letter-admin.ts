// Operations on the dead-letter list: list, replay and purge, all or by type or reason.
// Replay and purge match entries by their exact bytes, so entries added meanwhile are never
// touched and two operators at once never duplicate or lose one.
//
// The functions taking QueueKeys work on one partition's list; the `Queue...` ones take a
// queue's name and work on all its recorded partitions, each entry staying with (and replayed
// into) the partition that dead-lettered it: its pending list, dedup sets and order.
import type { Redis } from "ioredis";
import { encodeNewEvent } from "./codec.js";
import { createQueueStore } from "./commands.js";
import { type DeadLetter, decodeDeadLetter } from "./dead-letter.js";
import type { QueueKeys } from "./keys.js";
import { recordedPartitions } from "./partitions.js";

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

/** A dead letter of a queue and the partition whose list holds it. */
export interface QueueDeadLetter {
  /** 0 for a queue with one partition. */
  readonly partition: number;
  /** That partition's keys (the queue's own with one partition): where replay puts it back. */
  readonly keys: QueueKeys;
  readonly entry: DeadLetter;
}

/** Dead letters waiting in all partitions of queue `name`. */
export async function countQueueDeadLetters(redis: Redis, name: string): Promise<number> {
  const partitions = await recordedPartitions(redis, name);
  const lengths = await Promise.all(partitions.map((keys) => redis.llen(keys.deadLetter)));
  return lengths.reduce((sum, n) => sum + n, 0);
}

/**
 * Newest first across partitions, each partition's own order kept: an entry sorts by the
 * oldest time of it and the entries above it in its list, so workers' clocks that disagree
 * never reorder a list, and an entry without a time (undecodable) keeps its place.
 */
function newestFirst(lists: readonly (readonly QueueDeadLetter[])[]): QueueDeadLetter[] {
  const timed = lists.flatMap((list) => {
    let atMs = Number.POSITIVE_INFINITY;
    return list.map((dead) => {
      const own = dead.entry.meta.deadLetteredAtMs;
      if (own > 0) atMs = Math.min(atMs, own);
      return { dead, atMs };
    });
  });
  // A stable sort: ties stay in partition order, then list order.
  return timed.sort((a, b) => b.atMs - a.atMs).map(({ dead }) => dead);
}

/** Dead letters of queue `name` matching the filter, newest first, at most `limit`. */
export async function listQueueDeadLetters(
  redis: Redis,
  name: string,
  filter: DeadLetterFilter = {},
  limit = Number.POSITIVE_INFINITY,
): Promise<QueueDeadLetter[]> {
  const partitions = await recordedPartitions(redis, name);
  // The newest `limit` overall are among the newest `limit` of each partition.
  const lists = await Promise.all(
    partitions.map(async (keys, partition) =>
      (await listDeadLetters(redis, keys, filter, limit)).map((entry) => ({
        partition,
        keys,
        entry,
      })),
    ),
  );
  return newestFirst(lists).slice(0, limit);
}

/** The entries grouped by the partition that holds them, each group in the order given. */
function byPartition(entries: readonly QueueDeadLetter[]) {
  const groups = new Map<string, { keys: QueueKeys; entries: DeadLetter[] }>();
  for (const { keys, entry } of entries) {
    const group = groups.get(keys.name) ?? { keys, entries: [] };
    group.entries.push(entry);
    groups.set(keys.name, group);
  }
  return [...groups.values()];
}

async function sumOver<T>(items: readonly T[], count: (item: T) => Promise<number>) {
  const counts = await Promise.all(items.map(count));
  return counts.reduce((sum, n) => sum + n, 0);
}

/**
 * replayDeadLetterEntries for entries listed by listQueueDeadLetters (newest first per
 * partition): each goes back on its own partition, oldest first there.
 */
export async function replayQueueDeadLetterEntries(
  redis: Redis,
  entries: readonly QueueDeadLetter[],
): Promise<number> {
  return sumOver(byPartition(entries), (group) =>
    replayDeadLetterEntries(redis, group.keys, group.entries),
  );
}

/** purgeDeadLetterEntries for entries listed by listQueueDeadLetters, each from its partition. */
export async function purgeQueueDeadLetterEntries(
  redis: Redis,
  entries: readonly QueueDeadLetter[],
): Promise<number> {
  return sumOver(byPartition(entries), (group) =>
    purgeDeadLetterEntries(redis, group.keys, group.entries),
  );
}

/** Puts matching dead letters of queue `name` back on their partitions as fresh events. */
export async function replayQueueDeadLetters(
  redis: Redis,
  name: string,
  filter: DeadLetterFilter = {},
): Promise<number> {
  return sumOver(await recordedPartitions(redis, name), (keys) =>
    replayDeadLetters(redis, keys, filter),
  );
}

/** Deletes matching dead letters of queue `name` for good, in every partition. */
export async function purgeQueueDeadLetters(
  redis: Redis,
  name: string,
  filter: DeadLetterFilter = {},
): Promise<number> {
  return sumOver(await recordedPartitions(redis, name), (keys) =>
    purgeDeadLetters(redis, keys, filter),
  );
}
