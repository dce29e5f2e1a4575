// Dead-letter entries: "dl1:" <JSON metadata> "\n" <the event's envelope as it was>.
// The metadata is JSON (it has no raw newline), so the first newline ends it; the recovery
// Lua script writes the same layout with cjson.
import type { StoredEvent } from "@eventpipe/proto";
import { decodeEnvelope } from "./codec.js";

/**
 * max_attempts: the handler failed MAX_ATTEMPTS times; poison: its workers died holding it
 * MAX_DELIVERIES times; undecodable: not an envelope; rejected: the processor said it can
 * never succeed (an HTTP 4xx, a gRPC processor's dead-letter verdict).
 */
export type DeadLetterReason = "max_attempts" | "poison" | "undecodable" | "rejected";

export interface DeadLetterMeta {
  readonly reason: DeadLetterReason;
  readonly message: string;
  readonly worker: string;
  readonly deadLetteredAtMs: number;
  readonly attempts?: number;
  /** The HTTP status that got the event rejected. */
  readonly status?: number;
  readonly deliveries?: number;
  readonly firstError?: string;
  readonly lastError?: string;
  readonly firstFailedAtMs?: number;
  readonly lastFailedAtMs?: number;
}

export interface DeadLetter {
  readonly meta: DeadLetterMeta;
  /** The envelope as it stood when the event was dead-lettered. */
  readonly envelope: Buffer;
  /** The decoded event, unless the envelope itself was what could not be read. */
  readonly stored: StoredEvent | undefined;
  /** The entry exactly as Redis holds it: what replay and purge match on. */
  readonly raw: Buffer;
}

const PREFIX = "dl1:";
const NEWLINE = 0x0a;

export function encodeDeadLetter(meta: DeadLetterMeta, envelope: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${PREFIX}${JSON.stringify(meta)}\n`), envelope]);
}

export function decodeDeadLetter(raw: Buffer): DeadLetter {
  const end = raw.indexOf(NEWLINE);
  if (raw.toString("latin1", 0, PREFIX.length) !== PREFIX || end < 0) {
    return {
      meta: {
        reason: "undecodable",
        message: "not a dead-letter entry",
        worker: "",
        deadLetteredAtMs: 0,
      },
      envelope: raw,
      stored: undefined,
      raw,
    };
  }
  const meta = JSON.parse(raw.toString("utf8", PREFIX.length, end)) as DeadLetterMeta;
  const envelope = raw.subarray(end + 1);
  let stored: StoredEvent | undefined;
  try {
    stored = decodeEnvelope(envelope).stored;
  } catch {
    stored = undefined;
  }
  return { meta, envelope, stored, raw };
}
