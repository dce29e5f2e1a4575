import { setTimeout as delay } from "node:timers/promises";

/** Exponential backoff with full jitter, for loops that wait out a Redis outage. */
export class Backoff {
  private attempt = 0;
  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
  ) {}

  reset(): void {
    this.attempt = 0;
  }

  async wait(): Promise<void> {
    const ceiling = Math.min(this.maxMs, this.baseMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    await delay(ceiling / 2 + Math.random() * (ceiling / 2));
  }
}
