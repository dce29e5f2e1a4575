// One proxied gRPC call: the caller's call on the collector, joined to a call on the upstream.
//
// Both ends are handled as bidirectional streams of raw messages, whatever the method's kind:
// on the wire, unary, server-streaming, client-streaming and bidi calls are the same HTTP/2
// exchange (headers, length-prefixed messages, half-close, trailers with the status); the kind
// only decides how a library hands messages to the application. So the proxy needs no
// descriptor of the method, and the upstream, which knows the kind, enforces it (a second
// request message to a unary method gets the upstream's own error).
//
// The upstream side is a call of the channel itself (`Channel.createCall`, the interface
// grpc-js's Client is built on), not a Client stream: it takes and gives the message bytes
// with no serializer, no interceptor chain and no Node stream around them, which is most of
// what a grpc-js client spends per call, and it reads one message per startRead(), which is
// exactly the flow control a proxy needs.
//
// What crosses: messages in order in both directions; request metadata (grpc-metadata.ts);
// the response headers before the first message; trailers, status code and message after
// the last message. Backpressure: the upstream's next message is read only once the caller's
// stream accepted the previous one (write() true, or after 'drain'); the caller's stream is
// paused while MAX_PENDING_WRITES messages wait for the upstream's HTTP/2 stream. A slow reader
// on either side thus fills HTTP/2 flow-control windows back to the writer, and the proxy
// holds a few messages per call. Deadline: the caller's deadline goes upstream as it is.
// Cancellation: the caller cancelling (or its deadline passing) cancels the upstream call; the
// upstream failing ends the caller's call with the upstream's status, and the collector's
// shutdown, past its grace period, ends it with UNAVAILABLE.
import {
  type Channel,
  Metadata,
  type ServerDuplexStream,
  type StatusObject,
  status,
} from "@grpc/grpc-js";
import type { Logger } from "pino";
import { callerResponseMetadata } from "./grpc-metadata.js";

/** How long a call ended by the shutdown may take to send its status before it is cut. */
const SHUTDOWN_FLUSH_MS = 1000;

/** Caller messages handed to the upstream call and not yet written to its HTTP/2 stream. */
const MAX_PENDING_WRITES = 16;

export interface ForwardTarget {
  readonly channel: Channel;
  /** For logs: "host:port". */
  readonly upstream: string;
}

/** Joins `call` to a new call of the same method on the upstream; resolves with the status relayed. */
export function forwardCall(
  call: ServerDuplexStream<Buffer, Buffer>,
  target: ForwardTarget,
  metadata: Metadata,
  { log, shutdown }: { readonly log: Logger; readonly shutdown: AbortSignal },
): Promise<StatusObject> {
  const path = call.getPath();
  const upstream = target.channel.createCall(path, call.getDeadline(), null, null, null);
  let headersReceived = false;

  return new Promise<StatusObject>((resolve) => {
    let settled = false;
    const settle = (relayed: StatusObject) => {
      if (settled) return;
      settled = true;
      shutdown.removeEventListener("abort", endForShutdown);
      resolve(relayed);
    };

    let answered: StatusObject | undefined;
    /** Ends the caller's call with `relayed`, after the messages already written. */
    function answer(relayed: StatusObject): void {
      if (answered !== undefined) return;
      answered = relayed;
      if (relayed.code === status.OK) call.end(relayed.metadata);
      else call.emit("error", relayed);
    }

    // grpc-js emits 'cancelled' once a call is over on the wire: its status sent, or the caller
    // gone (cancelled, deadline passed, connection lost) before it.
    call.on("cancelled", () => {
      if (answered === undefined) {
        upstream.cancelWithStatus(status.CANCELLED, "the caller cancelled the call");
      }
      const relayed = answered ?? {
        code: status.CANCELLED,
        details: "cancelled by the caller",
        metadata: call.metadata,
      };
      // During shutdown the server is closed by force once every call settled: first give
      // HTTP/2 the turn of the event loop in which it writes the trailers just queued.
      if (shutdown.aborted) setImmediate(() => settle(relayed));
      else settle(relayed);
    });

    // The collector's grace period is over: the caller hears why, the upstream is cancelled.
    // A caller that reads nothing holds its status behind its unread messages: the server's
    // forced shutdown cuts it after SHUTDOWN_FLUSH_MS.
    function endForShutdown(): void {
      upstream.cancelWithStatus(status.CANCELLED, "the gateway is shutting down");
      const details = "the collector is shutting down; retry the call";
      const relayed = { code: status.UNAVAILABLE, details, metadata: new Metadata() };
      answer(relayed);
      setTimeout(() => settle(relayed), SHUTDOWN_FLUSH_MS).unref();
    }
    shutdown.addEventListener("abort", endForShutdown);

    call.on("error", () => {
      // Emitted by answer() itself; a caller that goes away is reported by 'cancelled'.
    });

    // Upstream -> caller. grpc-js gives the status only after every message was read.
    upstream.start(metadata, {
      onReceiveMetadata(headers: Metadata) {
        if (call.cancelled) return;
        headersReceived = true;
        call.sendMetadata(callerResponseMetadata(headers));
      },
      onReceiveMessage(message: Buffer) {
        if (call.cancelled) return;
        if (call.write(message)) upstream.startRead();
        else call.once("drain", () => upstream.startRead());
      },
      onReceiveStatus(received: StatusObject) {
        if (answered !== undefined || call.cancelled) return;
        const { code, details } = relayedStatus(received, headersReceived);
        if (code === status.UNAVAILABLE) {
          log.warn(
            { method: path, upstream: target.upstream, reason: received.details },
            "upstream unavailable",
          );
        }
        answer({ code, details, metadata: callerResponseMetadata(received.metadata) });
      },
    });
    upstream.startRead();

    // Caller -> upstream; the caller's half-close half-closes the upstream call.
    let pending = 0;
    const written = () => {
      pending--;
      if (call.isPaused() && pending < MAX_PENDING_WRITES) call.resume();
    };
    call.on("data", (message: Buffer) => {
      pending++;
      upstream.sendMessageWithContext({ callback: written }, message);
      if (pending >= MAX_PENDING_WRITES) call.pause();
    });
    call.on("end", () => upstream.halfClose());
  });
}

/**
 * The upstream's status as the caller gets it. Two cases are reworded, both statuses grpc-js
 * makes up for a call it lost rather than ones the upstream sent: UNAVAILABLE before any
 * response headers (the upstream is down or unreachable: the caller learns which hop failed),
 * and CANCELLED, which this proxy never asks for while the caller is still there: grpc-js
 * reports an upstream that reset the stream or closed its connection mid-call (a server shut
 * down or killed) as CANCELLED, and a caller that did not cancel must not be told it did.
 */
function relayedStatus(
  received: StatusObject,
  headersReceived: boolean,
): { readonly code: status; readonly details: string } {
  if (received.code === status.CANCELLED) {
    return {
      code: status.UNAVAILABLE,
      details: `upstream unavailable: it ended the call (${received.details})`,
    };
  }
  if (received.code === status.UNAVAILABLE && !headersReceived) {
    return { code: status.UNAVAILABLE, details: `upstream unavailable: ${received.details}` };
  }
  return { code: received.code, details: received.details };
}
