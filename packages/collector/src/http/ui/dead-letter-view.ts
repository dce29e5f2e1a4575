// Dead letters as the dashboard's JSON: a row per entry for the list, everything recorded for
// inspection. int64 fields become numbers (milliseconds fit easily), and the payload is given
// as text when it is valid UTF-8, and always as hex, so binary payloads read too.
import type { DeadLetter } from "@eventpipe/queue";
import { refOf } from "./dead-letter-selection.js";

/** Bytes of an undecodable entry shown as hex; what it is shows in far fewer. */
const MAX_RAW_BYTES = 64 * 1024;
const utf8 = new TextDecoder("utf-8", { fatal: true });

function textOf(bytes: Uint8Array): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

/** One line of the list: enough to recognise the event and why it failed. */
export function deadLetterRow(entry: DeadLetter) {
  const { meta, stored } = entry;
  const event = stored?.event;
  return {
    ref: refOf(entry),
    eventId: event?.eventId ?? null,
    type: event?.type ?? null,
    reason: meta.reason,
    message: meta.message,
    attempts: meta.attempts ?? stored?.attempts ?? null,
    status: meta.status ?? null,
    lastError: meta.lastError ?? (stored?.lastError || null),
    worker: meta.worker,
    deadLetteredAtMs: meta.deadLetteredAtMs,
    payloadBytes: event?.payload.length ?? null,
  };
}

/** Everything recorded about one dead letter: its metadata, the event and its payload. */
export function deadLetterDetail(entry: DeadLetter) {
  const { stored } = entry;
  const event = stored?.event;
  return {
    ...deadLetterRow(entry),
    meta: entry.meta,
    event:
      event === undefined
        ? null
        : {
            eventId: event.eventId,
            type: event.type,
            timestampMs: Number(event.timestamp),
            source: event.source,
            attributes: event.attributes,
            schemaVersion: event.schemaVersion,
          },
    enqueuedAtMs: stored === undefined ? null : Number(stored.enqueuedAtMs),
    payload:
      event === undefined
        ? null
        : {
            bytes: event.payload.length,
            text: textOf(event.payload),
            hex: Buffer.from(event.payload).toString("hex"),
          },
    // An entry whose envelope could not be decoded: its first bytes, to see what it is.
    envelope:
      stored === undefined
        ? {
            bytes: entry.envelope.length,
            hex: entry.envelope.subarray(0, MAX_RAW_BYTES).toString("hex"),
          }
        : null,
  };
}
