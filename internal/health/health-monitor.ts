// The single owner of member health (docs/health.md). Active probes with rise/fall, Docker
// HEALTHCHECK gating and passive ejection all fold into one precomputed boolean per member, so
// the balancer's per-pick `isUsable(id)` is a map lookup. This file keeps the membership (sync),
// the pools (a pool's last usable member is never ejected) and the passive timers, and reports
// transitions; member-entry.ts holds the rules that move one member's record, and
// probe-scheduler.ts decides when members are probed. Every state transition is synchronous.
import { silentLogger, type Logger } from '../../pkg/log/index.ts';
import type { MemberSpec } from '../routes/index.ts';
import { checkKey, MemberEntry, targetKey, type DockerHealth, type MemberHealthStatus } from './member-entry.ts';
import { DEFAULT_PASSIVE_POLICY, isMemberFailure, type PassiveOutcome, type PassivePolicy } from './passive-ejection.ts';
import { ProbeScheduler } from './probe-scheduler.ts';
import { defaultHealthyStatus, type HealthyStatus } from './probe.ts';

/** A pool as the route table sees it: health needs membership to never eject a pool's last member. */
export interface PoolMembers {
  name: string;
  members: MemberSpec[];
}

export interface HealthMonitorOptions {
  logger?: Logger;
  /** Extra gate checked before every scheduled probe; false skips it (e.g. the member is asleep). */
  shouldProbe?: (memberId: string) => boolean;
  /** Which HTTP statuses are healthy for members without their own `healthcheck.status`; default 200–399. */
  healthyStatus?: HealthyStatus;
  /** Passive ejection tuning; defaults in DEFAULT_PASSIVE_POLICY. */
  passive?: Partial<PassivePolicy>;
  /** Ceiling of the re-probe interval for starting and unhealthy members; default 2000 ms. */
  fastIntervalMs?: number;
  /** Clock for status times and the passive window; tests may inject one. */
  now?: () => number;
}

/** Listener for health/usability transitions. */
export type HealthChangeListener = (memberId: string, status: MemberHealthStatus, member: MemberSpec) => void;

/**
 * Health monitor for every member of the route table. Feed it the pools on every table change
 * (`sync`), Docker health events (`setDockerHealth`) and request outcomes (`report`); the
 * balancer asks `isUsable(id)`; the wake module calls `pause`/`resume` around sleep so a
 * sleeping container is never probed.
 */
export class HealthMonitor {
  readonly #entries = new Map<string, MemberEntry>();
  readonly #pools = new Map<string, string[]>();
  readonly #listeners = new Set<HealthChangeListener>();
  readonly #log: Logger;
  readonly #policy: PassivePolicy;
  readonly #now: () => number;
  readonly #probes: ProbeScheduler;
  #closed = false;
  #trials = 0;

  constructor(options: HealthMonitorOptions = {}) {
    this.#log = options.logger ?? silentLogger;
    this.#policy = { ...DEFAULT_PASSIVE_POLICY, ...options.passive };
    this.#now = options.now ?? Date.now;
    this.#probes = new ProbeScheduler({
      log: this.#log,
      healthyStatus: options.healthyStatus ?? defaultHealthyStatus,
      fastIntervalMs: options.fastIntervalMs ?? 2000,
      shouldProbe: options.shouldProbe,
      now: this.#now,
      isCurrent: (e) => this.#entries.get(e.id) === e,
      changed: (e) => this.#recompute(e),
    });
  }

  /**
   * Applies a new route table. New members are probed at once and are 'starting' until their
   * first success; members with the same id, url and check keep their state; a changed url starts
   * over as 'starting' (the old verdict was about another address); a changed check keeps the
   * state and re-probes at once; removed members are stopped and forgotten. A member listed in
   * several pools (several aliases) is one member; if its pools disagree on url or check, the
   * first listing wins and the conflict is logged.
   */
  sync(pools: readonly PoolMembers[]): void {
    if (this.#closed) return;
    const next = new Map<string, { spec: MemberSpec; pools: Set<string> }>();
    this.#pools.clear();
    for (const pool of pools) {
      const ids: string[] = [];
      for (const m of pool.members) {
        const seen = next.get(m.id);
        if (seen) {
          if (targetKey(seen.spec) !== targetKey(m) || checkKey(seen.spec) !== checkKey(m)) {
            this.#log.warn({ memberId: m.id, member: m.name, pool: pool.name, url: m.url, kept: seen.spec.url }, 'health: member listed twice with different url or healthcheck; the first listing is checked');
          }
          seen.pools.add(pool.name);
        } else {
          next.set(m.id, { spec: m, pools: new Set([pool.name]) });
        }
        if (!ids.includes(m.id)) ids.push(m.id);
      }
      this.#pools.set(pool.name, ids);
    }

    for (const [id, entry] of this.#entries) {
      if (!next.has(id)) this.#forget(entry);
    }

    for (const [id, { spec, pools: memberPools }] of next) {
      const entry = this.#entries.get(id);
      if (!entry) {
        this.#add(spec, memberPools);
        continue;
      }
      this.#update(entry, spec, memberPools);
    }
    // Membership changed: a pool may have lost its last usable member while another is ejected.
    for (const name of this.#pools.keys()) this.#rescuePool(name);
  }

  /** True when the balancer may pick this member. O(1); unknown members are not usable. */
  isUsable(memberId: string): boolean {
    return this.#entries.get(memberId)?.usable ?? false;
  }

  /** Health of one member for the admin API; undefined for unknown members. */
  status(memberId: string): MemberHealthStatus | undefined {
    const e = this.#entries.get(memberId);
    return e ? this.#status(e) : undefined;
  }

  /** "2/3 members healthy" (usable over listed) for a pool from the last sync. */
  poolSummary(poolName: string): string {
    const ids = this.#pools.get(poolName) ?? [];
    const usable = ids.filter((id) => this.isUsable(id)).length;
    return `${usable}/${ids.length} members healthy`;
  }

  /** Subscribes to health or usability transitions; returns the unsubscribe function. */
  onChange(listener: HealthChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Docker's HEALTHCHECK status from an event; 'starting' and 'unhealthy' keep the member out. */
  setDockerHealth(memberId: string, health: DockerHealth | undefined): void {
    const e = this.#entries.get(memberId);
    if (!e || e.dockerHealth === health) return;
    e.dockerHealth = health;
    this.#recompute(e);
  }

  /**
   * Outcome of a real request. Connection failures, timeouts and 502/503/504 count against the
   * member; enough of them inside the window eject it for a doubling cool-down, after which one
   * trial decides. The last usable member of a pool is never ejected. `trial` is what `attempt`
   * returned for this request: the trial's own outcome ends the trial (an older request's does
   * not), and a trial that fails on a member that can no longer be ejected leaves it usable.
   */
  report(memberId: string, outcome: PassiveOutcome, trial = 0): void {
    const e = this.#entries.get(memberId);
    if (!e || this.#closed) return;
    const endedTrial = e.endTrial(trial);
    if (isMemberFailure(outcome)) {
      const detail = outcome.error ?? (outcome.status !== undefined ? `HTTP ${outcome.status}` : 'failed');
      const wasHalfOpen = e.passive.phase === 'half-open';
      const ejected = e.passive.fail(this.#now(), detail, this.#canEject(e));
      if (ejected) {
        this.#armEjectTimer(e);
        this.#recompute(e);
        return;
      }
      if (wasHalfOpen || e.passive.recent.length >= this.#policy.failures) {
        this.#log.debug({ memberId, member: e.spec.name, detail }, 'health: not ejecting the last usable member of its pool');
      }
      if (endedTrial) this.#recompute(e);
    } else if (e.passive.succeed() || endedTrial) {
      this.#recompute(e);
    }
  }

  /**
   * A request is being sent to the member. A half-open member's first one is its trial: until
   * it answers (`report`), is abandoned (`abandon`) or `trialMs` passes, the member takes no other
   * requests, so one request, not every concurrent one, pays if it is still broken. Not when it
   * is the last usable member of a pool: then it takes everything, as before the ejection.
   * Returns the trial's token (pass it to `report`/`abandon`), or 0 when this is no trial.
   */
  attempt(memberId: string): number {
    const e = this.#entries.get(memberId);
    if (!e || !e.passive.awaitingTrial || !this.#canEject(e)) return 0;
    const token = ++this.#trials;
    e.passive.trialInFlight = true;
    e.trialToken = token;
    e.clearTrialTimer();
    e.trialTimer = setTimeout(() => {
      e.trialTimer = undefined;
      if (this.#entries.get(e.id) !== e || !e.endTrial(token)) return;
      this.#recompute(e);
    }, this.#policy.trialMs);
    e.trialTimer.unref();
    this.#recompute(e);
    return token;
  }

  /** The trial request ended without a verdict on the member (its client went away first). */
  abandon(memberId: string, trial: number): void {
    const e = this.#entries.get(memberId);
    if (e && e.endTrial(trial)) this.#recompute(e);
  }

  /** Stops probing a member (it is going to sleep); a probe in flight is discarded. State is kept. */
  pause(memberId: string): void {
    this.#probes.pause(memberId);
    const e = this.#entries.get(memberId);
    if (!e) return;
    this.#probes.cancel(e);
    this.#recompute(e);
  }

  /** Resumes probing (the member is awake again) with an immediate probe. */
  resume(memberId: string): void {
    if (!this.#probes.unpause(memberId)) return;
    const e = this.#entries.get(memberId);
    if (!e) return;
    this.#recompute(e);
    this.#probes.probeNowAndSchedule(e);
  }

  /**
   * The wake module confirmed that a woken member passes its health check: it takes traffic at
   * once (no wait for the next probe, no `starting` phase when discovery reports the restart a
   * moment later), probing resumes on its usual schedule, and passive history is cleared.
   */
  markReady(memberId: string): void {
    this.#probes.unpause(memberId);
    const e = this.#entries.get(memberId);
    if (!e || this.#closed) return;
    this.#probes.cancel(e); // a probe from the boot phase must not undo this
    e.markReady(this.#now(), this.#policy);
    this.#recompute(e);
    this.#probes.resumeOnSlot(e);
  }

  /**
   * Probes a member now, even while paused (the wake module asks when a woken container is
   * ready), applies the result and returns the new status. Shares a probe already in flight.
   */
  async probeNow(memberId: string): Promise<MemberHealthStatus | undefined> {
    const e = this.#entries.get(memberId);
    if (!e || this.#closed) return e ? this.#status(e) : undefined;
    if (e.spec.healthcheck.disable) return this.#status(e);
    await this.#probes.probeOnce(e);
    const now = this.#entries.get(memberId);
    return now ? this.#status(now) : undefined;
  }

  /** Stops every timer and probe; the monitor answers "not usable" for everything afterwards. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const e of this.#entries.values()) {
      this.#probes.cancel(e);
      e.clearTrialTimer();
      e.clearEjectTimer();
    }
    this.#entries.clear();
    this.#pools.clear();
    this.#listeners.clear();
    await this.#probes.close();
  }

  // ── membership ───────────────────────────────────────────────────────────────────────────

  #add(spec: MemberSpec, pools: Set<string>): void {
    const e = new MemberEntry(spec, pools, this.#policy);
    this.#entries.set(spec.id, e);
    e.derive(this.#closed);
    this.#log.debug({ memberId: e.id, member: spec.name, url: spec.url }, 'health: member added');
    this.#emit(e);
    this.#probes.probeNowAndSchedule(e);
  }

  #update(e: MemberEntry, spec: MemberSpec, pools: Set<string>): void {
    const { targetChanged, checkChanged, started } = e.update(spec, pools, this.#policy);
    this.#recompute(e);
    if (targetChanged || checkChanged || started) {
      this.#probes.cancel(e);
      this.#probes.probeNowAndSchedule(e);
    }
  }

  #forget(e: MemberEntry): void {
    this.#probes.forget(e);
    e.clearTrialTimer();
    e.clearEjectTimer();
    this.#entries.delete(e.id);
    this.#log.debug({ memberId: e.id, member: e.spec.name }, 'health: member removed');
  }

  // ── passive ejection ─────────────────────────────────────────────────────────────────────

  /** Ejecting `e` must leave every pool it belongs to with another usable member. */
  #canEject(e: MemberEntry): boolean {
    for (const pool of e.pools) {
      const others = (this.#pools.get(pool) ?? []).filter((id) => id !== e.id && this.isUsable(id));
      if (others.length === 0) return false;
    }
    return true;
  }

  #armEjectTimer(e: MemberEntry): void {
    if (e.ejectTimer) clearTimeout(e.ejectTimer);
    const until = e.passive.ejectedUntil ?? this.#now();
    e.ejectTimer = setTimeout(() => {
      e.ejectTimer = undefined;
      if (this.#entries.get(e.id) !== e) return;
      e.passive.expire();
      this.#recompute(e);
    }, Math.max(0, until - this.#now()));
    e.ejectTimer.unref();
  }

  /**
   * A pool with no usable member but an ejected one, or one held back by its trial: end that
   * ejection early (half-open) or let it take every request, so passive checks never empty a pool.
   */
  #rescuePool(pool: string): void {
    const ids = this.#pools.get(pool) ?? [];
    if (ids.some((id) => this.isUsable(id))) return;
    for (const id of ids) {
      const e = this.#entries.get(id);
      if (!e) continue;
      if (e.passive.trialInFlight) {
        e.endTrial(e.trialToken);
      } else if (e.passive.blocking) {
        e.passive.expire();
        e.clearEjectTimer();
      } else {
        continue;
      }
      this.#recompute(e);
      if (e.usable) return;
    }
  }

  // ── transitions ──────────────────────────────────────────────────────────────────────────

  /** Derives the member's health again and, when it changed, logs it once and tells the listeners. */
  #recompute(e: MemberEntry): void {
    const before = { health: e.health, usable: e.usable, blocking: e.passive.blocking };
    e.derive(this.#closed);
    if (before.health === e.health && before.usable === e.usable && before.blocking === e.passive.blocking) return;
    const fields = { memberId: e.id, member: e.spec.name, ...(e.spec.container ? { container: e.spec.container.name } : {}), from: before.health, to: e.health, reason: e.reason };
    if (e.health === 'unhealthy') this.#log.warn(fields, `health: ${e.spec.name} is unhealthy: ${e.reason}`);
    else if (e.health === 'healthy' && before.health !== 'healthy') this.#log.info(fields, `health: ${e.spec.name} is healthy`);
    else this.#log.debug(fields, `health: ${e.spec.name} is ${e.health}`);
    this.#emit(e);
    if (before.usable && !e.usable) for (const pool of e.pools) this.#rescuePool(pool);
  }

  #emit(e: MemberEntry): void {
    if (this.#listeners.size === 0) return;
    const status = this.#status(e);
    for (const listener of this.#listeners) {
      try {
        listener(e.id, status, e.spec);
      } catch (err) {
        this.#log.error({ memberId: e.id, err }, 'health: onChange listener threw');
      }
    }
  }

  #status(e: MemberEntry): MemberHealthStatus {
    return e.status(this.#now(), this.#probes.isPaused(e.id));
  }
}
