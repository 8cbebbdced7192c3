// Requests per route over the last 15 minutes, for the dashboard's chart: one Map of counts per
// 10 s bucket, 90 buckets in a ring. The hot path (every answered request) is one Map update;
// a timer closes the bucket every 10 s.

export const RATE_BUCKET_MS = 10_000;
export const RATE_BUCKETS = 90; // 15 minutes
const OPEN_BUCKET_MIN_MS = 3000;

/** Requests per second by route, oldest bucket first; `at` is each bucket's start (ms). */
export interface RateSeries {
  bucketMs: number;
  at: number[];
  routes: Record<string, number[]>;
}

export class RequestRates {
  private current = new Map<string, number>();
  private currentStart: number;
  private readonly closed: { start: number; counts: Map<string, number> }[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => number;

  constructor(opts: { now?: () => number; autoRotate?: boolean } = {}) {
    this.now = opts.now ?? Date.now;
    this.currentStart = this.now();
    this.timer = setInterval(() => this.rotate(), RATE_BUCKET_MS);
    this.timer.unref();
    if (opts.autoRotate === false) clearInterval(this.timer);
  }

  /** One answered request on `route` (the proxy's onRequestDone). */
  count(route: string): void {
    this.current.set(route, (this.current.get(route) ?? 0) + 1);
  }

  /** Closes the current bucket and starts the next. */
  rotate(): void {
    this.closed.push({ start: this.currentStart, counts: this.current });
    if (this.closed.length > RATE_BUCKETS - 1) this.closed.shift();
    this.current = new Map();
    this.currentStart = this.now();
  }

  /**
   * The closed buckets and the open one (its rate over the time it has been open, once that is
   * 3 s or more), per route.
   * Routes with no request in the window are left out.
   */
  series(): RateSeries {
    const now = this.now();
    const buckets = this.closed.map((b, i) => ({ ...b, ms: (this.closed[i + 1]?.start ?? this.currentStart) - b.start }));
    // The open bucket only once it has run long enough for its rate to mean something.
    if (now - this.currentStart >= OPEN_BUCKET_MIN_MS || buckets.length === 0) buckets.push({ start: this.currentStart, counts: this.current, ms: now - this.currentStart });
    const routes: Record<string, number[]> = {};
    buckets.forEach((b, i) => {
      for (const [route, n] of b.counts) {
        const row = (routes[route] ??= new Array<number>(buckets.length).fill(0));
        row[i] = Math.round((n / Math.max(1000, b.ms)) * 1000 * 100) / 100;
      }
    });
    return { bucketMs: RATE_BUCKET_MS, at: buckets.map((b) => b.start), routes };
  }

  close(): void {
    clearInterval(this.timer);
  }
}
