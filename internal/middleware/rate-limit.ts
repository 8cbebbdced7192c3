// rate_limit: a token bucket per real client IP. `average` requests per `periods` (default 1s)
// refill it, `burst` is its size. Over the limit: 429 with Retry-After (whole seconds until one
// token is back). Memory is bounded: buckets that have refilled completely say nothing a new
// bucket would not, so they are dropped when seen idle, and the map never exceeds MAX_BUCKETS
// (the least recently used go first; Map keeps insertion order and a hit re-inserts).
import type { MiddlewareDeps, MiddlewareFactory } from './middleware.ts';
import { sendMiddlewareError } from './middleware-errors.ts';
import { OptionProblems, readDuration, readInt } from './option-values.ts';

/** Upper bound on tracked clients per rate_limit middleware (about 100 bytes each). */
export const MAX_BUCKETS = 100_000;

interface Bucket {
  tokens: number;
  at: number;
}

/** The limiter itself, separate from HTTP so it can be tested with a fake clock. */
export class TokenBuckets {
  readonly #rate: number; // tokens per ms
  readonly #burst: number;
  readonly #max: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();
  #lastSweep = 0;

  constructor(average: number, periodMs: number, burst: number, now: () => number, max = MAX_BUCKETS) {
    this.#rate = average / periodMs;
    this.#burst = burst;
    this.#now = now;
    this.#max = max;
  }

  get size(): number {
    return this.#buckets.size;
  }

  /** 0 when `key` may go on (one token taken), else milliseconds until a token is back. */
  take(key: string): number {
    const now = this.#now();
    this.#sweep(now);
    const b = this.#buckets.get(key);
    let tokens = this.#burst;
    if (b !== undefined) {
      tokens = Math.min(this.#burst, b.tokens + Math.max(0, now - b.at) * this.#rate);
      this.#buckets.delete(key); // re-inserted below: most recently used last
    }
    if (tokens >= 1) {
      this.#set(key, { tokens: tokens - 1, at: now });
      return 0;
    }
    this.#set(key, { tokens, at: now });
    return Math.max(1, Math.ceil((1 - tokens) / this.#rate));
  }

  #set(key: string, b: Bucket): void {
    this.#buckets.set(key, b);
    if (this.#buckets.size > this.#max) {
      const oldest = this.#buckets.keys().next();
      if (oldest.done !== true) this.#buckets.delete(oldest.value);
    }
  }

  /** Drops buckets full again (idle long enough); at most once per refill time of a whole bucket. */
  #sweep(now: number): void {
    const fullAfter = this.#burst / this.#rate;
    if (now - this.#lastSweep < fullAfter) return;
    this.#lastSweep = now;
    for (const [k, b] of this.#buckets) {
      if (now - b.at < fullAfter) break; // LRU order: the rest were used more recently
      this.#buckets.delete(k);
    }
  }

  clear(): void {
    this.#buckets.clear();
  }
}

export const rateLimit: MiddlewareFactory = {
  name: 'rate_limit',
  // GoDoxy's docs write `periods`, its web UI's schema `period`: both are read
  options: ['average', 'burst', 'periods', 'period'],
  restrictsAccess: true,
  create(spec, deps: MiddlewareDeps) {
    const p = new OptionProblems(spec);
    const o = spec.options;
    const average = o.average === undefined ? (p.missing('average', 'requests allowed per period, e.g. 10'), undefined) : p.take('average', readInt(o.average, 1, 1_000_000));
    const burst = o.burst === undefined ? average : p.take('burst', readInt(o.burst, 1, 1_000_000));
    if (o.periods !== undefined && o.period !== undefined) p.bad('period', 'periods and period are one option; keep one');
    const periodName = o.periods === undefined ? 'period' : 'periods';
    const periodValue = o.periods ?? o.period;
    const period = periodValue === undefined ? 1000 : p.take(periodName, readDuration(periodValue));
    if (p.list.length > 0 || average === undefined || burst === undefined || period === undefined) return p.list;
    const buckets = new TokenBuckets(average, period, burst, () => deps.now());
    return {
      name: 'rate_limit',
      handle(_req, res, facts) {
        const wait = buckets.take(facts.clientIp);
        if (wait === 0) return 'continue';
        sendMiddlewareError(res, 'MIDDLEWARE_RATE_LIMITED', { retryAfterSec: Math.ceil(wait / 1000) });
        return 'answered';
      },
      close() {
        buckets.clear();
      },
    };
  },
};
