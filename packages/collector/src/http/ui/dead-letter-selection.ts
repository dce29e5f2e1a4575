// Which dead letters a replay or purge from the dashboard means, and acting on exactly those.
//
// A body names one selection: `refs` (entries exactly as the page listed them), `ids` (event
// ids), `all: true`, or a filter (`reason` and/or `type`). Filters and `all` go through the
// queue package's replayQueueDeadLetters / purgeQueueDeadLetters, as `pnpm dead-letters` does.
// `refs` and `ids` pick entries from a scan and act on their exact bytes (replay-4.lua and LREM
// remove an entry only if it is still there): an entry that changed or went since the page
// showed it is reported missing, never replayed twice, and entries added meanwhile are
// never touched. Every partition of the queue is scanned; each entry is replayed into or
// purged from the partition that holds it.
import { createHash } from "node:crypto";
import {
  type DeadLetter,
  type DeadLetterFilter,
  listQueueDeadLetters,
  purgeQueueDeadLetterEntries,
  purgeQueueDeadLetters,
  type QueueDeadLetter,
  replayQueueDeadLetterEntries,
  replayQueueDeadLetters,
} from "@eventpipe/queue";
import type { Redis } from "ioredis";
import { badRequest } from "../errors.js";

export const DEAD_LETTER_REASONS = ["max_attempts", "poison", "undecodable", "rejected"] as const;

/** Most refs or ids one request may name; more is a filter's job. */
export const MAX_NAMED = 1000;

export type Selection =
  | { readonly kind: "refs"; readonly names: ReadonlySet<string> }
  | { readonly kind: "ids"; readonly names: ReadonlySet<string> }
  | { readonly kind: "filter"; readonly filter: DeadLetterFilter };

/** What replay and purge answer. `missing`: refs or ids no entry matched any more. */
export interface ActionResult {
  readonly count: number;
  readonly missing?: readonly string[];
}

/** A short, stable name for one entry exactly as Redis holds it (128 bits of SHA-256). */
export function refOf(entry: DeadLetter): string {
  return createHash("sha256").update(entry.raw).digest("base64url").slice(0, 22);
}

const SELECTORS = ["refs", "ids", "all", "reason", "type"] as const;
const USAGE =
  'send one of {"refs": [...]}, {"ids": [...]}, {"all": true} or {"reason": R, "type": T} (either or both)';

function names(value: unknown, key: string): ReadonlySet<string> {
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    value.length > MAX_NAMED ||
    !value.every((v) => typeof v === "string" && v.length > 0)
  ) {
    throw badRequest(`"${key}" must be a list of 1 to ${MAX_NAMED} non-empty strings`);
  }
  return new Set(value as string[]);
}

/** The selection a replay or purge body names; 400 for anything else. */
export function parseSelection(body: unknown): Selection {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw badRequest(`the body must be a JSON object: ${USAGE}`);
  }
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((k) => !(SELECTORS as readonly string[]).includes(k));
  if (unknown.length > 0) throw badRequest(`unknown field "${unknown[0]}": ${USAGE}`);
  const kinds = [
    "refs" in fields,
    "ids" in fields,
    "all" in fields,
    "reason" in fields || "type" in fields,
  ].filter(Boolean).length;
  if (kinds !== 1) throw badRequest(`name exactly one selection: ${USAGE}`);
  if ("refs" in fields) return { kind: "refs", names: names(fields.refs, "refs") };
  if ("ids" in fields) return { kind: "ids", names: names(fields.ids, "ids") };
  if ("all" in fields) {
    if (fields.all !== true) throw badRequest(`"all" must be true: ${USAGE}`);
    return { kind: "filter", filter: {} };
  }
  const { reason, type } = fields;
  if (reason !== undefined && !(DEAD_LETTER_REASONS as readonly unknown[]).includes(reason)) {
    throw badRequest(`"reason" must be one of ${DEAD_LETTER_REASONS.join(", ")}`);
  }
  if (type !== undefined && (typeof type !== "string" || type.length === 0)) {
    throw badRequest('"type" must be a non-empty string');
  }
  return { kind: "filter", filter: { reason: reason as string | undefined, type } };
}

/** The entries a refs or ids selection names, newest first, and the names nothing matched. */
async function pick(
  redis: Redis,
  queue: string,
  selection: Extract<Selection, { kind: "refs" | "ids" }>,
): Promise<{ entries: QueueDeadLetter[]; missing: string[] }> {
  const nameOf =
    selection.kind === "refs" ? refOf : (entry: DeadLetter) => entry.stored?.event?.eventId;
  const found = new Set<string>();
  const entries = (await listQueueDeadLetters(redis, queue)).filter(({ entry }) => {
    const name = nameOf(entry);
    if (name === undefined || !selection.names.has(name)) return false;
    found.add(name);
    return true;
  });
  return { entries, missing: [...selection.names].filter((name) => !found.has(name)) };
}

export async function replaySelection(
  redis: Redis,
  queue: string,
  selection: Selection,
): Promise<ActionResult> {
  if (selection.kind === "filter") {
    return { count: await replayQueueDeadLetters(redis, queue, selection.filter) };
  }
  const { entries, missing } = await pick(redis, queue, selection);
  return { count: await replayQueueDeadLetterEntries(redis, entries), missing };
}

export async function purgeSelection(
  redis: Redis,
  queue: string,
  selection: Selection,
): Promise<ActionResult> {
  if (selection.kind === "filter") {
    return { count: await purgeQueueDeadLetters(redis, queue, selection.filter) };
  }
  const { entries, missing } = await pick(redis, queue, selection);
  return { count: await purgeQueueDeadLetterEntries(redis, entries), missing };
}
