// One stream route's members: pkg/balance's Pool (round robin, least connections, IP hash on the
// client address) with health and wake as the usability check, and the way a connection gets a
// member: pick a usable one; none, but one sleeps → wake the one it would get and wait; none,
// but one is starting (a container that just came up) → wait a little for its first check.
import { Pool, type BalanceMember } from '../../pkg/balance/index.ts';
import type { MemberSpec, StreamRouteSpec } from '../routes/index.ts';

/** What streams need of health (internal/health's HealthMonitor fits). */
export interface StreamHealth {
  isUsable(memberId: string): boolean;
  /** Passive outcome of a connection attempt (connect refused, timed out, or fine). */
  report(memberId: string, outcome: { ok: boolean; error?: string | undefined }): void;
}

/** What streams need of wake (internal/wake's WakeManager fits): streams are one more requester of a wake. */
export interface StreamWake {
  isUsable(memberId: string): boolean;
  stateOf(memberId: string): string | undefined;
  /** Resolves when the member's container is ready, or with the failure; never rejects. */
  ensureAwake(memberId: string, signal?: AbortSignal): Promise<{ ok: boolean }>;
  /** An open connection or session keeps the container awake until released. */
  begin(memberId: string): (outcome?: unknown) => void;
  upstreamUrl(memberId: string, fallback: string): string;
}

interface StreamMember extends BalanceMember {
  spec: MemberSpec;
}

/** A member to connect to: its address now (after a wake Docker may have given it a new one). */
export interface StreamTarget {
  id: string;
  name: string;
  host: string;
  port: number;
}

/** Why no member: for the log. */
export type NoTarget = { reason: string };

const POLL_MS = 25;

function hostPort(url: string): { host: string; port: number } | undefined {
  try {
    const u = new URL(url);
    const port = Number(u.port);
    if (u.hostname === '' || !Number.isInteger(port) || port < 1) return undefined;
    return { host: u.hostname.replace(/^\[|\]$/g, ''), port };
  } catch {
    return undefined;
  }
}

export class StreamPool {
  spec: StreamRouteSpec;
  readonly pool: Pool<StreamMember>;
  readonly #health: StreamHealth;
  readonly #wake: StreamWake | undefined;
  readonly #holdMs: number;
  #byId = new Map<string, StreamMember>();
  #retired = false;

  constructor(spec: StreamRouteSpec, health: StreamHealth, wake: StreamWake | undefined, holdMs: number) {
    this.spec = spec;
    this.#health = health;
    this.#wake = wake;
    this.#holdMs = holdMs;
    this.pool = new Pool<StreamMember>({ name: spec.name, mode: spec.loadBalance.mode, usability: { isUsable: (id) => this.isUsable(id) } });
    this.update(spec);
  }

  update(spec: StreamRouteSpec): void {
    this.spec = spec;
    this.pool.configure({ mode: spec.loadBalance.mode });
    const members = spec.members.map((m) => ({ id: m.id, identity: m.identity, name: m.name, weight: m.weight, spec: m }));
    this.#byId = new Map(members.map((m) => [m.id, m]));
    this.pool.setMembers(members);
  }

  /** The route left the table: connections waiting for a member give up. */
  retire(): void {
    this.#retired = true;
  }

  #url(m: StreamMember): string {
    return this.#wake === undefined ? m.spec.url : this.#wake.upstreamUrl(m.id, m.spec.url);
  }

  isUsable(id: string): boolean {
    const m = this.#byId.get(id);
    if (m === undefined) return false;
    if (this.#wake !== undefined && !this.#wake.isUsable(id)) return false;
    if (this.#url(m) === '') return false;
    return this.#health.isUsable(id);
  }

  #target(m: StreamMember): StreamTarget | undefined {
    const hp = hostPort(this.#url(m));
    return hp === undefined ? undefined : { id: m.id, name: m.name, ...hp };
  }

  /** A usable member now, or undefined. */
  pick(clientIp: string, tried: ReadonlySet<string>): StreamTarget | undefined {
    const m = this.pool.pick({ clientIp }, tried);
    return m === undefined ? undefined : this.#target(m);
  }

  /**
   * A member for a new connection from `clientIp`, waking a sleeping one (the one this client
   * would get were all awake) or waiting a little for a starting one. Ends early when `signal`
   * aborts (the client left).
   */
  async acquire(clientIp: string, tried: ReadonlySet<string>, signal: AbortSignal): Promise<StreamTarget | NoTarget> {
    const now = this.pick(clientIp, tried);
    if (now !== undefined) return now;
    const wake = this.#wake;
    if (wake !== undefined) {
      const sleeping = (id: string): boolean => {
        const s = wake.stateOf(id);
        return s === 'asleep' || s === 'waking';
      };
      const candidates = this.spec.members.filter((m) => !tried.has(m.id) && sleeping(m.id));
      if (candidates.length > 0) {
        const ids = new Set(candidates.map((m) => m.id));
        const want = this.pool.pick({ clientIp, usability: { isUsable: (id) => ids.has(id) } }, tried);
        if (want !== undefined) {
          const outcome = await wake.ensureAwake(want.id, signal);
          if (signal.aborted) return { reason: 'the client left while the member woke' };
          if (!outcome.ok) return { reason: `waking ${want.name} failed` };
          // The wake passed readiness; health learns it through the reconciler (markReady).
          return (await this.#waitUsable(clientIp, tried, signal)) ?? { reason: `${want.name} woke but is not usable` };
        }
      }
    }
    if (!this.spec.members.some((m) => !tried.has(m.id) && this.#byId.has(m.id) && this.#url(this.#byId.get(m.id)!) !== '')) {
      return { reason: this.spec.members.length === 0 ? 'the route has no members' : 'no member has an address' };
    }
    return (await this.#waitUsable(clientIp, tried, signal)) ?? { reason: 'no member is healthy' };
  }

  /** Polls for a usable member for up to holdMs (a member whose first check is still to come). */
  #waitUsable(clientIp: string, tried: ReadonlySet<string>, signal: AbortSignal): Promise<StreamTarget | undefined> {
    const deadline = Date.now() + this.#holdMs;
    return new Promise((resolve) => {
      const tick = (): void => {
        const t = this.#retired || signal.aborted ? undefined : this.pick(clientIp, tried);
        if (t !== undefined || this.#retired || signal.aborted || Date.now() >= deadline) {
          resolve(t);
          return;
        }
        setTimeout(tick, POLL_MS).unref();
      };
      tick();
    });
  }

  /**
   * Marks a connection to `id` open: least-conn's counter and the wake module's activity.
   * Call the returned function once when it closes.
   */
  open(id: string): () => void {
    const release = this.pool.acquire(id);
    const wakeRelease = this.#wake?.begin(id);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      release();
      wakeRelease?.();
    };
  }

  report(id: string, ok: boolean, error?: string): void {
    this.#health.report(id, ok ? { ok } : { ok, error });
  }

  inFlight(id: string): number {
    return this.pool.inFlight(id);
  }
}
