// Typed errors of the queue contract. Lua scripts return small integer codes; this module
// alone turns them into these classes.

export class EnvelopeDecodeError extends Error {
  override readonly name = "EnvelopeDecodeError";
  readonly code = "EP_ENVELOPE_DECODE";
  constructor(detail: string) {
    super(`queue entry is not an eventpipe envelope: ${detail}; it goes to the dead-letter list`);
  }
}

export class BacklogFullError extends Error {
  override readonly name = "BacklogFullError";
  readonly code = "EP_BACKLOG_FULL";
  constructor(
    readonly pending: number,
    readonly limit: number,
  ) {
    super(
      `queue backlog is ${pending} events, the limit is ${limit}: retry later, add workers, or raise MAX_BACKLOG`,
    );
  }
}

/** Status codes returned by the Lua scripts. */
export const ScriptStatus = {
  backlogFull: -1,
  leaseStillValid: -2,
} as const;
