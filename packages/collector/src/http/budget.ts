// The collector-wide event budget (../event-budget.ts) for one HTTP request: taken before its
// events are written, given back after. A request that waits for it gives up when the door
// stops waiting (shutdown past the grace period) or its client leaves.
import { ShuttingDownError } from "../errors.js";
import type { EventBudget } from "../event-budget.js";

/**
 * Takes `count` events of the budget, or throws ShuttingDownError if `signal` aborts first;
 * what the abandoned wait takes later is given back at once.
 */
export async function acquireBudget(
  budget: EventBudget,
  count: number,
  signal: AbortSignal,
): Promise<number> {
  if (signal.aborted) throw new ShuttingDownError(0);
  const taking = budget.acquire(count);
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new ShuttingDownError(0));
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([taking, aborted]);
  } catch (error) {
    void taking.then((taken) => budget.release(taken));
    throw error;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}
