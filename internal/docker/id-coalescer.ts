// Collects container IDs from an event burst and hands them over in one batch: a fixed window
// from the first event (not a sliding debounce, so a steady event stream cannot starve the
// flush), and never two flushes at once, so results apply in order.

export interface IdCoalescerOptions {
  windowMs: number;
  flush: (ids: string[]) => Promise<void>;
  /** Called if flush rejects; the coalescer itself never throws. */
  onError: (err: unknown) => void;
}

export class IdCoalescer {
  private readonly opts: IdCoalescerOptions;
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(opts: IdCoalescerOptions) {
    this.opts = opts;
  }

  /** Queues an ID for the next batch. */
  add(id: string): void {
    if (this.closed) return;
    this.pending.add(id);
    this.schedule();
  }

  get size(): number {
    return this.pending.size;
  }

  /** Drops everything queued and stops; a running flush finishes but nothing new starts. */
  close(): void {
    this.closed = true;
    this.pending.clear();
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Resolves once nothing is queued or running (for tests and orderly shutdown). */
  async idle(): Promise<void> {
    while (this.running || (this.timer && this.pending.size > 0)) {
      if (this.running) await this.running;
      else await new Promise((r) => setTimeout(r, this.opts.windowMs));
    }
  }

  private schedule(): void {
    if (this.timer || this.running) return;
    this.timer = setTimeout(() => this.run(), this.opts.windowMs);
  }

  private run(): void {
    this.timer = undefined;
    if (this.closed || this.pending.size === 0) return;
    const ids = [...this.pending];
    this.pending = new Set();
    this.running = this.opts
      .flush(ids)
      .catch((err: unknown) => this.opts.onError(err))
      .finally(() => {
        this.running = undefined;
        if (!this.closed && this.pending.size > 0) this.schedule();
      });
  }
}
