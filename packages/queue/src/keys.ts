// Every Redis key of one queue is built here; no other module spells a key.
//
// The pending list keeps the plain queue name (`event_queue`) so `redis-cli LLEN event_queue`
// works as people expect. Every companion key carries the hash tag `{event_queue}`, and Redis
// Cluster hashes only the tag of a key that has one, so all keys of a queue share one slot and
// the Lua scripts that touch several of them stay legal on a cluster.

export interface QueueKeys {
  readonly name: string;
  /** LPUSH by the collector, popped from the right by workers: FIFO. */
  readonly pending: string;
  /** ZSET worker id -> lease expiry (Redis clock, ms). */
  readonly workers: string;
  /** ZSET retry envelope -> due time (Redis clock, ms). */
  readonly delayed: string;
  /** LIST of dead-letter entries, newest on the left. */
  readonly deadLetter: string;
  /** SETs of event ids stored in even / odd dedup periods (see enqueue-4.lua). */
  readonly seenEven: string;
  readonly seenOdd: string;
  /** HASH seen-set key -> the dedup period it holds. */
  readonly seenPeriods: string;
  /** HASH of counters: processed, retried, deadLettered, recovered. */
  readonly stats: string;
  /** HASH event type -> events processed. */
  readonly processedByType: string;
  /** HASH worker id -> events processed. */
  readonly processedByWorker: string;
  /** HASH worker id -> first sequence of its latest claim that took events (claim-4.lua). */
  readonly claimMarks: string;
  /** STRING: the queue's partition count (partitions.ts); only the unpartitioned keys use it. */
  readonly partitionCount: string;
  /** ZSET listener id -> end of its lease (Redis clock, ms): who watches (feed-listeners.lua). */
  readonly listeners: string;
  /** LIST of copies of stored events one listener has not read yet (capped). */
  listener(listenerId: string): string;
  /** STRING: events dropped from that listener's list since it last asked. */
  listenerDropped(listenerId: string): string;
  /** LIST where workers before the claim script registered leases parked an event; recovery drains it. */
  claim(workerId: string): string;
  /** HASH delivery sequence -> envelope: what one worker holds right now. */
  inflight(workerId: string): string;
}

export function queueKeys(name: string): QueueKeys {
  if (name.length === 0 || /[{}\s]/.test(name)) {
    throw new TypeError(`queue name must be non-empty without braces or spaces, got "${name}"`);
  }
  // Partition p of a queue is laid out as `<name>:p` (partitions.ts): no queue may be one.
  if (/:\d+$/.test(name)) {
    throw new TypeError(
      `queue name must not end in ":" and digits (partition keys are spelled so), got "${name}"`,
    );
  }
  return layoutKeys(name);
}

/** The keys of a queue or, named `<queue>:<p>`, of one of its partitions. */
export function layoutKeys(name: string): QueueKeys {
  const tag = `{${name}}`;
  return Object.freeze({
    name,
    pending: name,
    workers: `${tag}:workers`,
    delayed: `${tag}:delayed`,
    deadLetter: `${tag}:dead-letter`,
    seenEven: `${tag}:seen:even`,
    seenOdd: `${tag}:seen:odd`,
    seenPeriods: `${tag}:seen:periods`,
    stats: `${tag}:stats`,
    processedByType: `${tag}:processed-by-type`,
    processedByWorker: `${tag}:processed-by-worker`,
    claimMarks: `${tag}:claim-marks`,
    listeners: `${tag}:listeners`,
    partitionCount: `${tag}:partitions`,
    // Spelled as the feed script derives them from `listeners`.
    listener: (listenerId: string) => `${tag}:listeners:${listenerId}`,
    listenerDropped: (listenerId: string) => `${tag}:listeners:${listenerId}:dropped`,
    claim: (workerId: string) => `${tag}:claim:${workerId}`,
    inflight: (workerId: string) => `${tag}:inflight:${workerId}`,
  });
}
