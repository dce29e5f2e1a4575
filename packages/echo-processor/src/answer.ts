// What the echo processor answers to one request. The `echo.*` event attributes switch the
// answer so that tests (and people trying a worker against it) can reach every path.
import { ProcessAction, type ProcessRequest, type ProcessResult } from "@eventpipe/proto";

/** Event attributes the echo processor obeys. */
export const ECHO_ATTRIBUTES = {
  /** "retry" | "dead-letter" | "error": answer that action instead of success. */
  action: "echo.action",
  /** Milliseconds to put in retry_after_ms. */
  retryAfterMs: "echo.retry-after-ms",
  /** Answer after this many milliseconds (at most MAX_ECHO_DELAY_MS). */
  delayMs: "echo.delay-ms",
} as const;

/** A bound, so a typo cannot hold an answer (and its stream) open for days. */
export const MAX_ECHO_DELAY_MS = 60_000;

const ACTIONS: Readonly<Record<string, ProcessAction>> = {
  retry: ProcessAction.PROCESS_ACTION_RETRY,
  "dead-letter": ProcessAction.PROCESS_ACTION_DEAD_LETTER,
  error: ProcessAction.PROCESS_ACTION_ERROR,
};

const UINT32_MAX = 2 ** 32 - 1;

export interface EchoAnswer {
  readonly result: ProcessResult;
  /** Send the result after this many milliseconds; 0: at once. */
  readonly delayMs: number;
}

export function answerOf(request: ProcessRequest): EchoAnswer {
  const { correlationId, event } = request;
  if (event === undefined) {
    // Resending the same request can never help, so it is a verdict, not a retry.
    return {
      result: resultOf(correlationId, ProcessAction.PROCESS_ACTION_DEAD_LETTER, {
        message: "the ProcessRequest carries no event",
      }),
      delayMs: 0,
    };
  }
  const attributes = event.attributes;
  const headers = {
    "content-type": attributes["content-type"] ?? "application/octet-stream",
  };
  const asked = attributes[ECHO_ATTRIBUTES.action];
  const action = asked === undefined ? ProcessAction.PROCESS_ACTION_SUCCESS : ACTIONS[asked];
  const delayMs = Math.min(wholeMs(attributes[ECHO_ATTRIBUTES.delayMs]), MAX_ECHO_DELAY_MS);
  if (action === undefined) {
    // A typo in echo.action should be seen, not silently answered with success.
    return {
      result: resultOf(correlationId, ProcessAction.PROCESS_ACTION_ERROR, {
        body: event.payload,
        headers,
        message: `${ECHO_ATTRIBUTES.action}="${asked}" is not one of ${Object.keys(ACTIONS).join(", ")}`,
      }),
      delayMs,
    };
  }
  return {
    result: resultOf(correlationId, action, {
      body: event.payload,
      headers,
      message: asked === undefined ? "" : `asked to ${asked}`,
      retryAfterMs: Math.min(wholeMs(attributes[ECHO_ATTRIBUTES.retryAfterMs]), UINT32_MAX),
    }),
    delayMs,
  };
}

function resultOf(
  correlationId: bigint,
  action: ProcessAction,
  fields: Partial<Omit<ProcessResult, "correlationId" | "action">>,
): ProcessResult {
  return {
    correlationId,
    action,
    body: fields.body ?? Buffer.alloc(0),
    message: fields.message ?? "",
    retryAfterMs: fields.retryAfterMs ?? 0,
    headers: fields.headers ?? {},
  };
}

/** A non-negative whole number of milliseconds; anything else (absent, "soon", -5) is 0. */
function wholeMs(value: string | undefined): number {
  if (value === undefined || !/^\d+$/.test(value.trim())) return 0;
  return Number(value.trim());
}
