// The ledger: every event id a fault run touched, by what happened to it (sent, acknowledged
// to the producer, stored by the collector, handed to a handler, dead-lettered, still
// queued), and the checks that say nothing was lost. It compares sets of ids, never totals:
// totals can match by luck while one event is missing and another arrived twice.

export interface LedgerCounts {
  readonly sent: number;
  readonly acknowledged: number;
  /** -1 when the run could not know (deduplication off keeps no record of stored ids). */
  readonly stored: number;
  /** Distinct ids a handler finished. */
  readonly handled: number;
  /** Handler runs, counting repeats: handled + duplicates. */
  readonly handlerRuns: number;
  /** Handler runs beyond the first for an id (at-least-once redeliveries). */
  readonly duplicates: number;
  readonly deadLettered: number;
  readonly stillQueued: number;
}

export type ProblemKind =
  | "acknowledged-but-lost"
  | "stored-but-lost"
  | "acknowledged-not-stored"
  | "handled-never-stored"
  | "stored-never-sent"
  | "still-queued";

export interface LedgerProblem {
  readonly kind: ProblemKind;
  readonly count: number;
  /** The first few ids, to look up (pnpm dead-letters inspect, the record file). */
  readonly sample: readonly string[];
}

export interface LedgerVerdict {
  readonly ok: boolean;
  readonly counts: LedgerCounts;
  readonly problems: readonly LedgerProblem[];
}

const SAMPLE = 5;

export class Ledger {
  readonly sent = new Set<string>();
  readonly acknowledged = new Set<string>();
  /** Undefined until recorded: without deduplication nothing says which ids were stored. */
  stored: Set<string> | undefined;
  /** Id -> handler runs that finished. */
  readonly handled = new Map<string, number>();
  readonly deadLettered = new Set<string>();
  /** Pending, in flight or waiting for a retry when the run was checked. */
  readonly stillQueued = new Set<string>();

  recordSent(ids: Iterable<string>): void {
    for (const id of ids) this.sent.add(id);
  }

  recordAcknowledged(ids: Iterable<string>): void {
    for (const id of ids) this.acknowledged.add(id);
  }

  recordStored(ids: Iterable<string>): void {
    this.stored ??= new Set();
    for (const id of ids) this.stored.add(id);
  }

  /** One entry per handler run: an id listed twice ran twice. */
  recordHandled(ids: Iterable<string>): void {
    for (const id of ids) this.handled.set(id, (this.handled.get(id) ?? 0) + 1);
  }

  recordDeadLettered(ids: Iterable<string>): void {
    for (const id of ids) this.deadLettered.add(id);
  }

  recordStillQueued(ids: Iterable<string>): void {
    for (const id of ids) this.stillQueued.add(id);
  }

  counts(): LedgerCounts {
    let handlerRuns = 0;
    for (const runs of this.handled.values()) handlerRuns += runs;
    return {
      sent: this.sent.size,
      acknowledged: this.acknowledged.size,
      stored: this.stored?.size ?? -1,
      handled: this.handled.size,
      handlerRuns,
      duplicates: handlerRuns - this.handled.size,
      deadLettered: this.deadLettered.size,
      stillQueued: this.stillQueued.size,
    };
  }

  /**
   * Nothing is lost when every acknowledged id and every stored id was handled or
   * dead-lettered, every acknowledged id was stored, and no handler saw an id that was never
   * stored (or, without a record of stored ids, never sent). Ids still queued fail the check
   * too: a run is checked once it has drained.
   */
  check(): LedgerVerdict {
    const finished = (id: string) => this.handled.has(id) || this.deadLettered.has(id);
    const problems: LedgerProblem[] = [];
    const add = (kind: ProblemKind, ids: Iterable<string>) => {
      const found = [...ids];
      if (found.length > 0) {
        problems.push({ kind, count: found.length, sample: found.slice(0, SAMPLE) });
      }
    };
    const stored = this.stored;
    add(
      "acknowledged-but-lost",
      filter(this.acknowledged, (id) => !finished(id)),
    );
    if (stored !== undefined) {
      add(
        "stored-but-lost",
        filter(stored, (id) => !finished(id)),
      );
      add(
        "acknowledged-not-stored",
        filter(this.acknowledged, (id) => !stored.has(id)),
      );
      add(
        "handled-never-stored",
        filter(this.handled.keys(), (id) => !stored.has(id)),
      );
      if (this.sent.size > 0)
        add(
          "stored-never-sent",
          filter(stored, (id) => !this.sent.has(id)),
        );
    } else if (this.sent.size > 0) {
      add(
        "handled-never-stored",
        filter(this.handled.keys(), (id) => !this.sent.has(id)),
      );
    }
    add("still-queued", this.stillQueued);
    return { ok: problems.length === 0, counts: this.counts(), problems };
  }
}

function* filter(ids: Iterable<string>, keep: (id: string) => boolean): Iterable<string> {
  for (const id of ids) if (keep(id)) yield id;
}

/** One line for a log: the counts, then each problem with a sample of its ids. */
export function formatVerdict(scenario: string, verdict: LedgerVerdict): string {
  const problems = verdict.problems.map(
    (problem) => `${problem.kind}=${problem.count} (e.g. ${problem.sample.join(", ")})`,
  );
  return `${scenario}: ${verdict.ok ? "nothing lost" : "PROBLEMS"} ${JSON.stringify(verdict.counts)}${
    problems.length > 0 ? ` ${problems.join("; ")}` : ""
  }`;
}
