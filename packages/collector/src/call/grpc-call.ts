// The gRPC door's Call RPC: one event in, the processor's CallReply out, within the caller's
// deadline (or CALL_TIMEOUT_MS when the caller set none).
import type { CallReply } from "@eventpipe/proto";
import { type ServerUnaryCall, type sendUnaryData, status } from "@grpc/grpc-js";
import type { Logger } from "pino";
import { toGrpcStatus } from "../errors.js";
import type { IncomingBatch } from "../incoming.js";
import { MalformedMessage } from "../service-definition.js";
import { CALL_MESSAGES, type Caller, SHUT_DOWN_WHILE_WAITING } from "./caller.js";

export interface CallSettings {
  readonly callTimeoutMs: number;
  readonly retryAfterMs: number;
}

/** Milliseconds until the call's deadline, at most the default timeout. */
function timeLeft(call: ServerUnaryCall<unknown, unknown>, defaultMs: number): number {
  const deadline = call.getDeadline();
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  if (!Number.isFinite(at)) return defaultMs;
  return Math.min(defaultMs, Math.max(0, at - Date.now()));
}

export async function answerCall(
  call: ServerUnaryCall<IncomingBatch | MalformedMessage, CallReply>,
  callback: sendUnaryData<CallReply>,
  caller: Caller,
  settings: CallSettings,
  log: Logger,
  /** The door's: aborted when its grace period is over. */
  shutdown: AbortSignal,
): Promise<void> {
  const request = call.request;
  if (request instanceof MalformedMessage || request.events.length !== 1) {
    callback({
      code: status.INVALID_ARGUMENT,
      details: "a CallRequest carries exactly one valid event",
    });
    return;
  }
  const event = request.events[0]!;
  // The wait ends early when the client cancels or the door shuts down; both listeners go
  // once the call is answered (grpc-js may still emit "cancelled" after that).
  const abandoned = new AbortController();
  const abandon = () => abandoned.abort();
  call.once("cancelled", abandon);
  shutdown.addEventListener("abort", abandon, { once: true });
  try {
    const outcome = await caller.call(
      event,
      timeLeft(call, settings.callTimeoutMs),
      abandoned.signal,
    );
    switch (outcome.kind) {
      case "reply":
        callback(null, outcome.reply);
        return;
      case "rejected":
        callback({ code: status.INVALID_ARGUMENT, details: outcome.rejection.message });
        return;
      case "duplicate":
        callback({
          code: status.ALREADY_EXISTS,
          details: CALL_MESSAGES.duplicate(event.eventId),
        });
        return;
      case "timeout":
        if (shutdown.aborted) {
          callback({
            code: status.UNAVAILABLE,
            details: SHUT_DOWN_WHILE_WAITING,
          });
          return;
        }
        callback({
          code: status.DEADLINE_EXCEEDED,
          details: CALL_MESSAGES.timeout,
        });
        return;
      case "busy":
        callback({
          code: status.RESOURCE_EXHAUSTED,
          details: CALL_MESSAGES.busy(outcome.limit),
        });
        return;
    }
  } catch (error) {
    const failure = toGrpcStatus(error, settings.retryAfterMs);
    if (failure.unexpected) log.error({ err: error }, "call failed");
    callback(failure.error);
  } finally {
    call.removeListener("cancelled", abandon);
    shutdown.removeEventListener("abort", abandon);
  }
}
