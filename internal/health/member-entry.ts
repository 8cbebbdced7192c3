// One member's health record and the rules that move it (docs/health.md): rise/fall on active
// probes, what a reload keeps, and how active checks, Docker's HEALTHCHECK and passive ejection
// fold into the one `usable` flag the balancer reads. Synchronous and timer-free except for the
// timers the record carries for its owners (HealthMonitor, ProbeScheduler) to clear.
import type { MemberSpec } from '../routes/index.ts';
import { formatDuration } from './format-duration.ts';
import { PassiveState, type PassivePolicy } from './passive-ejection.ts';
import type { ProbeResult } from './probe.ts';

/** Health as shown by the admin API. Only 'healthy' members take traffic. */
export type HealthState = 'starting' | 'healthy' | 'unhealthy';

/** Docker's own HEALTHCHECK status; undefined when the image has none. */
export type DockerHealth = 'starting' | 'healthy' | 'unhealthy';

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

/** What changed for a member listed again by a sync (see MemberEntry.update). */
export interface MemberChange {
  targetChanged: boolean;
  checkChanged: boolean;
  /** The container was not running and now runs. */
  started: boolean;
}

const DOCKER_HEALTH = new Set(['starting', 'healthy', 'unhealthy']);

function asDockerHealth(v: string | undefined): DockerHealth | undefined {
  return v !== undefined && DOCKER_HEALTH.has(v) ? (v as DockerHealth) : undefined;
}

/** Identity of the address probed: a change means the old verdict no longer applies. */
export function targetKey(m: MemberSpec): string {
  return `${m.url}|${m.noTlsVerify}${m.h2c === true ? '|h2c' : ''}`;
}

/** Identity of the check: a change keeps the verdict and re-probes. */
export function checkKey(m: MemberSpec): string {
  const h = m.healthcheck;
  // status is part of the check: a new set of accepted codes re-probes at once, keeping the verdict.
  return JSON.stringify([h.path ?? null, h.useGet, h.intervalMs, h.timeoutMs, h.rise, h.fall, h.disable, h.status ?? null]);
}

export class MemberEntry {
  readonly id: string;
  spec: MemberSpec;
  targetKey: string;
  checkKey: string;
  pools: Set<string>;
  active: HealthState;
  activeReason: string;
  consecutiveFailures = 0;
  consecutiveSuccesses = 0;
  lastCheck: number | null = null;
  latencyMs: number | null = null;
  dockerHealth: DockerHealth | undefined;
  specDockerHealth: string | undefined;
  containerState: string;
  passive: PassiveState;
  /** the next scheduled probe (ProbeScheduler) */
  timer: NodeJS.Timeout | undefined;
  /** the end of a passive ejection's cool-down */
  ejectTimer: NodeJS.Timeout | undefined;
  /** the bound on a half-open member's trial request */
  trialTimer: NodeJS.Timeout | undefined;
  /** token of the trial in flight (0: none); only that request's outcome ends the trial */
  trialToken = 0;
  /** bumped whenever a probe in flight must be discarded (reload, pause, wake, removal) */
  generation = 0;
  inflight: Promise<void> | undefined;
  probedOnce = false;
  /** performance.now() when the next scheduled probe is due (readiness probes come in between) */
  dueAt = 0;
  /** readiness probes since the member became 'starting' (their delay doubles) */
  readinessProbes = 0;
  // derived, recomputed synchronously after every change
  health: HealthState = 'starting';
  reason = '';
  usable = false;

  /** A new member: 'starting' until its first success (or healthy at once with checks disabled). */
  constructor(spec: MemberSpec, pools: Set<string>, policy: PassivePolicy) {
    this.id = spec.id;
    this.spec = spec;
    this.targetKey = targetKey(spec);
    this.checkKey = checkKey(spec);
    this.pools = pools;
    this.active = spec.healthcheck.disable ? 'healthy' : 'starting';
    this.activeReason = spec.healthcheck.disable ? 'healthcheck disabled' : 'waiting for the first check';
    this.dockerHealth = asDockerHealth(spec.container?.dockerHealth);
    this.specDockerHealth = spec.container?.dockerHealth;
    this.containerState = spec.container?.state ?? 'running';
    this.passive = new PassiveState(policy);
  }

  /**
   * The member is listed again. Same url and check: the state stays. A changed url, or a
   * container that started again, starts over as 'starting' with a clean passive history (the
   * verdict was about another address or a previous run); a changed check keeps the state,
   * except that disabling or re-enabling it resets the active verdict.
   */
  update(spec: MemberSpec, pools: Set<string>, policy: PassivePolicy): MemberChange {
    const wasRunning = this.containerState === 'running';
    const newTarget = targetKey(spec);
    const newCheck = checkKey(spec);
    const targetChanged = newTarget !== this.targetKey;
    const checkChanged = newCheck !== this.checkKey;
    this.spec = spec;
    this.pools = pools;
    this.targetKey = newTarget;
    this.checkKey = newCheck;
    this.containerState = spec.container?.state ?? 'running';
    if (spec.container?.dockerHealth !== this.specDockerHealth) {
      this.specDockerHealth = spec.container?.dockerHealth;
      this.dockerHealth = asDockerHealth(spec.container?.dockerHealth);
    }
    const started = !wasRunning && this.containerState === 'running';
    if (targetChanged || started) {
      // The verdict was about another address or a previous run of the container.
      this.resetActive(spec.healthcheck.disable ? 'healthcheck disabled' : 'waiting for the first check');
      this.passive = new PassiveState(policy);
      this.clearEjectTimer();
    } else if (checkChanged && spec.healthcheck.disable) {
      this.resetActive('healthcheck disabled');
    } else if (checkChanged && this.active === 'healthy' && this.activeReason === 'healthcheck disabled') {
      // Re-enabled: "disabled" proved nothing about the member.
      this.resetActive('waiting for the first check');
    }
    return { targetChanged, checkChanged, started };
  }

  /** Forgets the active verdict: probing starts over (its schedule too). */
  resetActive(reason: string): void {
    this.active = this.spec.healthcheck.disable ? 'healthy' : 'starting';
    this.activeReason = reason;
    this.consecutiveFailures = 0;
    this.consecutiveSuccesses = 0;
    this.probedOnce = false;
    this.readinessProbes = 0;
  }

  /**
   * The wake module confirmed the woken member passes its check: healthy at once (unless checks
   * are disabled, which leaves the verdict alone), with a clean passive history.
   */
  markReady(now: number, policy: PassivePolicy): void {
    this.containerState = 'running';
    if (!this.spec.healthcheck.disable) {
      this.active = 'healthy';
      this.activeReason = 'ready after wake';
      this.consecutiveFailures = 0;
      this.consecutiveSuccesses = 1;
      this.lastCheck = now;
    }
    this.passive = new PassiveState(policy);
    this.clearEjectTimer();
  }

  /** A scheduled probe's result: rise and fall. */
  applyProbe(r: ProbeResult, now: number): void {
    const { rise, fall } = this.spec.healthcheck;
    this.lastCheck = now;
    this.latencyMs = r.latencyMs;
    if (r.ok) {
      this.consecutiveSuccesses += 1;
      this.consecutiveFailures = 0;
      this.activeReason = r.reason;
      // A new member takes traffic after its first success; a failed one needs `rise`.
      if (this.active === 'unhealthy' && this.consecutiveSuccesses >= Math.max(1, rise)) {
        this.active = 'healthy';
        // Active checks saw the member down and then back `rise` times: that outranks a passive
        // cool-down started while it was down (else a member killed and restarted stays out for
        // the whole, doubling, cool-down). It comes back on trial: one failed request re-ejects.
        if (this.passive.blocking) {
          this.passive.expire();
          this.clearEjectTimer();
        }
      } else if (this.active === 'starting') {
        this.active = 'healthy';
      }
    } else {
      this.consecutiveFailures += 1;
      this.consecutiveSuccesses = 0;
      this.activeReason = r.reason;
      if (this.active !== 'unhealthy' && this.consecutiveFailures >= Math.max(1, fall)) this.active = 'unhealthy';
    }
  }

  /**
   * A failed readiness probe (an extra one for a starting member, between its scheduled ones):
   * only the reason changes, so the time a member takes to be called unhealthy is what its
   * schedule and `fall` say.
   */
  applyReadinessFailure(r: ProbeResult, now: number): void {
    this.lastCheck = now;
    this.latencyMs = r.latencyMs;
    this.activeReason = r.reason;
  }

  /** Ends the trial `token` if it is the one in flight; true when it did (derive after). */
  endTrial(token: number): boolean {
    if (token === 0 || this.trialToken !== token || !this.passive.trialInFlight) return false;
    this.passive.trialInFlight = false;
    this.trialToken = 0;
    this.clearTrialTimer();
    return true;
  }

  clearTrialTimer(): void {
    if (this.trialTimer) clearTimeout(this.trialTimer);
    this.trialTimer = undefined;
  }

  clearEjectTimer(): void {
    if (this.ejectTimer) clearTimeout(this.ejectTimer);
    this.ejectTimer = undefined;
  }

  /**
   * Folds the three sources into health, reason and usable. Worst first: a container that does
   * not run, Docker's unhealthy, active checks' unhealthy, a passive ejection, then the
   * 'starting' phases; a half-open member is healthy with its trial in the reason.
   */
  derive(closed: boolean): void {
    const disabled = this.spec.healthcheck.disable;
    let health: HealthState;
    let reason: string;
    if (this.containerState !== 'running') {
      health = 'unhealthy';
      reason = `container ${this.containerState}`;
    } else if (this.dockerHealth === 'unhealthy') {
      health = 'unhealthy';
      reason = 'docker: unhealthy';
    } else if (!disabled && this.active === 'unhealthy') {
      health = 'unhealthy';
      reason = this.activeReason;
    } else if (this.passive.blocking) {
      health = 'unhealthy';
      reason = `ejected: ${this.passive.cause}`;
    } else if (this.dockerHealth === 'starting') {
      health = 'starting';
      reason = 'docker: starting';
    } else if (!disabled && this.active === 'starting') {
      health = 'starting';
      reason = this.activeReason;
    } else {
      health = 'healthy';
      reason = this.passive.phase !== 'half-open' ? this.activeReason
        : this.passive.trialInFlight ? `half-open: trial request in flight (was ejected: ${this.passive.cause})`
        : `half-open: next request is a trial (was ejected: ${this.passive.cause})`;
    }
    if (health === 'healthy' && this.consecutiveFailures > 0 && !disabled) {
      reason = `${this.activeReason} (${this.consecutiveFailures}/${this.spec.healthcheck.fall} failures)`;
    }
    this.health = health;
    this.reason = reason;
    this.usable = health === 'healthy' && !closed && !this.passive.trialInFlight;
  }

  status(now: number, paused: boolean): MemberHealthStatus {
    let reason = this.reason;
    const until = this.passive.blocking ? this.passive.ejectedUntil : undefined;
    if (until !== undefined && this.health === 'unhealthy' && reason.startsWith('ejected:')) {
      reason = `${reason}, retry in ${formatDuration(Math.max(0, until - now))}`;
    }
    const s: MemberHealthStatus = {
      health: this.health,
      usable: this.usable,
      reason,
      lastCheck: this.lastCheck === null ? null : new Date(this.lastCheck).toISOString(),
      latencyMs: this.latencyMs,
      consecutiveFailures: this.consecutiveFailures,
      consecutiveSuccesses: this.consecutiveSuccesses,
      paused,
    };
    if (until !== undefined) s.ejectedUntil = new Date(until).toISOString();
    return s;
  }
}
