// The single owner of member health (SPEC 8). Active probes with rise/fall, Docker HEALTHCHECK
// gating and passive ejection all fold into one precomputed boolean per member, so the
// balancer's per-pick `isUsable(id)` is a map lookup. Every state transition is synchronous:
// probe results are applied in one step after the await, guarded by a generation counter so a
// result from before a reload, url change or pause is dropped instead of overwriting newer state.
import type { MemberSpec } from '../routes/route-spec.ts';
import { formatDuration } from './format-duration.ts';
import { jitterFraction } from './jitter.ts';
import { DEFAULT_PASSIVE_POLICY, isMemberFailure, PassiveState, type PassiveOutcome, type PassivePolicy } from './passive-ejection.ts';
import { defaultHealthyStatus, Prober, type HealthyStatus, type ProbeResult } from './probe.ts';

/** Health as shown by the admin API. Only 'healthy' members take traffic. */
export type HealthState = 'starting' | 'healthy' | 'unhealthy';

/** Docker's own HEALTHCHECK status; undefined when the image has none. */
export type DockerHealth = 'starting' | 'healthy' | 'unhealthy';

/** A pool as the route table sees it: health needs membership to never eject a pool's last member. */
export interface PoolMembers {
  name: string;
  members: MemberSpec[];
}

/** One member's health, JSON-serialisable, for the admin API, logs and metrics. */
export interface MemberHealthStatus {
  health: HealthState;
  /** true when the balancer may pick the member (health 'healthy', half-open included) */
  usable: boolean;
  /** e.g. 'HTTP 500 from /health', 'connect ECONNREFUSED', 'timeout after 5s', 'docker: unhealthy' */
  reason: string;
  /** ISO time of the last completed active probe */
  lastCheck: string | null;
  latencyMs: number | null;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  /** ISO time a passive ejection ends, while ejected */
  ejectedUntil?: string;
  /** true while the wake module has paused probing (member asleep) */
  paused: boolean;
}

/** pino-compatible: object first, message second. */
export interface HealthLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const silentLogger: HealthLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

export interface HealthMonitorOptions {
  logger?: HealthLogger;
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

interface Entry {
  id: string;
  spec: MemberSpec;
  /** identity of the address + check: a change means the old verdict no longer applies */
  targetKey: string;
  checkKey: string;
  pools: Set<string>;
  active: HealthState;
  activeReason: string;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  lastCheck: number | null;
  latencyMs: number | null;
  dockerHealth: DockerHealth | undefined;
  specDockerHealth: string | undefined;
  containerState: string;
  passive: PassiveState;
  timer: NodeJS.Timeout | undefined;
  ejectTimer: NodeJS.Timeout | undefined;
  trialTimer: NodeJS.Timeout | undefined;
  /** token of the trial in flight (0: none); only that request's outcome ends the trial */
  trialToken: number;
  generation: number;
  inflight: Promise<void> | undefined;
  probedOnce: boolean;
  /** performance.now() when the next scheduled probe is due (readiness probes come in between) */
  dueAt: number;
  /** readiness probes since the member became 'starting' (their delay doubles) */
  readinessProbes: number;
  // derived, recomputed synchronously after every change
  health: HealthState;
  reason: string;
  usable: boolean;
}

const DOCKER_HEALTH = new Set(['starting', 'healthy', 'unhealthy']);

/**
 * A starting member whose probe failed is probed again after this, doubling (20, 40, 80 ms …),
 * in between its scheduled probes. Its first probe usually races the process inside the
 * container, which starts listening a few ms after Docker reports the start; without these the
 * next try waited for the member's jittered slot, 0–2 s later (issue 11).
 */
const READINESS_FIRST_MS = 20;

/**
 * Health monitor for every member of the route table. Feed it the pools on every table change
 * (`sync`), Docker health events (`setDockerHealth`) and request outcomes (`report`); the
 * balancer asks `isUsable(id)`; the wake module calls `pause`/`resume` around sleep so a
 * sleeping container is never probed.
 */
export class HealthMonitor {
  readonly #entries = new Map<string, Entry>();
  readonly #pools = new Map<string, string[]>();
  readonly #pausedIds = new Set<string>();
  readonly #listeners = new Set<HealthChangeListener>();
  readonly #log: HealthLogger;
  readonly #shouldProbe: ((id: string) => boolean) | undefined;
  readonly #policy: PassivePolicy;
  readonly #fastIntervalMs: number;
  readonly #now: () => number;
  readonly #prober: Prober;
  #closed = false;
  #trials = 0;

  constructor(options: HealthMonitorOptions = {}) {
    this.#log = options.logger ?? silentLogger;
    this.#shouldProbe = options.shouldProbe;
    this.#policy = { ...DEFAULT_PASSIVE_POLICY, ...options.passive };
    this.#fastIntervalMs = options.fastIntervalMs ?? 2000;
    this.#now = options.now ?? Date.now;
    this.#prober = new Prober(options.healthyStatus ?? defaultHealthyStatus);
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
    const endedTrial = this.#endTrial(e, trial);
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
    this.#clearTrialTimer(e);
    e.trialTimer = setTimeout(() => {
      e.trialTimer = undefined;
      if (this.#entries.get(e.id) !== e || !this.#endTrial(e, token)) return;
      this.#recompute(e);
    }, this.#policy.trialMs);
    e.trialTimer.unref();
    this.#recompute(e);
    return token;
  }

  /** The trial request ended without a verdict on the member (its client went away first). */
  abandon(memberId: string, trial: number): void {
    const e = this.#entries.get(memberId);
    if (e && this.#endTrial(e, trial)) this.#recompute(e);
  }

  /** Ends the trial `token` if it is the one in flight; true when it did (recompute after). */
  #endTrial(e: Entry, token: number): boolean {
    if (token === 0 || e.trialToken !== token || !e.passive.trialInFlight) return false;
    e.passive.trialInFlight = false;
    e.trialToken = 0;
    this.#clearTrialTimer(e);
    return true;
  }

  #clearTrialTimer(e: Entry): void {
    if (e.trialTimer) clearTimeout(e.trialTimer);
    e.trialTimer = undefined;
  }

  /** Stops probing a member (it is going to sleep); a probe in flight is discarded. State is kept. */
  pause(memberId: string): void {
    this.#pausedIds.add(memberId);
    const e = this.#entries.get(memberId);
    if (!e) return;
    e.generation += 1;
    e.inflight = undefined;
    this.#clearTimer(e);
    this.#recompute(e);
  }

  /** Resumes probing (the member is awake again) with an immediate probe. */
  resume(memberId: string): void {
    if (!this.#pausedIds.delete(memberId)) return;
    const e = this.#entries.get(memberId);
    if (!e) return;
    this.#recompute(e);
    this.#probeNowAndSchedule(e);
  }

  /**
   * The wake module confirmed that a woken member passes its health check: it takes traffic at
   * once (no wait for the next probe, no `starting` phase when discovery reports the restart a
   * moment later), probing resumes on its usual schedule, and passive history is cleared.
   */
  markReady(memberId: string): void {
    this.#pausedIds.delete(memberId);
    const e = this.#entries.get(memberId);
    if (!e || this.#closed) return;
    e.containerState = 'running';
    e.generation += 1; // a probe from the boot phase must not undo this
    e.inflight = undefined;
    if (!e.spec.healthcheck.disable) {
      e.active = 'healthy';
      e.activeReason = 'ready after wake';
      e.consecutiveFailures = 0;
      e.consecutiveSuccesses = 1;
      e.lastCheck = this.#now();
    }
    e.passive = new PassiveState(this.#policy);
    if (e.ejectTimer) clearTimeout(e.ejectTimer);
    e.ejectTimer = undefined;
    this.#recompute(e);
    e.probedOnce = true;
    this.#schedule(e, Math.max(1, jitterFraction(e.id) * this.#intervalFor(e)));
  }

  /**
   * Probes a member now, even while paused (the wake module asks when a woken container is
   * ready), applies the result and returns the new status. Shares a probe already in flight.
   */
  async probeNow(memberId: string): Promise<MemberHealthStatus | undefined> {
    const e = this.#entries.get(memberId);
    if (!e || this.#closed) return e ? this.#status(e) : undefined;
    if (e.spec.healthcheck.disable) return this.#status(e);
    await (e.inflight ?? this.#startProbe(e, !this.#pausedIds.has(memberId)));
    const now = this.#entries.get(memberId);
    return now ? this.#status(now) : undefined;
  }

  /** Stops every timer and probe; the monitor answers "not usable" for everything afterwards. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const e of this.#entries.values()) {
      e.generation += 1;
      this.#clearTimer(e);
      this.#clearTrialTimer(e);
      if (e.ejectTimer) clearTimeout(e.ejectTimer);
    }
    this.#entries.clear();
    this.#pools.clear();
    this.#listeners.clear();
    await this.#prober.close();
  }

  // ── membership ───────────────────────────────────────────────────────────────────────────

  #add(spec: MemberSpec, pools: Set<string>): void {
    const e: Entry = {
      id: spec.id,
      spec,
      targetKey: targetKey(spec),
      checkKey: checkKey(spec),
      pools,
      active: spec.healthcheck.disable ? 'healthy' : 'starting',
      activeReason: spec.healthcheck.disable ? 'healthcheck disabled' : 'waiting for the first check',
      consecutiveFailures: 0,
      consecutiveSuccesses: 0,
      lastCheck: null,
      latencyMs: null,
      dockerHealth: asDockerHealth(spec.container?.dockerHealth),
      specDockerHealth: spec.container?.dockerHealth,
      containerState: spec.container?.state ?? 'running',
      passive: new PassiveState(this.#policy),
      timer: undefined,
      ejectTimer: undefined,
      trialTimer: undefined,
      trialToken: 0,
      generation: 0,
      inflight: undefined,
      probedOnce: false,
      dueAt: 0,
      readinessProbes: 0,
      health: 'starting',
      reason: '',
      usable: false,
    };
    this.#entries.set(spec.id, e);
    this.#derive(e);
    this.#log.debug({ memberId: e.id, member: spec.name, url: spec.url }, 'health: member added');
    this.#emit(e);
    this.#probeNowAndSchedule(e);
  }

  #update(e: Entry, spec: MemberSpec, pools: Set<string>): void {
    const wasRunning = e.containerState === 'running';
    const newTarget = targetKey(spec);
    const newCheck = checkKey(spec);
    const targetChanged = newTarget !== e.targetKey;
    const checkChanged = newCheck !== e.checkKey;
    e.spec = spec;
    e.pools = pools;
    e.targetKey = newTarget;
    e.checkKey = newCheck;
    e.containerState = spec.container?.state ?? 'running';
    if (spec.container?.dockerHealth !== e.specDockerHealth) {
      e.specDockerHealth = spec.container?.dockerHealth;
      e.dockerHealth = asDockerHealth(spec.container?.dockerHealth);
    }
    const started = !wasRunning && e.containerState === 'running';
    if (targetChanged || started) {
      // The verdict was about another address or a previous run of the container.
      this.#resetActive(e, spec.healthcheck.disable ? 'healthcheck disabled' : 'waiting for the first check');
      e.passive = new PassiveState(this.#policy);
      if (e.ejectTimer) clearTimeout(e.ejectTimer);
      e.ejectTimer = undefined;
    } else if (checkChanged && spec.healthcheck.disable) {
      this.#resetActive(e, 'healthcheck disabled');
    } else if (checkChanged && e.active === 'healthy' && e.activeReason === 'healthcheck disabled') {
      // Re-enabled: "disabled" proved nothing about the member.
      this.#resetActive(e, 'waiting for the first check');
    }
    this.#recompute(e);
    if (targetChanged || checkChanged || started) {
      e.generation += 1;
      e.inflight = undefined;
      this.#probeNowAndSchedule(e);
    }
  }

  #resetActive(e: Entry, reason: string): void {
    e.active = e.spec.healthcheck.disable ? 'healthy' : 'starting';
    e.activeReason = reason;
    e.consecutiveFailures = 0;
    e.consecutiveSuccesses = 0;
    e.probedOnce = false;
    e.readinessProbes = 0;
  }

  #forget(e: Entry): void {
    e.generation += 1;
    this.#clearTimer(e);
    this.#clearTrialTimer(e);
    if (e.ejectTimer) clearTimeout(e.ejectTimer);
    this.#entries.delete(e.id);
    this.#pausedIds.delete(e.id);
    this.#log.debug({ memberId: e.id, member: e.spec.name }, 'health: member removed');
  }

  // ── active probes ────────────────────────────────────────────────────────────────────────

  #probeable(e: Entry): boolean {
    return !e.spec.healthcheck.disable && e.containerState === 'running' && !this.#pausedIds.has(e.id);
  }

  #probeNowAndSchedule(e: Entry): void {
    this.#clearTimer(e);
    this.#tick(e);
  }

  #tick(e: Entry, readiness = false): void {
    if (this.#closed || !this.#probeable(e) || e.inflight) return;
    if (this.#shouldProbe && !safeCall(this.#shouldProbe, e.id, this.#log)) {
      this.#schedule(e, this.#intervalFor(e)); // asleep or otherwise off-limits: look again later
      return;
    }
    void this.#startProbe(e, true, readiness);
  }

  #clearTimer(e: Entry): void {
    if (e.timer) clearTimeout(e.timer);
    e.timer = undefined;
  }

  #schedule(e: Entry, delayMs: number, readiness = false): void {
    this.#clearTimer(e);
    if (this.#closed || !this.#probeable(e)) return;
    e.timer = setTimeout(() => {
      e.timer = undefined;
      this.#tick(e, readiness);
    }, Math.max(0, delayMs));
    e.timer.unref();
  }

  /** Healthy members are probed every `interval`; starting and unhealthy ones faster. */
  #intervalFor(e: Entry): number {
    const interval = Math.max(1, e.spec.healthcheck.intervalMs);
    return e.active === 'healthy' ? interval : Math.min(interval, this.#fastIntervalMs);
  }

  /**
   * A readiness probe (`readiness`) is an extra one for a starting member, between its scheduled
   * probes: its success counts like any other, its failure only updates the reason, so the time
   * a member takes to be called unhealthy is what its schedule and `fall` say.
   */
  #startProbe(e: Entry, reschedule: boolean, readiness = false): Promise<void> {
    const generation = e.generation;
    const startedAt = performance.now();
    const target = { url: e.spec.url, noTlsVerify: e.spec.noTlsVerify, healthcheck: e.spec.healthcheck };
    const run = this.#prober.probe(target).then(
      (result) => {
        if (this.#entries.get(e.id) !== e || e.generation !== generation || this.#closed) return;
        e.inflight = undefined;
        if (readiness && !result.ok && e.active === 'starting') this.#applyReadinessFailure(e, result);
        else this.#apply(e, result);
        if (!reschedule && !this.#probeable(e)) return;
        if (!readiness) {
          const interval = this.#intervalFor(e);
          // After the first probe, offset the member's slot so many members never probe together.
          const delay = e.probedOnce ? interval : Math.max(1, jitterFraction(e.id) * interval);
          e.probedOnce = true;
          e.dueAt = startedAt + delay;
        }
        const now = performance.now();
        if (e.active === 'starting' && !result.ok) {
          const soon = now + READINESS_FIRST_MS * 2 ** e.readinessProbes;
          if (soon < e.dueAt) {
            e.readinessProbes += 1;
            this.#schedule(e, soon - now, true);
            return;
          }
        }
        this.#schedule(e, e.dueAt - now);
      },
      (err: unknown) => {
        // Probes do not reject; if one ever does, keep the loop alive and say so.
        this.#log.error({ memberId: e.id, member: e.spec.name, err }, 'health: probe crashed');
        if (e.generation === generation) {
          e.inflight = undefined;
          this.#schedule(e, this.#intervalFor(e));
        }
      },
    );
    e.inflight = run;
    return run;
  }

  #applyReadinessFailure(e: Entry, r: ProbeResult): void {
    e.lastCheck = this.#now();
    e.latencyMs = r.latencyMs;
    e.activeReason = r.reason;
    this.#recompute(e);
  }

  #apply(e: Entry, r: ProbeResult): void {
    const { rise, fall } = e.spec.healthcheck;
    e.lastCheck = this.#now();
    e.latencyMs = r.latencyMs;
    if (r.ok) {
      e.consecutiveSuccesses += 1;
      e.consecutiveFailures = 0;
      e.activeReason = r.reason;
      // A new member takes traffic after its first success; a failed one needs `rise`.
      if (e.active === 'unhealthy' && e.consecutiveSuccesses >= Math.max(1, rise)) {
        e.active = 'healthy';
        // Active checks saw the member down and then back `rise` times: that outranks a passive
        // cool-down started while it was down (else a member killed and restarted stays out for
        // the whole, doubling, cool-down). It comes back on trial: one failed request re-ejects.
        if (e.passive.blocking) {
          e.passive.expire();
          if (e.ejectTimer) clearTimeout(e.ejectTimer);
          e.ejectTimer = undefined;
        }
      } else if (e.active === 'starting') {
        e.active = 'healthy';
      }
    } else {
      e.consecutiveFailures += 1;
      e.consecutiveSuccesses = 0;
      e.activeReason = r.reason;
      if (e.active !== 'unhealthy' && e.consecutiveFailures >= Math.max(1, fall)) e.active = 'unhealthy';
    }
    this.#recompute(e);
  }

  // ── passive ejection ─────────────────────────────────────────────────────────────────────

  /** Ejecting `e` must leave every pool it belongs to with another usable member. */
  #canEject(e: Entry): boolean {
    for (const pool of e.pools) {
      const others = (this.#pools.get(pool) ?? []).filter((id) => id !== e.id && this.isUsable(id));
      if (others.length === 0) return false;
    }
    return true;
  }

  #armEjectTimer(e: Entry): void {
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
        this.#endTrial(e, e.trialToken);
      } else if (e.passive.blocking) {
        e.passive.expire();
        if (e.ejectTimer) clearTimeout(e.ejectTimer);
        e.ejectTimer = undefined;
      } else {
        continue;
      }
      this.#recompute(e);
      if (e.usable) return;
    }
  }

  // ── derived state ────────────────────────────────────────────────────────────────────────

  #derive(e: Entry): void {
    const disabled = e.spec.healthcheck.disable;
    let health: HealthState;
    let reason: string;
    if (e.containerState !== 'running') {
      health = 'unhealthy';
      reason = `container ${e.containerState}`;
    } else if (e.dockerHealth === 'unhealthy') {
      health = 'unhealthy';
      reason = 'docker: unhealthy';
    } else if (!disabled && e.active === 'unhealthy') {
      health = 'unhealthy';
      reason = e.activeReason;
    } else if (e.passive.blocking) {
      health = 'unhealthy';
      reason = `ejected: ${e.passive.cause}`;
    } else if (e.dockerHealth === 'starting') {
      health = 'starting';
      reason = 'docker: starting';
    } else if (!disabled && e.active === 'starting') {
      health = 'starting';
      reason = e.activeReason;
    } else {
      health = 'healthy';
      reason = e.passive.phase !== 'half-open' ? e.activeReason
        : e.passive.trialInFlight ? `half-open: trial request in flight (was ejected: ${e.passive.cause})`
        : `half-open: next request is a trial (was ejected: ${e.passive.cause})`;
    }
    if (health === 'healthy' && e.consecutiveFailures > 0 && !disabled) {
      reason = `${e.activeReason} (${e.consecutiveFailures}/${e.spec.healthcheck.fall} failures)`;
    }
    e.health = health;
    e.reason = reason;
    e.usable = health === 'healthy' && !this.#closed && !e.passive.trialInFlight;
  }

  #recompute(e: Entry): void {
    const before = { health: e.health, usable: e.usable, blocking: e.passive.blocking };
    this.#derive(e);
    if (before.health === e.health && before.usable === e.usable && before.blocking === e.passive.blocking) return;
    const fields = { memberId: e.id, member: e.spec.name, ...(e.spec.container ? { container: e.spec.container.name } : {}), from: before.health, to: e.health, reason: e.reason };
    if (e.health === 'unhealthy') this.#log.warn(fields, `health: ${e.spec.name} is unhealthy: ${e.reason}`);
    else if (e.health === 'healthy' && before.health !== 'healthy') this.#log.info(fields, `health: ${e.spec.name} is healthy`);
    else this.#log.debug(fields, `health: ${e.spec.name} is ${e.health}`);
    this.#emit(e);
    if (before.usable && !e.usable) for (const pool of e.pools) this.#rescuePool(pool);
  }

  #emit(e: Entry): void {
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

  #status(e: Entry): MemberHealthStatus {
    let reason = e.reason;
    const until = e.passive.blocking ? e.passive.ejectedUntil : undefined;
    if (until !== undefined && e.health === 'unhealthy' && reason.startsWith('ejected:')) {
      reason = `${reason}, retry in ${formatDuration(Math.max(0, until - this.#now()))}`;
    }
    const s: MemberHealthStatus = {
      health: e.health,
      usable: e.usable,
      reason,
      lastCheck: e.lastCheck === null ? null : new Date(e.lastCheck).toISOString(),
      latencyMs: e.latencyMs,
      consecutiveFailures: e.consecutiveFailures,
      consecutiveSuccesses: e.consecutiveSuccesses,
      paused: this.#pausedIds.has(e.id),
    };
    if (until !== undefined) s.ejectedUntil = new Date(until).toISOString();
    return s;
  }
}

function targetKey(m: MemberSpec): string {
  return `${m.url}|${m.noTlsVerify}`;
}

function checkKey(m: MemberSpec): string {
  const h = m.healthcheck;
  // status is part of the check: a new set of accepted codes re-probes at once, keeping the verdict.
  return JSON.stringify([h.path ?? null, h.useGet, h.intervalMs, h.timeoutMs, h.rise, h.fall, h.disable, h.status ?? null]);
}

function asDockerHealth(v: string | undefined): DockerHealth | undefined {
  return v !== undefined && DOCKER_HEALTH.has(v) ? (v as DockerHealth) : undefined;
}

function safeCall(fn: (id: string) => boolean, id: string, log: HealthLogger): boolean {
  try {
    return fn(id);
  } catch (err) {
    log.error({ memberId: id, err }, 'health: shouldProbe threw; probing anyway');
    return true;
  }
}
