// Collects container IDs from an event burst and hands them over in one batch: a fixed window
// from the first event (not a sliding debounce, so a steady event stream cannot starve the
// flush). A batch's fetch (the inspects) starts as soon as its window closes and is applied as
// soon as it is done, even while earlier batches are still fetching: one slow inspect of some
// other container must not hold back the next event by its whole duration. Which answer wins
// for one container, when they come back out of order, is the caller's rule (inspect-order.ts).

export interface IdCoalescerOptions<T> {
  windowMs: number;
  /** Starts the work for a batch (may run alongside earlier batches' fetches). */
  fetch: (ids: string[]) => Promise<T>;
  /** Applies a batch's result as soon as its fetch is done (so not necessarily in batch order). */
  apply: (result: T) => void;
  /** Called if fetch rejects or apply throws; the coalescer itself never throws. */
  onError: (err: unknown) => void;
}

export class IdCoalescer<T> {
  private readonly opts: IdCoalescerOptions<T>;
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;

  constructor(opts: IdCoalescerOptions<T>) {
    this.opts = opts;
  }

  /** Queues an ID for the next batch. */
  add(id: string): void {
    if (this.closed) return;
    this.pending.add(id);
    this.timer ??= setTimeout(() => this.run(), this.opts.windowMs);
  }

  get size(): number {
    return this.pending.size;
  }

  /** Batches being fetched. */
  get running(): number {
    return this.inFlight.size;
  }

  /** Drops everything queued and stops; batches already started finish, nothing new starts. */
  close(): void {
    this.closed = true;
    this.pending.clear();
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Resolves once nothing is queued or running (for tests and orderly shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0 || (this.timer && this.pending.size > 0)) {
      if (this.inFlight.size > 0) await Promise.all(this.inFlight);
      else await new Promise((r) => setTimeout(r, this.opts.windowMs));
    }
  }

  private run(): void {
    this.timer = undefined;
    if (this.closed || this.pending.size === 0) return;
    const ids = [...this.pending];
    this.pending = new Set();
    const batch = (async () => {
      try {
        this.opts.apply(await this.opts.fetch(ids));
      } catch (err) {
        this.opts.onError(err);
      }
    })()
      .catch(() => undefined) // onError itself threw: nothing left to tell
      .finally(() => this.inFlight.delete(batch));
    this.inFlight.add(batch);
  }
}
