// A collector-wide cap on events read from clients but not yet stored. Every stream takes its
// events from this budget before reading on and gives them back once Redis answered, so the
// collector's memory stays bounded however many producers stream at once: past the cap, HTTP/2
// flow control makes the producers wait instead.

export class EventBudget {
  private available: number;
  private readonly waiters: { readonly count: number; readonly resolve: () => void }[] = [];

  constructor(readonly capacity: number) {
    this.available = capacity;
  }

  /** Takes `count` events (at most the whole capacity); resolves how many it took. */
  async acquire(count: number): Promise<number> {
    const wanted = Math.min(count, this.capacity);
    if (this.waiters.length === 0 && this.available >= wanted) {
      this.available -= wanted;
      return wanted;
    }
    await new Promise<void>((resolve) => this.waiters.push({ count: wanted, resolve }));
    return wanted;
  }

  release(count: number): void {
    this.available += count;
    // First come, first served: a big request is not starved by small ones.
    while (this.waiters.length > 0 && this.waiters[0]!.count <= this.available) {
      const waiter = this.waiters.shift()!;
      this.available -= waiter.count;
      waiter.resolve();
    }
  }

  get inUse(): number {
    return this.capacity - this.available;
  }
}
