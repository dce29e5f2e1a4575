import { describe, expect, it } from "vitest";
import { readWorkerConfig } from "../src/config.js";

describe("QUEUE_PARTITIONS and WORKER_PARTITIONS", () => {
  it("a worker consumes every partition unless told which", () => {
    expect(readWorkerConfig({}).partitions).toEqual([0]);
    expect(readWorkerConfig({ QUEUE_PARTITIONS: "4" }).partitions).toEqual([0, 1, 2, 3]);
    expect(
      readWorkerConfig({ QUEUE_PARTITIONS: "8", WORKER_PARTITIONS: "6,0-2,2" }).partitions,
    ).toEqual([0, 1, 2, 6]);
  });

  it("names partitions that do not exist", () => {
    for (const chosen of ["4", "2-1", "a", "0-9"]) {
      expect(() => readWorkerConfig({ QUEUE_PARTITIONS: "4", WORKER_PARTITIONS: chosen })).toThrow(
        /^WORKER_PARTITIONS=.* is invalid/,
      );
    }
    expect(() => readWorkerConfig({ QUEUE_PARTITIONS: "0" })).toThrow(/^QUEUE_PARTITIONS=/);
  });
});
