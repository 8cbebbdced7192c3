// Upstream pipelining (docs/proxy.md, "Pipelining"): per member, up to CONNECTIONS extra
// connections on each of which several requests are written before their answers come back, so
// one upstream read carries many answers. It is Bellhop's choice, never the user's chore, and it
// is taken only when it is safe — this file is the rulebook; upstream-pools.ts owns the undici
// Clients behind it:
// - only idempotent bodiless requests (GET, HEAD), only on their first attempt (a retry always
//   takes a fresh, unpipelined connection);
// - only to a member that has proven keep-alive: KEEPALIVE_PROOF answers in a row without
//   `Connection: close`; a `close` (or a broken pipelined connection) switches the member off
//   for OFF_MS, unless the member's connections live long: every LIFETIME_ANSWERS keep-alive
//   answers earn one connection end that is forgiven (at most MAX_FORGIVEN saved up), so a
//   server's requests-per-connection limit (nginx keepalive_requests, 1000 by default; Apache
//   MaxKeepAliveRequests, 100) does not turn pipelining off for good; the requests written
//   behind such a close are retried like any broken pipeline's;
// - never behind a slow request: a request joins a connection only while the oldest request on
//   it has waited less than HOL_MS and fewer than DEPTH are on it; when no connection qualifies
//   it takes the ordinary pool (head-of-line blocking is bounded by HOL_MS for the few that
//   joined before);
// - and slow requests stay off it: a path whose GET took longer than SLOW_MS (a long poll, a
//   report, a download) is remembered (the last SLOW_PATHS of them) and not pipelined until it
//   answers within SLOW_MS again, so the requests that would have queued behind it do not wait
//   for it.
// - and when an answer turns out slow anyway (the first request to a slow path, a query that
//   makes a fast path slow, a download), the requests already queued behind it are taken off
//   after RESCUE_MS and sent again, each on a connection of its own (h1-pipeline.ts: their
//   answers on the pipelined connection are read and dropped); the member is not blamed.
// Which connection: the fullest one that still qualifies. Packing requests onto few connections
// is what makes one upstream read carry many answers (a request spread onto an empty connection
// pays a read of its own); a new connection opens only when the others are full or their head
// has waited too long. With CONNECTIONS × DEPTH above the concurrency a member sees, nearly every
// GET goes pipelined (one connection of depth 8 took at most 8 of 50 clients' requests, and the
// rest still paid one upstream read each: issue 18's bench).

/** Requests in flight on one pipelined connection at most. */
export const DEPTH = 16;
/** Pipelined connections per member at most. */
export const CONNECTIONS = 4;
/** A request does not queue behind one that has waited longer than this. */
export const HOL_MS = 10;
/** Answers in a row with keep-alive before a member is pipelined to. */
export const KEEPALIVE_PROOF = 3;
/** How long a member stays off the lane after a `Connection: close` or a broken pipeline. */
export const OFF_MS = 60_000;
/** Keep-alive answers that earn one forgiven connection end (close or broken pipeline). */
export const LIFETIME_ANSWERS = 32;
/** Forgiven connection ends saved up at most (connections opened together end together). */
export const MAX_FORGIVEN = 64;
/** A GET/HEAD slower than this marks its path as slow. */
export const SLOW_MS = 50;
/** Requests queued behind an answer that has taken this long are sent again on their own. */
export const RESCUE_MS = 250;
/** Slow paths remembered per member (the oldest is forgotten first). */
export const SLOW_PATHS = 256;

/** Join-time ring entries per connection: requests may leave out of order (an abort), which leaves gaps. */
const RING = 4 * DEPTH;

/**
 * The requests on one pipelined connection: join times in a ring, in join order, indexed by an
 * ever-growing position. Requests leave in any order (an abort, a failure); the head skips the
 * ones that left, so the oldest still on it is at the head. Joining and leaving allocate nothing.
 */
class ConnectionSlot {
  /** Join time per position (mod RING); NaN once that request left. */
  readonly #since = new Float64Array(RING).fill(NaN);
  /** Position of the oldest request still on it (== tail when none). */
  #head = 0;
  /** Position the next request gets. */
  tail = 0;
  count = 0;

  /** Room for one more: fewer than DEPTH on it, and the ring not wrapped by gaps. */
  hasRoom(): boolean {
    return this.count < DEPTH && this.tail - this.#head < RING;
  }

  /** Join time of the oldest request still on the connection (call only with count > 0). */
  oldest(): number {
    return this.#since[this.#head % RING]!;
  }

  /** Adds a request; returns its position. */
  add(now: number): number {
    const pos = this.tail++;
    this.#since[pos % RING] = now;
    this.count++;
    return pos;
  }

  /** False when the position is not (any more) on this connection. */
  remove(pos: number): boolean {
    const s = this.#since;
    if (pos < this.#head || pos >= this.tail || Number.isNaN(s[pos % RING]!)) return false;
    s[pos % RING] = NaN;
    this.count--;
    while (this.#head < this.tail && Number.isNaN(s[this.#head % RING]!)) this.#head++;
    return true;
  }
}

export class PipelineLane {
  #streak = 0;
  #offUntil = 0;
  /** Connection ends forgiven from now on, earned by keep-alive answers (1/LIFETIME_ANSWERS each). */
  #credit = 0;
  readonly #slots: ConnectionSlot[] = [];
  /** Per pipelined connection: positions below this were on a connection that already ended (one end, however many requests it took). */
  readonly #endedBelow: number[] = new Array<number>(CONNECTIONS).fill(0);
  #inflight = 0;
  /** Paths (query left out) seen slower than SLOW_MS, oldest first. */
  readonly #slow = new Set<string>();
  readonly #now: () => number;
  /** Told when pipelining to the member stops (it was on, and now is off for OFF_MS). */
  readonly #onOff: (() => void) | undefined;

  constructor(now: () => number = performance.now.bind(performance), onOff?: () => void) {
    this.#now = now;
    this.#onOff = onOff;
    for (let i = 0; i < CONNECTIONS; i++) this.#slots.push(new ConnectionSlot());
  }

  /**
   * The pipelined connection a request may join now, or -1: the member is not proven (or is
   * off), or no connection has room with a young enough head. The fullest that qualifies wins.
   */
  pick(): number {
    if (this.#streak < KEEPALIVE_PROOF) return -1;
    const now = this.#now();
    if (now < this.#offUntil) return -1;
    let best = -1;
    let bestCount = -1;
    let empty = -1;
    for (let i = 0; i < CONNECTIONS; i++) {
      const s = this.#slots[i]!;
      const n = s.count;
      if (n === 0) {
        if (empty === -1) empty = i;
        continue;
      }
      if (!s.hasRoom() || now - s.oldest() >= HOL_MS) continue;
      if (n > bestCount) {
        best = i;
        bestCount = n;
      }
    }
    return best !== -1 ? best : empty;
  }

  /** A request may join now (pick() would give a connection). */
  open(): boolean {
    return this.pick() !== -1;
  }

  /** Joins connection `slot` (from pick()); hand the ticket back to leave(). Tickets are > 0. */
  enter(slot = this.pick()): number {
    const pos = this.#slots[slot]!.add(this.#now());
    this.#inflight++;
    return 1 + slot + CONNECTIONS * pos;
  }

  /** The connection a ticket is on. */
  static slotOf(ticket: number): number {
    return (ticket - 1) % CONNECTIONS;
  }

  /** The request left the lane (answered, failed or aborted). `broken`: its connection broke. */
  leave(ticket: number, broken = false): void {
    const slot = (ticket - 1) % CONNECTIONS;
    const pos = (ticket - 1 - slot) / CONNECTIONS;
    if (this.#slots[slot]?.remove(pos) === true) this.#inflight--;
    if (broken) this.#connectionEnded(slot, pos);
  }

  /**
   * An answer from the member: keep-alive (true) or `Connection: close`. `ticket`: the answer
   * came on a pipelined connection (the requests behind it there end with it: one end).
   */
  answered(keepAlive: boolean, ticket = 0): void {
    if (keepAlive) {
      if (this.#streak < KEEPALIVE_PROOF) this.#streak++;
      if (this.#credit < MAX_FORGIVEN) this.#credit += 1 / LIFETIME_ANSWERS;
    } else if (ticket === 0) this.#ended();
    else {
      const slot = (ticket - 1) % CONNECTIONS;
      this.#connectionEnded(slot, (ticket - 1 - slot) / CONNECTIONS);
    }
  }

  /** Pipelined connection `slot` ended under the request at `pos`: counted once per connection. */
  #connectionEnded(slot: number, pos: number): void {
    if (pos < this.#endedBelow[slot]!) return;
    this.#endedBelow[slot] = this.#slots[slot]!.tail;
    this.#ended();
  }

  /** A connection of the member ended (close, broken): forgiven from the credit, else off. */
  #ended(): void {
    if (this.#credit >= 1) this.#credit -= 1;
    else this.off();
  }

  /** Stop pipelining to this member for a while; it has to prove keep-alive again. */
  off(): void {
    const now = this.#now();
    const wasOn = this.#streak >= KEEPALIVE_PROOF && now >= this.#offUntil;
    this.#streak = 0;
    this.#credit = 0;
    this.#offUntil = now + OFF_MS;
    if (wasOn) this.#onOff?.();
  }

  /** A path known to be slow takes the ordinary pool. */
  isSlow(path: string): boolean {
    return this.#slow.size > 0 && this.#slow.has(path);
  }

  /**
   * A GET/HEAD to `path` took `ms`: remember the path when that was slow, forget it when it was
   * fast again. A slow path's requests still take the ordinary pool and are still measured, so
   * a path that stays slow stays off the lane; one that was slow once (a busy moment, a cold
   * cache) is pipelined again after its next fast answer. Kept for good on the first slow
   * answer, a single hiccup of a busy machine ended pipelining to a fast path for good (seen in
   * issue 18's bench: every request to `/` took the pool after one took 50 ms).
   */
  took(path: string, ms: number): void {
    const slow = this.#slow;
    if (ms <= SLOW_MS) {
      if (slow.size > 0) slow.delete(path);
      return;
    }
    if (slow.has(path)) return;
    if (slow.size >= SLOW_PATHS) slow.delete(slow.values().next().value!);
    slow.add(path);
  }

  /** Requests on the pipelined connections. */
  get inFlight(): number {
    return this.#inflight;
  }

  /** Requests on one pipelined connection. */
  onConnection(slot: number): number {
    return this.#slots[slot]?.count ?? 0;
  }
}
