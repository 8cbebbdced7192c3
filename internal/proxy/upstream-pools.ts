// One undici Pool per member origin, created on first use and reused: keep-alive connections
// survive route table swaps that keep the member. Beside it, up to CONNECTIONS pipelined
// connections (h1-pipeline.ts) for the requests pipeline-lane.ts lets through.
// forgetOrigin() closes a departed member's connections: gracefully (in-flight requests
// finish), or at once when the member is dead.
import { Pool } from './lean-undici.ts';
import { H2cUpstream } from './h2c-upstream.ts';
import { PipelinedConnection } from './h1-pipeline.ts';
import { CONNECTIONS, PipelineLane } from './pipeline-lane.ts';
import { MEMBER_GONE } from './retry-policy.ts';

/**
 * One member origin: its ordinary pool (one request per connection at a time) and, each
 * created on first use, its pipelined connections with the lane that decides who may take them.
 */
export class Upstream {
  readonly pool: Pool;
  readonly lane: PipelineLane;
  readonly #connections: (PipelinedConnection | undefined)[] = new Array<PipelinedConnection | undefined>(CONNECTIONS).fill(undefined);
  readonly #makeConnection: (onEnd: (c: PipelinedConnection, err: Error | undefined) => void) => PipelinedConnection;

  constructor(pool: Pool, makeConnection: (onEnd: (c: PipelinedConnection, err: Error | undefined) => void) => PipelinedConnection, onLaneOff?: () => void) {
    this.pool = pool;
    this.lane = new PipelineLane(undefined, onLaneOff);
    this.#makeConnection = makeConnection;
  }

  /**
   * Pipelined connection `slot` (a slot from lane.pick()). One that ended (closed by the
   * member, broken: every request on it failed with PIPELINE_BROKEN for the retry rules) is
   * replaced by a new one.
   */
  pipelined(slot: number): PipelinedConnection {
    let c = this.#connections[slot];
    if (c === undefined || !c.usable) {
      c = this.#connections[slot] = this.#makeConnection((ended) => {
        if (this.#connections[slot] === ended) this.#connections[slot] = undefined;
      });
    }
    return c;
  }

  dispatchers(): (Pool | PipelinedConnection)[] {
    const all: (Pool | PipelinedConnection)[] = [this.pool];
    for (const c of this.#connections) if (c !== undefined) all.push(c);
    return all;
  }
}

/** The member behind an origin is gone: every request still on its pool is aborted with this. */
export class MemberGoneError extends Error {
  readonly code = MEMBER_GONE;
  constructor(origin: string) {
    super(`the member at ${origin} left its route`);
    this.name = 'MemberGoneError';
  }
}

/** Upstream timeouts applied to every pool. */
export interface UpstreamTimeouts {
  connectMs: number;
  /** Time to the upstream's response headers. */
  responseMs: number;
  /** No-progress limit on the upstream response body. */
  bodyIdleMs: number;
}

export class UpstreamPools {
  readonly #upstreams = new Map<string, Upstream>();
  /** h2c members apart: an HTTP/1.1 member and an h2c one on the same origin share nothing. */
  readonly #h2c = new Map<string, H2cUpstream>();
  readonly #timeouts: UpstreamTimeouts;
  readonly #onError: (origin: string, err: unknown) => void;
  readonly #onLaneOff: ((origin: string) => void) | undefined;

  /** `onLaneOff`: pipelining to a member stopped for a while (pipeline-lane.ts, OFF_MS). */
  constructor(timeouts: UpstreamTimeouts, onError: (origin: string, err: unknown) => void, onLaneOff?: (origin: string) => void) {
    this.#timeouts = timeouts;
    this.#onError = onError;
    this.#onLaneOff = onLaneOff;
  }

  get(origin: string, noTlsVerify: boolean): Upstream {
    let u = this.#upstreams.get(origin);
    if (u === undefined) {
      const t = this.#timeouts;
      const options = {
        connect: noTlsVerify ? { timeout: t.connectMs, rejectUnauthorized: false } : { timeout: t.connectMs },
        headersTimeout: t.responseMs,
        bodyTimeout: t.bodyIdleMs,
        // Upstream keep-alive: follow the upstream's Keep-Alive hint, else 4 s idle (below
        // Node's and nginx's server defaults so we close first and avoid the reuse race).
        keepAliveTimeout: 4_000,
        keepAliveMaxTimeout: 600_000,
      };
      const pool = new Pool(origin, { ...options, pipelining: 1 });
      pool.on('connectionError', (_o, _t, err) => this.#onError(origin, err));
      const lane = { connectMs: t.connectMs, responseMs: t.responseMs, bodyIdleMs: t.bodyIdleMs, idleMs: options.keepAliveTimeout };
      u = new Upstream(pool, (onEnd) => new PipelinedConnection(origin, noTlsVerify ? { rejectUnauthorized: false } : undefined, lane, (c, err) => {
        if (err !== undefined) this.#onError(origin, err);
        onEnd(c, err);
      }), () => this.#onLaneOff?.(origin));
      this.#upstreams.set(origin, u);
    }
    return u;
  }

  /** The h2c connections of a member origin (`scheme: h2c`), created on first use. */
  h2c(origin: string): H2cUpstream {
    let u = this.#h2c.get(origin);
    if (u === undefined) {
      u = new H2cUpstream(origin, this.#timeouts, (err) => this.#onError(origin, err));
      this.#h2c.set(origin, u);
    }
    return u;
  }

  /**
   * Close the pool for an origin that left every route. By default in-flight requests finish
   * first. `abort`: the member is dead (its container stopped or went away), so nothing on this
   * pool can finish: a connect to its old bridge address gets no answer at all (the veth is
   * gone, so no RST) and would hang until the connect timeout. Every request on it fails at once
   * with MEMBER_GONE instead, and the proxy routes it again.
   */
  forgetOrigin(origin: string, abort = false): void {
    const h = this.#h2c.get(origin);
    if (h !== undefined) {
      this.#h2c.delete(origin);
      const closing = abort ? h.destroy(new MemberGoneError(origin)) : h.close();
      closing.catch((err: unknown) => this.#onError(origin, err));
    }
    const u = this.#upstreams.get(origin);
    if (u === undefined) return;
    this.#upstreams.delete(origin);
    for (const d of u.dispatchers()) {
      const closing = abort ? d.destroy(new MemberGoneError(origin)) : d.close();
      closing.catch((err: unknown) => this.#onError(origin, err));
    }
  }

  /** Origins with a live pool (for tests and the admin API). */
  origins(): string[] {
    return [...new Set([...this.#upstreams.keys(), ...this.#h2c.keys()])];
  }

  async closeAll(): Promise<void> {
    const all: Array<{ destroy(): Promise<void> }> = [...this.#upstreams.values()].flatMap((u) => u.dispatchers());
    all.push(...this.#h2c.values());
    this.#upstreams.clear();
    this.#h2c.clear();
    await Promise.allSettled(all.map((d) => d.destroy()));
  }
}
