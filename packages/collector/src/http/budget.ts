// The collector-wide event budget (../event-budget.ts) for one HTTP request: taken before its
// events are written, given back after. A request that waits for it gives up when the door
// stops waiting (shutdown past the grace period) or its client leaves.
import { ShuttingDownError } from "../errors.js";
import type { EventBudget } from "../event-budget.js";
import type { RequestSignal } from "./context.js";

/**
 * Takes `count` events of the budget, or throws ShuttingDownError if the request's signal
 * aborts first; what the abandoned wait takes later is given back at once.
 */
export async function acquireBudget(
  budget: EventBudget,
  count: number,
  request: RequestSignal,
): Promise<number> {
  if (request.aborted) throw new ShuttingDownError(0);
  const taking = budget.acquire(count);
  // The usual case: the budget had room and `taking` is already fulfilled, so its reaction
  // runs before this function's next step (microtasks run in order). Only a request that
  // really waits pays for the abort signal and the race.
  let taken: number | undefined;
  void taking.then((value) => {
    taken = value;
  });
  await undefined;
  if (taken !== undefined) return taken;
  const signal = request.signal();
  if (signal.aborted) {
    void taking.then((value) => budget.release(value));
    throw new ShuttingDownError(0);
  }
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new ShuttingDownError(0));
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([taking, aborted]);
  } catch (error) {
    void taking.then((value) => budget.release(value));
    throw error;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}
