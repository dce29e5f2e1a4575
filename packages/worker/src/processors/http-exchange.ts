// One request of the HTTP processor and its answer: the body read (up to 1 MiB), transport
// failures worded for the dead-letter entry, and the answer turned into a result, a retry
// (408, 429, 5xx, honouring Retry-After) or a permanent failure (other 4xx).
import type { Dispatcher, Pool } from "undici";
import { type HandlerResult, PermanentFailure, RetryLater } from "../handler.js";
import { retryAfterMs } from "./retry-after.js";

/** Response headers as undici gives them: lower-case names. */
type IncomingHttpHeaders = Dispatcher.ResponseData["headers"];

export interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

const MAX_BODY_BYTES = 1024 * 1024;
const RETRY_MESSAGE_CHARS = 200;
const REJECT_MESSAGE_CHARS = 500;
const READER_HEADERS = new Set(["content-type", "content-encoding", "location", "etag"]);
const UNDICI_TIMEOUTS = new Set([
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_CONNECT_TIMEOUT",
]);

export async function send(
  pool: Pool,
  exchange: string,
  timeoutMs: number,
  shutdown: { readonly started: boolean },
  request: {
    path: string;
    method: Dispatcher.HttpMethod;
    headers: Record<string, string>;
    body?: Uint8Array;
  },
): Promise<Answer> {
  let response: Dispatcher.ResponseData;
  let body: Buffer | undefined;
  try {
    response = await pool.request({
      ...request,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    // A declared length within the limit is read in one go; streaming (and counting) is for
    // answers of unknown or excessive length.
    const declared = Number(response.headers["content-length"] ?? Number.NaN);
    body =
      declared <= MAX_BODY_BYTES
        ? Buffer.from(await response.body.arrayBuffer())
        : await readAtMost(response.body, MAX_BODY_BYTES);
  } catch (error) {
    throw transportError(error, exchange, timeoutMs, shutdown.started);
  }
  if (body === undefined) throw new Error(`${exchange} failed: response body over 1 MiB`);
  return { status: response.statusCode, headers: response.headers, body };
}

/**
 * The whole body, or undefined past `limit` bytes. Either way the stream ends consumed or
 * destroyed, so the socket goes back to the pool (or is closed) and never leaks.
 */
async function readAtMost(body: AsyncIterable<Buffer>, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let length = 0;
  // Leaving the loop early destroys the stream.
  for await (const chunk of body) {
    length += chunk.length;
    if (length > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, length);
}

function transportError(
  error: unknown,
  exchange: string,
  timeoutMs: number,
  shuttingDown: boolean,
): Error {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (shuttingDown) {
    return new Error(`${exchange} aborted: the worker is shutting down`, { cause: error });
  }
  if (typeof code === "string" && UNDICI_TIMEOUTS.has(code)) {
    return new Error(`${exchange} timed out after ${timeoutMs} ms`, { cause: error });
  }
  return new Error(`${exchange} failed: ${describeCause(error)}`, { cause: error });
}

/** "connect ECONNREFUSED 127.0.0.1:80"; the code alone when the message is empty (AggregateError). */
function describeCause(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const inner = error instanceof AggregateError ? error.errors.map(String).join("; ") : "";
  const message = error.message || inner;
  if (typeof code !== "string" || message.includes(code)) return message || error.name;
  return message ? `${code}: ${message}` : code;
}

export function toResult(
  answer: Answer,
  target: string,
  errorAnswersAreResults: boolean,
): HandlerResult {
  const { status, body } = answer;
  if (status < 400) {
    return { outcome: "success", status, body, headers: readerHeaders(answer.headers) };
  }
  if (status === 408 || status === 429 || status >= 500) {
    throw new RetryLater(
      `HTTP ${status} from ${target}: ${startOf(body, RETRY_MESSAGE_CHARS)}`,
      retryAfterMs(answer.headers["retry-after"]),
    );
  }
  if (errorAnswersAreResults) {
    return { outcome: "error", status, body, headers: readerHeaders(answer.headers) };
  }
  throw new PermanentFailure(
    `HTTP ${status} from ${target}: ${startOf(body, REJECT_MESSAGE_CHARS)}`,
    status,
  );
}

/** The headers of an answer that matter to its reader; undici gives lower-case names. */
function readerHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || !(READER_HEADERS.has(name) || name.startsWith("x-"))) continue;
    kept[name] = typeof value === "string" ? value : value.join(", ");
  }
  return kept;
}

function startOf(body: Buffer, chars: number): string {
  // A UTF-8 character is at most 4 bytes: decode no more than the message can show.
  return body
    .subarray(0, chars * 4)
    .toString("utf8")
    .slice(0, chars);
}
