// Collects container IDs from an event burst and hands them over in one batch: a fixed window
// from the first event (not a sliding debounce, so a steady event stream cannot starve the
// flush). A batch's fetch (the inspects) starts as soon as its window closes, even while earlier
// batches are still fetching: one slow inspect of some other container must not hold back the
// next event by its whole duration. Results are applied strictly in batch order, so a batch that
// finished early waits for the ones before it, and the newest event's result is applied last.

export interface IdCoalescerOptions<T> {
  windowMs: number;
  /** Starts the work for a batch (may run alongside earlier batches' fetches). */
  fetch: (ids: string[]) => Promise<T>;
  /** Applies a batch's result; called in batch order, one at a time, after the earlier ones. */
  apply: (result: T) => void;
  /** Called if fetch rejects or apply throws; the coalescer itself never throws. */
  onError: (err: unknown) => void;
}

export class IdCoalescer<T> {
  private readonly opts: IdCoalescerOptions<T>;
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  /** Settles once every batch started so far has been applied (or failed); never rejects. */
  private tail: Promise<void> = Promise.resolve();
  private inFlight = 0;
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

  /** Batches fetched or waiting for their turn to apply. */
  get running(): number {
    return this.inFlight;
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
    while (this.inFlight > 0 || (this.timer && this.pending.size > 0)) {
      if (this.inFlight > 0) await this.tail;
      else await new Promise((r) => setTimeout(r, this.opts.windowMs));
    }
  }

  private run(): void {
    this.timer = undefined;
    if (this.closed || this.pending.size === 0) return;
    const ids = [...this.pending];
    this.pending = new Set();
    const fetched = (async () => this.opts.fetch(ids))(); // a synchronous throw becomes a rejection
    // Observed at once so a fetch that fails while an earlier batch still runs is not unhandled.
    const outcome = fetched.then((value) => ({ ok: true as const, value }), (err: unknown) => ({ ok: false as const, err }));
    const before = this.tail;
    this.inFlight++;
    this.tail = (async () => {
      const [, r] = await Promise.all([before, outcome]);
      try {
        if (r.ok) this.opts.apply(r.value);
        else this.opts.onError(r.err);
      } catch (err) {
        this.opts.onError(err);
      } finally {
        this.inFlight--;
      }
    })().catch(() => undefined); // onError itself threw: nothing left to tell
  }
}
