import { describe, expect, it } from "vitest";
import { EventBudget } from "../src/event-budget.js";

describe("event budget", () => {
  it("makes readers wait past the capacity and serves them in order", async () => {
    const budget = new EventBudget(100);
    expect(await budget.acquire(60)).toBe(60);
    const order: string[] = [];
    const big = budget.acquire(80).then((n) => order.push(`big ${n}`));
    const small = budget.acquire(10).then((n) => order.push(`small ${n}`));
    await Promise.resolve();
    expect(order).toEqual([]); // 40 left: the big one waits, and the small one waits behind it
    budget.release(60);
    await Promise.all([big, small]);
    expect(order).toEqual(["big 80", "small 10"]);
    expect(budget.inUse).toBe(90);
    budget.release(90);
    // More than the capacity is clamped to it, so one huge message cannot wait forever.
    expect(await budget.acquire(500)).toBe(100);
  });
});
