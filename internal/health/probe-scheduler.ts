// When each member is probed (docs/health.md, "Timing"): at once when it appears, starts or its
// check changes; then every `interval` while healthy and every min(interval, 2 s) while starting
// or unhealthy, each member at its own jittered slot; a starting member whose probe failed also
// in between, after 20, 40, 80 ms… (readiness probes). Paused members (asleep) are not probed.
// A result is applied in one synchronous step after the await, and only if the member's
// generation is unchanged: a result from before a reload, url change or pause is dropped.
import type { Logger } from '../../pkg/log/index.ts';
import { jitterFraction } from './jitter.ts';
import type { MemberEntry } from './member-entry.ts';
import { Prober, type HealthyStatus } from './probe.ts';

/**
 * A starting member whose probe failed is probed again after this, doubling (20, 40, 80 ms …),
 * in between its scheduled probes. Its first probe usually races the process inside the
 * container, which starts listening a few ms after Docker reports the start; without these the
 * next try waited for the member's jittered slot, 0–2 s later (issue 11).
 */
const READINESS_FIRST_MS = 20;

export interface ProbeSchedulerOptions {
  log: Logger;
  healthyStatus: HealthyStatus;
  /** Ceiling of the re-probe interval for starting and unhealthy members. */
  fastIntervalMs: number;
  /** Extra gate checked before every scheduled probe; false skips it (e.g. the member is asleep). */
  shouldProbe: ((memberId: string) => boolean) | undefined;
  now: () => number;
  /** Whether `e` is still the monitor's record for its member (not removed or replaced). */
  isCurrent: (e: MemberEntry) => boolean;
  /** A result was applied to `e`: derive and report. */
  changed: (e: MemberEntry) => void;
}

export class ProbeScheduler {
  readonly #prober: Prober;
  readonly #pausedIds = new Set<string>();
  readonly #log: Logger;
  readonly #fastIntervalMs: number;
  readonly #shouldProbe: ((memberId: string) => boolean) | undefined;
  readonly #now: () => number;
  readonly #isCurrent: (e: MemberEntry) => boolean;
  readonly #changed: (e: MemberEntry) => void;
  #closed = false;

  constructor(options: ProbeSchedulerOptions) {
    this.#prober = new Prober(options.healthyStatus);
    this.#log = options.log;
    this.#fastIntervalMs = options.fastIntervalMs;
    this.#shouldProbe = options.shouldProbe;
    this.#now = options.now;
    this.#isCurrent = options.isCurrent;
    this.#changed = options.changed;
  }

  /** True while the wake module has paused the member's probes. */
  isPaused(memberId: string): boolean {
    return this.#pausedIds.has(memberId);
  }

  pause(memberId: string): void {
    this.#pausedIds.add(memberId);
  }

  /** Lifts a pause; false when the member was not paused. */
  unpause(memberId: string): boolean {
    return this.#pausedIds.delete(memberId);
  }

  /** Discards the probe in flight and the next scheduled one. */
  cancel(e: MemberEntry): void {
    e.generation += 1;
    e.inflight = undefined;
    this.#clearTimer(e);
  }

  /** Probes now, then on schedule. */
  probeNowAndSchedule(e: MemberEntry): void {
    this.#clearTimer(e);
    this.#tick(e);
  }

  /**
   * One probe now, even while paused (the wake module asks when a woken container is ready);
   * shares a probe already in flight. A paused member is not rescheduled.
   */
  probeOnce(e: MemberEntry): Promise<void> {
    return e.inflight ?? this.#startProbe(e, !this.#pausedIds.has(e.id));
  }

  /** Probing resumes at the member's own slot in its interval (it was just confirmed ready). */
  resumeOnSlot(e: MemberEntry): void {
    e.probedOnce = true;
    this.#schedule(e, Math.max(1, jitterFraction(e.id) * this.#intervalFor(e)));
  }

  /** The member is gone: stops its probes and forgets its pause. */
  forget(e: MemberEntry): void {
    this.cancel(e);
    this.#pausedIds.delete(e.id);
  }

  /** No probe starts or is applied after this; lets go of the prober's connections. */
  close(): Promise<void> {
    this.#closed = true;
    return this.#prober.close();
  }

  #probeable(e: MemberEntry): boolean {
    return !e.spec.healthcheck.disable && e.containerState === 'running' && !this.#pausedIds.has(e.id);
  }

  #tick(e: MemberEntry, readiness = false): void {
    if (this.#closed || !this.#probeable(e) || e.inflight) return;
    if (this.#shouldProbe && !this.#askShouldProbe(e.id)) {
      this.#schedule(e, this.#intervalFor(e)); // asleep or otherwise off-limits: look again later
      return;
    }
    void this.#startProbe(e, true, readiness);
  }

  #askShouldProbe(id: string): boolean {
    try {
      return this.#shouldProbe!(id);
    } catch (err) {
      this.#log.error({ memberId: id, err }, 'health: shouldProbe threw; probing anyway');
      return true;
    }
  }

  #clearTimer(e: MemberEntry): void {
    if (e.timer) clearTimeout(e.timer);
    e.timer = undefined;
  }

  #schedule(e: MemberEntry, delayMs: number, readiness = false): void {
    this.#clearTimer(e);
    if (this.#closed || !this.#probeable(e)) return;
    e.timer = setTimeout(() => {
      e.timer = undefined;
      this.#tick(e, readiness);
    }, Math.max(0, delayMs));
    e.timer.unref();
  }

  /** Healthy members are probed every `interval`; starting and unhealthy ones faster. */
  #intervalFor(e: MemberEntry): number {
    const interval = Math.max(1, e.spec.healthcheck.intervalMs);
    return e.active === 'healthy' ? interval : Math.min(interval, this.#fastIntervalMs);
  }

  /**
   * A readiness probe (`readiness`) is an extra one for a starting member, between its scheduled
   * probes: its success counts like any other, its failure only updates the reason.
   */
  #startProbe(e: MemberEntry, reschedule: boolean, readiness = false): Promise<void> {
    const generation = e.generation;
    const startedAt = performance.now();
    const target = { url: e.spec.url, noTlsVerify: e.spec.noTlsVerify, h2c: e.spec.h2c === true, healthcheck: e.spec.healthcheck };
    const run = this.#prober.probe(target).then(
      (result) => {
        if (!this.#isCurrent(e) || e.generation !== generation || this.#closed) return;
        e.inflight = undefined;
        if (readiness && !result.ok && e.active === 'starting') e.applyReadinessFailure(result, this.#now());
        else e.applyProbe(result, this.#now());
        this.#changed(e);
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
}
