// One HTTP request's events through the shared core: shape checks for JSON events, the
// collector-wide budget, writer.write per chunk (validation, schemas, dedup, atomic enqueue),
// and the reply summary, the same counts as the gRPC StreamSummary. Rejection indexes are
// positions in the request, whichever step rejected the event.
import type { Rejection } from "@eventpipe/proto";
import type { IngestCore } from "../core.js";
import { NotReplicatedError, RedisUnavailableError } from "../errors.js";
import type { IncomingEvent } from "../incoming.js";
import { MAX_REPORTED_REJECTIONS } from "../ingest.js";
import { reasonName } from "../rejection-names.js";
import { acquireBudget } from "./budget.js";
import type { DoorContext, RequestSignal } from "./context.js";
import { eventFromJson, type JsonEventOutcome } from "./json-event.js";

export interface PreparedEvents {
  /** The events to hand to the core. */
  readonly events: readonly IncomingEvent[];
  /** positions[i]: the request index of events[i]; undefined when they are the same. */
  readonly positions: readonly number[] | undefined;
  /** Events refused before the core saw them, by request index. */
  readonly rejections: readonly Rejection[];
  /** Ids the collector made for events sent without one. */
  readonly assignedIds: readonly AssignedId[];
}

export interface AssignedId {
  readonly index: number;
  readonly eventId: string;
}

export interface RejectionJson {
  readonly index: number;
  readonly eventId: string;
  /** The RejectionReason name without its prefix, lower-cased: "schema_violation". */
  readonly reason: string;
  readonly message: string;
}

export interface IngestSummary {
  readonly accepted: number;
  readonly rejected: number;
  readonly duplicates: number;
  /** The first MAX_REPORTED_REJECTIONS; `rejected` counts them all. */
  readonly rejections: readonly RejectionJson[];
  readonly assignedIds: readonly AssignedId[];
}

export function prepareJsonEvents(values: readonly unknown[], nowMs: number): PreparedEvents {
  return prepareOutcomes(values.map((value) => eventFromJson(value, nowMs)));
}

/** Per-event outcomes, by request index, to what ingestEvents takes. */
export function prepareOutcomes(outcomes: readonly JsonEventOutcome[]): PreparedEvents {
  const events: IncomingEvent[] = [];
  const positions: number[] = [];
  const rejections: Rejection[] = [];
  const assignedIds: AssignedId[] = [];
  for (let index = 0; index < outcomes.length; index++) {
    const outcome = outcomes[index]!;
    if (outcome.ok) {
      events.push(outcome.event);
      positions.push(index);
      if (outcome.assignedId) assignedIds.push({ index, eventId: outcome.event.eventId });
    } else {
      const { eventId, reason, message } = outcome;
      rejections.push({ index, eventId: eventId.slice(0, 128), reason, message });
    }
  }
  return {
    events,
    positions: rejections.length === 0 ? undefined : positions,
    rejections,
    assignedIds,
  };
}

export function prepareProtobufEvents(events: readonly IncomingEvent[]): PreparedEvents {
  return { events, positions: undefined, rejections: [], assignedIds: [] };
}

/**
 * A request's events could not all be stored: `cause` says why (BacklogFullError,
 * RedisOutOfMemoryError, RedisUnavailableError, ShuttingDownError), `stored` how many of the
 * request's events were stored all the same (a big request is written in several pieces).
 */
export class IngestFailedError extends Error {
  override readonly name = "IngestFailedError";
  constructor(
    override readonly cause: unknown,
    readonly stored: number,
    readonly assignedIds: readonly AssignedId[],
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

interface Written {
  stored: number;
  duplicates: number;
  readonly rejections: Rejection[];
  /** Why a piece was not stored (the first such reason); the counts cover the other pieces. */
  failure?: unknown;
}

/**
 * Writes the events in chunkSize pieces, all sent at once (Redis runs them in order on the one
 * connection), and tallies every piece, so that a failure still says what was stored. Never
 * throws: a failure is returned with the counts.
 */
async function writePieces(
  writer: IngestCore["writer"],
  events: readonly IncomingEvent[],
  chunkSize: number,
): Promise<Written> {
  const pieces: ReturnType<typeof writer.write>[] = [];
  for (let start = 0; start < events.length; start += chunkSize) {
    const piece =
      start === 0 && events.length <= chunkSize ? events : events.slice(start, start + chunkSize);
    pieces.push(writer.write(piece, start));
  }
  const settled = await Promise.allSettled(pieces);
  const written: Written = { stored: 0, duplicates: 0, rejections: [] };
  for (const piece of settled) {
    if (piece.status === "fulfilled") {
      written.stored += piece.value.stored;
      written.duplicates += piece.value.duplicates;
      for (const rejection of piece.value.rejections) written.rejections.push(rejection);
    } else {
      if (piece.reason instanceof RedisUnavailableError) written.stored += piece.reason.stored;
      if (!("failure" in written)) written.failure = piece.reason ?? new Error("write failed");
    }
  }
  return written;
}

/**
 * Stores the prepared events; resolves only when every accepted event is stored, else throws
 * IngestFailedError. `route` names the HTTP route in the metrics.
 */
export async function ingestEvents(
  { core, config }: Pick<DoorContext, "core" | "config">,
  prepared: PreparedEvents,
  signal: RequestSignal,
  route: string,
): Promise<IngestSummary> {
  const { events, positions } = prepared;
  let written: Written = { stored: 0, duplicates: 0, rejections: [] };
  if (events.length > 0) {
    let taken: number;
    try {
      taken = await acquireBudget(core.budget, events.length, signal);
    } catch (error) {
      throw new IngestFailedError(error, 0, prepared.assignedIds);
    }
    try {
      written = await writePieces(core.writerFor(route), events, config.chunkSize);
    } finally {
      core.budget.release(taken);
    }
    if ("failure" in written) {
      const { failure, stored } = written;
      // The message of a Redis failure counts what this whole request stored.
      const cause =
        failure instanceof NotReplicatedError
          ? new NotReplicatedError(stored, failure.replicas, failure.wanted, failure.timeoutMs)
          : failure instanceof RedisUnavailableError
            ? new RedisUnavailableError(stored, failure.cause)
            : failure;
      throw new IngestFailedError(cause, stored, prepared.assignedIds);
    }
  }
  const coreRejections = written.rejections;
  const rejected = prepared.rejections.length + coreRejections.length;
  const all: RejectionJson[] = [];
  for (const rejection of prepared.rejections) all.push(toJson(rejection, rejection.index));
  for (const rejection of coreRejections) {
    all.push(toJson(rejection, positions?.[rejection.index] ?? rejection.index));
  }
  if (prepared.rejections.length > 0 && coreRejections.length > 0) {
    all.sort((a, b) => a.index - b.index);
  }
  return {
    accepted: written.stored,
    rejected,
    duplicates: written.duplicates,
    rejections: all.length > MAX_REPORTED_REJECTIONS ? all.slice(0, MAX_REPORTED_REJECTIONS) : all,
    assignedIds: prepared.assignedIds,
  };
}

function toJson(rejection: Rejection, index: number): RejectionJson {
  return {
    index,
    eventId: rejection.eventId,
    reason: reasonName(rejection.reason),
    message: rejection.message,
  };
}
