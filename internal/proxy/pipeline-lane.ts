// Upstream pipelining (docs/proxy.md, "Pipelining"): per member, one extra connection on which
// several requests are written before their answers come back, so one upstream read carries
// many answers. It is Bellhop's choice, never the user's chore, and it is taken only when it is
// safe — this file is the rulebook; upstream-pools.ts owns the undici Client behind it:
// - only idempotent bodiless requests (GET, HEAD), only on their first attempt (a retry always
//   takes a fresh, unpipelined connection);
// - only to a member that has proven keep-alive: KEEPALIVE_PROOF answers in a row without
//   `Connection: close`; one `close` (or a broken pipelined connection) switches the member
//   off for OFF_MS;
// - never behind a slow request: a request joins only while the oldest one in the lane has
//   waited less than HOL_MS and fewer than DEPTH are in it; otherwise it takes the ordinary pool
//   (head-of-line blocking is bounded by HOL_MS for the few that joined before);
// - and slow requests stay off it: a path whose GET once took longer than SLOW_MS (a long poll,
//   a report, a download) is remembered (the last SLOW_PATHS of them) and never pipelined, so
//   the requests that would have queued behind it do not wait for it.

/** Requests in flight on the pipelined connection at most. */
export const DEPTH = 8;
/** A request does not queue behind one that has waited longer than this. */
export const HOL_MS = 10;
/** Answers in a row with keep-alive before a member is pipelined to. */
export const KEEPALIVE_PROOF = 3;
/** How long a member stays off the lane after a `Connection: close` or a broken pipeline. */
export const OFF_MS = 60_000;
/** A GET/HEAD slower than this marks its path as slow. */
export const SLOW_MS = 50;
/** Slow paths remembered per member (the oldest is forgotten first). */
export const SLOW_PATHS = 256;

export class PipelineLane {
  #streak = 0;
  #offUntil = 0;
  #next = 1;
  /** ticket → time it joined; Map order is join order, so the first entry is the oldest. */
  readonly #inflight = new Map<number, number>();
  /** Paths (query left out) seen slower than SLOW_MS, oldest first. */
  readonly #slow = new Set<string>();
  readonly #now: () => number;

  constructor(now: () => number = performance.now.bind(performance)) {
    this.#now = now;
  }

  /** A request may join now (proven member, room, and nothing slow at the head). */
  open(): boolean {
    if (this.#streak < KEEPALIVE_PROOF) return false;
    const now = this.#now();
    if (now < this.#offUntil) return false;
    const n = this.#inflight.size;
    if (n === 0) return true;
    if (n >= DEPTH) return false;
    for (const since of this.#inflight.values()) return now - since < HOL_MS;
    return true;
  }

  /** Joins the lane; hand the ticket back to leave(). */
  enter(): number {
    const t = this.#next++;
    this.#inflight.set(t, this.#now());
    return t;
  }

  /** The request left the lane (answered, failed or aborted). `broken`: its connection broke. */
  leave(ticket: number, broken = false): void {
    this.#inflight.delete(ticket);
    if (broken) this.off();
  }

  /** An answer from the member on any connection: keep-alive (true) or `Connection: close`. */
  answered(keepAlive: boolean): void {
    if (keepAlive) {
      if (this.#streak < KEEPALIVE_PROOF) this.#streak++;
    } else this.off();
  }

  /** Stop pipelining to this member for a while; it has to prove keep-alive again. */
  off(): void {
    this.#streak = 0;
    this.#offUntil = this.#now() + OFF_MS;
  }

  /** A path known to be slow takes the ordinary pool. */
  isSlow(path: string): boolean {
    return this.#slow.size > 0 && this.#slow.has(path);
  }

  /** A GET/HEAD to `path` took `ms`: remember the path when that was slow. */
  took(path: string, ms: number): void {
    if (ms <= SLOW_MS || this.#slow.has(path)) return;
    if (this.#slow.size >= SLOW_PATHS) this.#slow.delete(this.#slow.values().next().value!);
    this.#slow.add(path);
  }

  get inFlight(): number {
    return this.#inflight.size;
  }
}
