import { describe, expect, it } from "vitest";
import { formatVerdict, Ledger } from "../src/index.js";

function ledgerOf(ids: string[]) {
  const ledger = new Ledger();
  ledger.recordSent(ids);
  ledger.recordAcknowledged(ids);
  ledger.recordStored(ids);
  return ledger;
}

describe("ledger", () => {
  it("passes a run where every id was handled or dead-lettered, and counts duplicates", () => {
    const ledger = ledgerOf(["a", "b", "c"]);
    ledger.recordHandled(["a", "b", "a"]);
    ledger.recordDeadLettered(["c"]);
    const verdict = ledger.check();
    expect(verdict.ok).toBe(true);
    expect(verdict.counts).toMatchObject({ handled: 2, handlerRuns: 3, duplicates: 1 });
  });

  it("catches a lost id that the totals hide: one missing, another handled twice", () => {
    const ledger = ledgerOf(["a", "b", "c"]);
    ledger.recordHandled(["a", "b", "b"]);
    const verdict = ledger.check();
    expect(verdict.counts.handlerRuns).toBe(3); // the total matches ...
    expect(verdict.ok).toBe(false); // ... and still "c" is lost
    expect(verdict.problems).toContainEqual({
      kind: "acknowledged-but-lost",
      count: 1,
      sample: ["c"],
    });
    expect(verdict.problems).toContainEqual({ kind: "stored-but-lost", count: 1, sample: ["c"] });
    expect(formatVerdict("x", verdict)).toContain("acknowledged-but-lost=1 (e.g. c)");
  });

  it("flags ids handled but never stored, acknowledged but not stored, and still queued", () => {
    const ledger = new Ledger();
    ledger.recordSent(["a", "b"]);
    ledger.recordAcknowledged(["a", "b"]);
    ledger.recordStored(["a"]);
    ledger.recordHandled(["a", "b", "z"]);
    ledger.recordStillQueued(["q"]);
    const kinds = ledger.check().problems.map((problem) => problem.kind);
    expect(kinds).toEqual(["acknowledged-not-stored", "handled-never-stored", "still-queued"]);
  });

  it("without a record of stored ids, checks handled ids against the sent ones", () => {
    const ledger = new Ledger();
    ledger.recordSent(["a"]);
    ledger.recordAcknowledged(["a"]);
    ledger.recordHandled(["a", "phantom"]);
    expect(ledger.check().problems).toEqual([
      { kind: "handled-never-stored", count: 1, sample: ["phantom"] },
    ]);
    expect(ledger.check().counts.stored).toBe(-1);
  });
});
