// One undici Pool per member origin, created on first use and reused: keep-alive connections
// survive route table swaps that keep the member. forgetOrigin() closes a departed member's
// pool: gracefully (in-flight requests finish), or at once when the member is dead.
import { Pool } from 'undici';
import { MEMBER_GONE } from './retry-policy.ts';

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
  readonly #pools = new Map<string, Pool>();
  readonly #timeouts: UpstreamTimeouts;
  readonly #onError: (origin: string, err: unknown) => void;

  constructor(timeouts: UpstreamTimeouts, onError: (origin: string, err: unknown) => void) {
    this.#timeouts = timeouts;
    this.#onError = onError;
  }

  get(origin: string, noTlsVerify: boolean): Pool {
    let p = this.#pools.get(origin);
    if (p === undefined) {
      const t = this.#timeouts;
      p = new Pool(origin, {
        pipelining: 1,
        connect: noTlsVerify ? { timeout: t.connectMs, rejectUnauthorized: false } : { timeout: t.connectMs },
        headersTimeout: t.responseMs,
        bodyTimeout: t.bodyIdleMs,
        // Upstream keep-alive: follow the upstream's Keep-Alive hint, else 4 s idle (below
        // Node's and nginx's server defaults so we close first and avoid the reuse race).
        keepAliveTimeout: 4_000,
        keepAliveMaxTimeout: 600_000,
      });
      p.on('connectionError', (_o, _t, err) => this.#onError(origin, err));
      this.#pools.set(origin, p);
    }
    return p;
  }

  /**
   * Close the pool for an origin that left every route. By default in-flight requests finish
   * first. `abort`: the member is dead (its container stopped or went away), so nothing on this
   * pool can finish: a connect to its old bridge address gets no answer at all (the veth is
   * gone, so no RST) and would hang until the connect timeout. Every request on it fails at once
   * with MEMBER_GONE instead, and the proxy routes it again.
   */
  forgetOrigin(origin: string, abort = false): void {
    const p = this.#pools.get(origin);
    if (p === undefined) return;
    this.#pools.delete(origin);
    const closing = abort ? p.destroy(new MemberGoneError(origin)) : p.close();
    closing.catch((err: unknown) => this.#onError(origin, err));
  }

  /** Origins with a live pool (for tests and the admin API). */
  origins(): string[] {
    return [...this.#pools.keys()];
  }

  async closeAll(): Promise<void> {
    const all = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.allSettled(all.map((p) => p.destroy()));
  }
}
