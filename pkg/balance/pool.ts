// A load-balanced pool: members, their normalised weights, per-member in-flight counters and
// the selection state of its mode. All state transitions are synchronous (no await between
// reading and writing), and selectors never do I/O: usability comes in through a narrow
// interface that health/wake implement.
import { BalanceError } from './balance-error.ts';
import { pickLeastConn } from './least-conn.ts';
import { weightShares } from './normalise-weights.ts';
import { hashString, pickRendezvous } from './rendezvous-hash.ts';
import type { InFlightCounter, MemberEntry, MemberUsability, SelectionState } from './selection-state.ts';
import { buildSchedule, pickRoundRobin } from './smooth-round-robin.ts';
import { readStickyCookie, stickySetCookie } from './sticky-cookie.ts';
import { StickyCodec } from './sticky-token.ts';

/** Balancing modes (docs/balancing.md). Label spellings such as `round_robin` are mapped by the caller. */
export type BalanceMode = 'roundrobin' | 'leastconn' | 'iphash';

/** Every balancing mode. */
export const BALANCE_MODES: readonly BalanceMode[] = Object.freeze(['roundrobin', 'leastconn', 'iphash']);

/** What the pool needs from a member; callers may pass richer objects (e.g. MemberSpec). */
export interface BalanceMember {
  /** Unique key within the pool, e.g. the container ID. */
  readonly id: string;
  /** Stable across recreates (compose project/service/replica): used by iphash and sticky. */
  readonly identity: string;
  /** Display name; also breaks weight-rounding ties. */
  readonly name: string;
  /** Configured weight, if any; see `normaliseWeights`. */
  readonly weight?: number | undefined;
}

/** Sticky-cookie settings of a pool. */
export interface StickySettings {
  /** HMAC key, at least 16 bytes; keep it across restarts so cookies stay valid. */
  readonly secret: Uint8Array;
  /** `sticky_max_age` in ms; 0 = session cookie (token honoured for 24h, see docs). */
  readonly maxAgeMs: number;
}

/** Mode and sticky settings; can be changed without losing members or counters. */
export interface PoolSettings {
  readonly mode: BalanceMode;
  readonly sticky?: StickySettings | undefined;
}

/** Options of `new Pool()`. */
export interface PoolOptions<M extends BalanceMember> extends PoolSettings {
  /** Pool name (the route / load_balance.link); sticky tokens are bound to it. */
  readonly name: string;
  /** Which members may take new requests; default: all of them. */
  readonly usability?: MemberUsability | undefined;
  readonly members?: readonly M[] | undefined;
}

/** Per-pick input. Reuse one object when nothing changes: picks never keep or modify it. */
export interface PickContext {
  /** Real client IP (docs/client-ip.md), the key for iphash. Without it iphash falls back to roundrobin. */
  readonly clientIp?: string | undefined;
  /** Overrides the pool's usability for this pick, e.g. to choose a sleeping member to wake. */
  readonly usability?: MemberUsability | undefined;
}

/** Input of a sticky pick. */
export interface StickyPickContext extends PickContext {
  /** The raw Cookie request header. */
  readonly cookieHeader?: string | undefined;
  /** The client connection is TLS, or a trusted proxy said `X-Forwarded-Proto: https`. */
  readonly secure: boolean;
  /** Current time, ms since the epoch. */
  readonly now: number;
}

/** Result of a sticky pick. */
export interface StickyPick<M> {
  /** The chosen member, or undefined when nothing is usable. */
  readonly member: M | undefined;
  /** Full Set-Cookie header value to send with the response, when one is due. */
  readonly setCookie?: string | undefined;
}

/** Ends one acquisition; calling it again does nothing. */
export type Release = () => void;

/** One member as the admin API shows it. */
export interface PoolMemberStatus {
  readonly id: string;
  readonly name: string;
  readonly identity: string;
  readonly configuredWeight: number | undefined;
  readonly normalisedWeight: number;
  readonly inFlight: number;
}

/** Everything is usable: the default when no usability source is given. */
export const ALL_USABLE: MemberUsability = Object.freeze({ isUsable: (): boolean => true });

/** Server-side lifetime of a session-cookie token (sticky_max_age 0). */
export const SESSION_TOKEN_LIFETIME_MS = 24 * 60 * 60 * 1000;

// Tokens "issued" further in the future than this are not ours (or the clock jumped).
const FUTURE_SKEW_MS = 5 * 60 * 1000;
const EMPTY_CONTEXT: PickContext = Object.freeze({});
const NO_RELEASE: Release = () => {};

/**
 * A load-balanced pool of members. Picks are synchronous and cheap; `setMembers` replaces the
 * membership while keeping survivors' in-flight counters and the round-robin position.
 */
export class Pool<M extends BalanceMember = BalanceMember> {
  /** Pool name; sticky tokens of another pool are rejected. */
  readonly name: string;
  #mode: BalanceMode = 'roundrobin';
  #sticky: StickySettings | undefined;
  #codec: StickyCodec | undefined;
  #stickyLifetimeMs = 0;
  readonly #usability: MemberUsability;
  #members: readonly M[] = Object.freeze([]);
  readonly #state: SelectionState<M> = { entries: [], schedule: [], cursor: 0, epoch: 0, equalWeights: true };
  #byId = new Map<string, MemberEntry<M>>();
  #byStickyKey = new Map<string, MemberEntry<M>[]>();
  // In-flight counters by member id; a departed member's counter stays while requests are open.
  readonly #counters = new Map<string, InFlightCounter>();

  /** @throws BalanceError BALANCE_BAD_MODE, BALANCE_BAD_STICKY_SECRET, BALANCE_DUPLICATE_MEMBER */
  constructor(options: PoolOptions<M>) {
    this.name = options.name;
    this.#usability = options.usability ?? ALL_USABLE;
    this.configure(options);
    if (options.members !== undefined) this.setMembers(options.members);
  }

  /** Current mode. */
  get mode(): BalanceMode {
    return this.#mode;
  }

  /** Current sticky settings, if sticky. */
  get sticky(): StickySettings | undefined {
    return this.#sticky;
  }

  /** Current members, as given to `setMembers` (frozen copy). */
  get members(): readonly M[] {
    return this.#members;
  }

  /**
   * Changes mode and sticky settings, keeping members, counters and position.
   * @throws BalanceError BALANCE_BAD_MODE, BALANCE_BAD_STICKY_SECRET, BALANCE_BAD_STICKY_MAX_AGE
   */
  configure(settings: PoolSettings): void {
    if (!BALANCE_MODES.includes(settings.mode)) {
      throw new BalanceError('BALANCE_BAD_MODE', `unknown balance mode ${JSON.stringify(settings.mode)} for pool ${this.name}`);
    }
    const sticky = settings.sticky;
    let codec = this.#codec;
    if (sticky === undefined) {
      codec = undefined;
    } else {
      if (!Number.isFinite(sticky.maxAgeMs) || sticky.maxAgeMs < 0) {
        throw new BalanceError('BALANCE_BAD_STICKY_MAX_AGE', `sticky max age must be a duration >= 0, got ${sticky.maxAgeMs}`);
      }
      const previous = this.#sticky;
      if (codec === undefined || previous === undefined || !Buffer.from(previous.secret).equals(Buffer.from(sticky.secret))) {
        codec = new StickyCodec(sticky.secret, this.name);
      }
    }
    this.#mode = settings.mode;
    this.#sticky = sticky === undefined ? undefined : Object.freeze({ secret: Buffer.from(sticky.secret), maxAgeMs: sticky.maxAgeMs });
    this.#stickyLifetimeMs = sticky === undefined ? 0 : sticky.maxAgeMs > 0 ? sticky.maxAgeMs : SESSION_TOKEN_LIFETIME_MS;
    if (codec !== this.#codec) {
      this.#codec = codec;
      this.#indexStickyKeys();
    }
  }

  /**
   * Replaces the membership (call after any change). Weights are renormalised from the
   * configured ones; members that stay keep their in-flight counters, and round robin carries
   * on from where it was.
   * @throws BalanceError BALANCE_DUPLICATE_MEMBER when two members share an id
   */
  setMembers(members: readonly M[]): void {
    const seen = new Set<string>();
    for (const m of members) {
      if (seen.has(m.id)) throw new BalanceError('BALANCE_DUPLICATE_MEMBER', `pool ${this.name}: member id ${m.id} appears twice`);
      seen.add(m.id);
    }
    const shares = weightShares(members);
    const entries: MemberEntry<M>[] = members.map((member, i) => {
      let counter = this.#counters.get(member.id);
      if (counter === undefined) {
        counter = { count: 0, present: true };
        this.#counters.set(member.id, counter);
      }
      counter.present = true;
      const weight = shares.normalised[i]!;
      return {
        member,
        id: member.id,
        weight,
        selectionWeight: Math.max(1, weight),
        exactWeight: Math.max(shares.exact[i]!, Number.MIN_VALUE),
        identityHash: hashString(member.identity),
        stickyKey: '',
        inFlight: counter,
        mark: 0,
      };
    });
    for (const [id, counter] of this.#counters) {
      if (seen.has(id)) continue;
      counter.present = false;
      if (counter.count === 0) this.#counters.delete(id);
    }
    // Canonical order: the same membership gives the same cycle and tie-breaks whatever order
    // discovery listed it in.
    entries.sort((a, b) => compareText(a.member.name, b.member.name) || compareText(a.id, b.id));
    const state = this.#state;
    state.entries = entries;
    state.equalWeights = entries.every((e) => e.exactWeight === entries[0]!.exactWeight);
    state.schedule = buildSchedule(entries);
    state.cursor = state.schedule.length === 0 ? 0 : state.cursor % state.schedule.length;
    this.#byId = new Map(entries.map((e) => [e.id, e]));
    this.#members = Object.freeze(members.slice());
    this.#indexStickyKeys();
  }

  /**
   * The preferred usable member not in `exclude` (ids already tried), or undefined. Call again
   * with the failed member added to `exclude` to fail over. No allocation on this path.
   */
  pick(ctx: PickContext = EMPTY_CONTEXT, exclude?: ReadonlySet<string>): M | undefined {
    return this.#pickEntry(ctx, exclude)?.member;
  }

  /**
   * Sticky pick: the member named by a valid sticky cookie if it is usable and not excluded,
   * else a normal pick. `setCookie` is set when a fresh cookie is due: new visitor, bad, stale
   * or foreign token, member gone, or the token is older than half its lifetime. Without sticky
   * settings this is `pick` with no cookie. Never throws on any header content.
   */
  pickSticky(ctx: StickyPickContext, exclude?: ReadonlySet<string>): StickyPick<M> {
    const codec = this.#codec;
    if (codec === undefined) return { member: this.#pickEntry(ctx, exclude)?.member };
    const usability = ctx.usability ?? this.#usability;
    const claims = codec.decode(readStickyCookie(ctx.cookieHeader));
    if (claims !== undefined) {
      const age = ctx.now - claims.issuedAtMs;
      const lifetime = this.#stickyLifetimeMs;
      if (age <= lifetime && age >= -FUTURE_SKEW_MS) {
        const candidates = this.#byStickyKey.get(claims.memberKey);
        if (candidates !== undefined) {
          for (const entry of candidates) {
            if (exclude !== undefined && exclude.has(entry.id)) continue;
            if (!usability.isUsable(entry.id)) continue;
            if (age > lifetime / 2) return { member: entry.member, setCookie: this.#cookieFor(entry, ctx) };
            return { member: entry.member };
          }
        }
      }
    }
    const entry = this.#pickEntry(ctx, exclude);
    if (entry === undefined) return { member: undefined };
    return { member: entry.member, setCookie: this.#cookieFor(entry, ctx) };
  }

  /**
   * Counts one in-flight request (or open websocket) on a member until the returned function
   * is called. The release is idempotent: calling it on both error and close decrements once.
   * Unknown ids are not counted.
   */
  acquire(memberId: string): Release {
    const counter = this.#counters.get(memberId);
    if (counter === undefined || !counter.present) return NO_RELEASE;
    counter.count++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      counter.count--;
      if (counter.count === 0 && !counter.present && this.#counters.get(memberId) === counter) this.#counters.delete(memberId);
    };
  }

  /** Requests currently in flight on a member (0 for unknown ids). */
  inFlight(memberId: string): number {
    return this.#counters.get(memberId)?.count ?? 0;
  }

  /** A member's normalised weight (0..100), or undefined if it is not in the pool. */
  normalisedWeight(memberId: string): number | undefined {
    return this.#byId.get(memberId)?.weight;
  }

  /** Members with configured and normalised weights and in-flight counts, in input order. */
  describe(): PoolMemberStatus[] {
    return this.#members.map((m) => ({
      id: m.id,
      name: m.name,
      identity: m.identity,
      configuredWeight: m.weight,
      normalisedWeight: this.#byId.get(m.id)?.weight ?? 0,
      inFlight: this.inFlight(m.id),
    }));
  }

  #pickEntry(ctx: PickContext, exclude: ReadonlySet<string> | undefined): MemberEntry<M> | undefined {
    const usability = ctx.usability ?? this.#usability;
    switch (this.#mode) {
      case 'roundrobin':
        return pickRoundRobin(this.#state, usability, exclude);
      case 'leastconn':
        return pickLeastConn(this.#state, usability, exclude);
      case 'iphash': {
        const ip = ctx.clientIp;
        if (ip === undefined) return pickRoundRobin(this.#state, usability, exclude);
        return pickRendezvous(this.#state, hashString(ip), usability, exclude);
      }
    }
  }

  #cookieFor(entry: MemberEntry<M>, ctx: StickyPickContext): string {
    const second = Math.floor(ctx.now / 1000);
    const maxAgeMs = this.#sticky!.maxAgeMs;
    const c = entry.cookieCache;
    if (c !== undefined && c.second === second && c.secure === ctx.secure && c.maxAgeMs === maxAgeMs && c.stickyKey === entry.stickyKey) return c.value;
    const token = this.#codec!.encode(entry.stickyKey, ctx.now);
    const value = stickySetCookie(token, { maxAgeMs, secure: ctx.secure });
    entry.cookieCache = { second, secure: ctx.secure, maxAgeMs, stickyKey: entry.stickyKey, value };
    return value;
  }

  #indexStickyKeys(): void {
    const codec = this.#codec;
    const index = new Map<string, MemberEntry<M>[]>();
    for (const entry of this.#state.entries) {
      entry.stickyKey = codec === undefined ? '' : codec.memberKey(entry.member.identity);
      if (codec === undefined) continue;
      // Old and new container of a recreate share an identity: either may serve the token.
      const list = index.get(entry.stickyKey);
      if (list === undefined) index.set(entry.stickyKey, [entry]);
      else list.push(entry);
    }
    this.#byStickyKey = index;
  }
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
