// One undici Pool per member origin, created on first use and reused: keep-alive connections
// survive route table swaps that keep the member. Beside it, up to CONNECTIONS pipelined
// Clients (one connection each) for the requests pipeline-lane.ts lets through.
// forgetOrigin() closes a departed member's connections: gracefully (in-flight requests
// finish), or at once when the member is dead.
import type { Socket } from 'node:net';
import { buildConnector, Client, Pool } from './lean-undici.ts';
import { H2cUpstream } from './h2c-upstream.ts';
import { CONNECTIONS, DEPTH, PipelineLane } from './pipeline-lane.ts';
import { MEMBER_GONE, PIPELINE_BROKEN } from './retry-policy.ts';

/**
 * One member origin: its ordinary pool (one request per connection at a time) and, each
 * created on first use, its pipelined connections with the lane that decides who may take them.
 */
export class Upstream {
  readonly pool: Pool;
  readonly lane = new PipelineLane();
  readonly #clients: (Client | undefined)[] = new Array<Client | undefined>(CONNECTIONS).fill(undefined);
  /** Each pipelined Client's current socket (set by its connector). */
  readonly #sockets: (Socket | undefined)[] = new Array<Socket | undefined>(CONNECTIONS).fill(undefined);
  readonly #makeClient: (onSocket: (s: Socket) => void) => Client;
  readonly #corker: WriteCorker;

  constructor(pool: Pool, makeClient: (onSocket: (s: Socket) => void) => Client, corker: WriteCorker) {
    this.pool = pool;
    this.#makeClient = makeClient;
    this.#corker = corker;
  }

  /**
   * Pipelined connection `slot` (a slot from lane.pick()), its socket corked until the end of
   * this event-loop turn: undici writes each request head with a write system call of its own,
   * and the requests that several client connections send in one turn go out in one (issue 18's
   * profile: a third of the busy time was those writes).
   */
  pipelined(slot: number): Client {
    let c = this.#clients[slot];
    if (c === undefined) {
      c = this.#clients[slot] = this.#makeClient((s) => {
        this.#sockets[slot] = s;
      });
      const client = c;
      client.on('disconnect', (_origin, _targets, err) => this.#broke(slot, client, err));
    } else {
      const s = this.#sockets[slot];
      if (s !== undefined) this.#corker.cork(s);
    }
    return c;
  }

  /**
   * The pipelined connection closed. An idle close or an abort of ours (undici's informational
   * errors) is nothing; anything else broke it with requests on it. undici fails only the head
   * of that pipeline and writes the others again, unasked, on a new connection to the same
   * member — a member that may just have died: its refused connect then reached a request that
   * had been sent, and the client got a 502 no retry rule allowed. So the Client goes, and
   * every request still on it fails at once with PIPELINE_BROKEN, to be retried by the same
   * rules as a reset on the ordinary pool (retry-policy.ts): another member, this one on a
   * fresh unpipelined connection, or after the route table settles. The next pipelined request
   * gets a new Client.
   */
  #broke(slot: number, client: Client, err: Error): void {
    if ((err as { code?: unknown }).code === 'UND_ERR_INFO') return;
    if (this.#clients[slot] === client) {
      this.#clients[slot] = undefined;
      this.#sockets[slot] = undefined;
    }
    client.destroy(new PipelineBrokenError(err)).catch(() => undefined);
  }

  dispatchers(): (Pool | Client)[] {
    const all: (Pool | Client)[] = [this.pool];
    for (const c of this.#clients) if (c !== undefined) all.push(c);
    return all;
  }
}

const kCorked = Symbol('bellhop.corked');
const kTouched = Symbol('bellhop.corkTouched');
type CorkableSocket = Socket & { [kCorked]?: boolean; [kTouched]?: boolean };

/**
 * Corks sockets so that what is written to one during an event-loop turn leaves in one writev,
 * uncorked in the check phase. A socket written to again since the last flush is corked again
 * right after it: undici writes to a connection that had gone idle (all answered) from an
 * immediate of its own (it first lets the poll phase see a close or stray bytes on it,
 * GHSA-35p6-xmwp-9g52), queued in the poll phase after our flush; uncorked by then, each of
 * those writes took a system call of its own (~2 % of the busy time under wrk, and one more
 * read for the member). Kept corked, they leave with the next turn's flush, together with what
 * that turn's poll phase brought. A socket left alone for a whole turn is uncorked for good.
 */
export class WriteCorker {
  readonly #corked: CorkableSocket[] = [];
  #scheduled = false;
  readonly #flush = (): void => {
    this.#scheduled = false;
    const all = this.#corked;
    let kept = 0;
    for (let i = 0; i < all.length; i++) {
      const s = all[i]!;
      s.uncork();
      if (s[kTouched] === true && !s.destroyed) {
        s[kTouched] = false;
        s.cork();
        all[kept++] = s;
      } else {
        s[kCorked] = false;
        s[kTouched] = false;
      }
    }
    all.length = kept;
    if (kept > 0) this.#schedule();
  };

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.#flush);
  }

  cork(socket: Socket): void {
    const s = socket as CorkableSocket;
    if (s.destroyed) return;
    s[kTouched] = true;
    if (s[kCorked] === true) return;
    s[kCorked] = true;
    s.cork();
    this.#corked.push(s);
    this.#schedule();
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

/** The pipelined connection a request was on or queued for broke before its answer. */
export class PipelineBrokenError extends Error {
  readonly code = PIPELINE_BROKEN;
  constructor(cause: Error) {
    super(`the pipelined connection broke: ${cause.message}`, { cause });
    this.name = 'PipelineBrokenError';
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
  readonly #corker = new WriteCorker();
  readonly #onError: (origin: string, err: unknown) => void;

  constructor(timeouts: UpstreamTimeouts, onError: (origin: string, err: unknown) => void) {
    this.#timeouts = timeouts;
    this.#onError = onError;
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
      u = new Upstream(pool, (onSocket) => {
        // undici's own connector, told which socket the pipelined Client got (for WriteCorker)
        const connector = buildConnector(options.connect);
        const c = new Client(origin, {
          ...options,
          connect: (o, cb) => connector(o, (...args) => {
            if (args[1] !== null) onSocket(args[1]);
            cb(...args);
          }),
          pipelining: DEPTH,
        });
        c.on('connectionError', (_o, _t, err) => this.#onError(origin, err));
        return c;
      }, this.#corker);
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
