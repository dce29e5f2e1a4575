// Which collectors are running and what they are doing right now, for `pnpm top`: each
// collector writes a small snapshot every second into one hash; readers skip (and remove)
// snapshots too old to be from a live collector.
import type { Redis } from "ioredis";

/** HASH collector id -> JSON snapshot. Global: collectors serve every queue. */
export const COLLECTORS_KEY = "eventpipe:collectors";
/** A snapshot older than this is from a collector that stopped or died. */
export const COLLECTOR_STALE_MS = 10_000;

export interface CollectorSnapshot {
  readonly id: string;
  /** gRPC streams and HTTP requests being served. */
  readonly streams: number;
  /** Events read from clients and not yet stored. */
  readonly buffered: number;
  /** Events received and accepted since the collector started. */
  readonly received: number;
  readonly accepted: number;
  /** The collector's clock when written. */
  readonly atMs: number;
}

export function reportCollector(redis: Redis, snapshot: CollectorSnapshot): Promise<unknown> {
  return redis.hset(COLLECTORS_KEY, snapshot.id, JSON.stringify(snapshot));
}

export function forgetCollector(redis: Redis, id: string): Promise<unknown> {
  return redis.hdel(COLLECTORS_KEY, id);
}

/** Live collectors' snapshots; stale ones are removed on the way. */
export async function readCollectors(
  redis: Redis,
  nowMs = Date.now(),
): Promise<CollectorSnapshot[]> {
  const entries = await redis.hgetall(COLLECTORS_KEY);
  const live: CollectorSnapshot[] = [];
  const stale: string[] = [];
  for (const [id, text] of Object.entries(entries)) {
    let snapshot: CollectorSnapshot | undefined;
    try {
      snapshot = JSON.parse(text) as CollectorSnapshot;
    } catch {}
    if (snapshot === undefined || nowMs - snapshot.atMs > COLLECTOR_STALE_MS) stale.push(id);
    else live.push(snapshot);
  }
  if (stale.length > 0) await redis.hdel(COLLECTORS_KEY, ...stale);
  return live.sort((a, b) => a.id.localeCompare(b.id));
}
