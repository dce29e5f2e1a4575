// How `pnpm listen` shows one event: a line for people, or one JSON object for scripts.
import type { DecodedEnvelope } from "@eventpipe/queue";

/** Payload characters a line shows; the JSON form carries the whole payload. */
const LINE_PAYLOAD_CHARS = 160;
/** Bytes a line shows in hex when the payload is not text. */
const LINE_HEX_BYTES = 24;

export interface ListenedRecord {
  readonly queue: string;
  readonly eventId: string;
  readonly type: string;
  /** The event's own time (ms since the epoch). */
  readonly timestamp: number;
  readonly source: string;
  readonly attributes: Readonly<Record<string, string>>;
  /** Handler failures so far: above 0 for a retry put back. */
  readonly attempts: number;
  readonly payload: Buffer;
}

export function recordOf(queue: string, decoded: DecodedEnvelope): ListenedRecord {
  const event = decoded.stored.event;
  return {
    queue,
    eventId: event?.eventId ?? "",
    type: event?.type ?? "",
    timestamp: Number(event?.timestamp ?? 0n),
    source: event?.source ?? "",
    attributes: event?.attributes ?? {},
    attempts: decoded.stored.attempts,
    payload: Buffer.from(event?.payload ?? new Uint8Array()),
  };
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/** The payload as text when it is UTF-8 without control characters (tabs and newlines aside). */
export function payloadText(payload: Buffer): string | undefined {
  let text: string;
  try {
    text = decoder.decode(payload);
  } catch {
    return undefined;
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
  return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text) ? undefined : text;
}

/** `12:00:01.234  queue  type  id  source  payload` */
export function formatLine(record: ListenedRecord): string {
  const time = new Date(record.timestamp).toISOString().slice(11, 23);
  const source = record.source === "" ? "-" : record.source;
  const retry = record.attempts > 0 ? `(retry ${record.attempts})` : "";
  return [
    time,
    record.queue,
    record.type,
    record.eventId,
    source,
    retry,
    shortPayload(record.payload),
  ]
    .filter((part) => part !== "")
    .join("  ")
    .trimEnd();
}

function shortPayload(payload: Buffer): string {
  if (payload.length === 0) return "";
  const text = payloadText(payload);
  if (text !== undefined) {
    const flat = text.replace(/\s+/g, " ");
    return flat.length > LINE_PAYLOAD_CHARS ? `${flat.slice(0, LINE_PAYLOAD_CHARS)}…` : flat;
  }
  const hex = payload.subarray(0, LINE_HEX_BYTES).toString("hex");
  return `hex:${hex}${payload.length > LINE_HEX_BYTES ? "…" : ""} (${payload.length} bytes)`;
}

/** One JSON object: the payload as text when it is text, else base64. */
export function formatJson(record: ListenedRecord): string {
  const text = payloadText(record.payload);
  return JSON.stringify({
    queue: record.queue,
    eventId: record.eventId,
    type: record.type,
    timestamp: new Date(record.timestamp).toISOString(),
    source: record.source,
    attributes: record.attributes,
    attempts: record.attempts,
    ...(text !== undefined
      ? { payload: text }
      : { payloadBase64: record.payload.toString("base64") }),
  });
}
