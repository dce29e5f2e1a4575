// Where every event of a queue is right now, by event id: the answer to "was anything lost?"
// that counters cannot give (totals can match by luck). Reads page by page, so it is safe on
// a live queue, but it reads everything: an operator's and a test's tool, not a hot path.
import type { Cluster, Redis } from "ioredis";
import { decodeEnvelope } from "./codec.js";
import { decodeDeadLetter } from "./dead-letter.js";
import type { QueueKeys } from "./keys.js";
import { isClusterClient } from "./redis-connection.js";

export interface QueueAudit {
  /** Ids the collector stored within the dedup window (empty when deduplication is off). */
  readonly stored: ReadonlySet<string>;
  /** Ids per place, one entry per copy (an id can be in a place more than once). */
  readonly pending: readonly string[];
  /** Held by a worker: every in-flight hash and claim list, registered worker or not. */
  readonly inFlight: readonly string[];
  readonly delayed: readonly string[];
  readonly deadLettered: readonly string[];
  /** Entries that are not eventpipe envelopes, by place. */
  readonly undecodable: number;
  /** In-flight hashes or claim lists of workers without a lease entry: nobody would recover them. */
  readonly orphanedHolders: readonly string[];
}

const PAGE = 1000;

/** Glob-escapes a key for SCAN MATCH. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  // SCAN walks one server: on a cluster, every primary (a queue's keys live on one of them).
  const servers = isClusterClient(redis) ? (redis as unknown as Cluster).nodes("master") : [redis];
  const found: string[] = [];
  for (const server of servers) {
    let cursor = "0";
    do {
      const [next, keys] = await server.scan(cursor, "MATCH", pattern, "COUNT", PAGE);
      cursor = next;
      found.push(...keys);
    } while (cursor !== "0");
  }
  return found;
}

async function scanSet(redis: Redis, key: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = "0";
  do {
    const [next, members] = await redis.sscan(key, cursor, "COUNT", PAGE);
    cursor = next;
    found.push(...members);
  } while (cursor !== "0");
  return found;
}

async function listRange(redis: Redis, key: string): Promise<Buffer[]> {
  const found: Buffer[] = [];
  for (let start = 0; ; start += PAGE) {
    const page = await redis.lrangeBuffer(key, start, start + PAGE - 1);
    found.push(...page);
    if (page.length < PAGE) return found;
  }
}

async function hashValues(redis: Redis, key: string): Promise<Buffer[]> {
  const found: Buffer[] = [];
  let cursor = "0";
  do {
    const [next, fields] = await redis.hscanBuffer(key, cursor, "COUNT", PAGE);
    cursor = String(next);
    for (let i = 1; i < fields.length; i += 2) found.push(fields[i]!);
  } while (cursor !== "0");
  return found;
}

export async function auditQueue(redis: Redis, keys: QueueKeys): Promise<QueueAudit> {
  let undecodable = 0;
  const eventId = (raw: Buffer): string[] => {
    try {
      return [decodeEnvelope(raw).stored.event?.eventId ?? ""];
    } catch {
      undecodable++;
      return [];
    }
  };

  const tag = globEscape(`{${keys.name}}`);
  const holderKeys = [
    ...(await scanKeys(redis, `${tag}:inflight:*`)),
    ...(await scanKeys(redis, `${tag}:claim:*`)),
  ];
  const registered = new Set(await redis.zrange(keys.workers, 0, -1));
  const inflightPrefix = `{${keys.name}}:inflight:`;
  const claimPrefix = `{${keys.name}}:claim:`;
  const inFlight: string[] = [];
  const orphanedHolders: string[] = [];
  for (const key of holderKeys) {
    const isHash = key.startsWith(inflightPrefix);
    const worker = key.slice((isHash ? inflightPrefix : claimPrefix).length);
    const held = isHash ? await hashValues(redis, key) : await listRange(redis, key);
    if (held.length > 0 && !registered.has(worker)) orphanedHolders.push(key);
    inFlight.push(...held.flatMap(eventId));
  }

  const delayed: string[] = [];
  for (let start = 0; ; start += PAGE) {
    const page = await redis.zrangeBuffer(keys.delayed, start, start + PAGE - 1);
    delayed.push(...page.flatMap(eventId));
    if (page.length < PAGE) break;
  }

  const deadLettered = (await listRange(redis, keys.deadLetter)).flatMap((raw) => {
    const entry = decodeDeadLetter(raw);
    const id = entry.stored?.event?.eventId;
    if (id === undefined) undecodable++;
    return id === undefined ? [] : [id];
  });

  return {
    stored: new Set([
      ...(await scanSet(redis, keys.seenEven)),
      ...(await scanSet(redis, keys.seenOdd)),
    ]),
    pending: (await listRange(redis, keys.pending)).flatMap(eventId),
    inFlight,
    delayed,
    deadLettered,
    undecodable,
    orphanedHolders,
  };
}
