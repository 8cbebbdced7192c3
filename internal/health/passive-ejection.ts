// Passive outlier detection for one member, driven by the outcomes of real requests that the
// proxy reports. Pure state machine with an injected clock: the monitor owns the timers.
//
//   closed ──N failures within window──▶ ejected ──cool-down over──▶ half-open
//     ▲                                     ▲                           │
//     └──────── trial succeeds ─────────────┼──── trial fails (cool-down doubles, capped) ◀┘

import { formatDuration } from './format-duration.ts';

/** Tuning for passive checks (defaults: 3 failures within 10s → 5s cool-down, doubling to 2m). */
export interface PassivePolicy {
  /** consecutive failures inside `windowMs` that eject a member */
  failures: number;
  windowMs: number;
  /** first cool-down; doubles with every ejection until a trial request succeeds */
  baseEjectMs: number;
  maxEjectMs: number;
  /**
   * How long the one trial request of a half-open member holds other requests back. A trial
   * that has not answered by then (a websocket, a long download) lets the next request be
   * another trial instead of keeping a possibly recovered member out indefinitely.
   */
  trialMs: number;
}

export const DEFAULT_PASSIVE_POLICY: Readonly<PassivePolicy> = Object.freeze({
  failures: 3,
  windowMs: 10_000,
  baseEjectMs: 5_000,
  maxEjectMs: 120_000,
  trialMs: 10_000,
});

/** What the proxy reports after using a member. */
export interface PassiveOutcome {
  /** false when the exchange failed (no response, or a response the proxy treats as an upstream failure) */
  ok: boolean;
  /** upstream status code, when a response arrived */
  status?: number | undefined;
  /** error code or message when no response arrived, e.g. 'ECONNREFUSED', 'timeout' */
  error?: string | undefined;
}

/**
 * Connection failures, timeouts and 502/503/504 count against a member (docs/health.md,
 * "Passive checks"). Any other answer, including a 500 (the application's own error, not the
 * member being down), is a success for ejection purposes.
 */
export function isMemberFailure(outcome: PassiveOutcome): boolean {
  if (outcome.error !== undefined) return true;
  if (outcome.status !== undefined) return outcome.status === 502 || outcome.status === 503 || outcome.status === 504;
  return !outcome.ok;
}

export type PassivePhase = 'closed' | 'ejected' | 'half-open';

export class PassiveState {
  phase: PassivePhase = 'closed';
  /** timestamps of consecutive failures still inside the window */
  recent: number[] = [];
  /** ejections since the last successful trial; sets the cool-down */
  ejections = 0;
  ejectedUntil: number | undefined;
  /** why the member was last ejected, without the "retry in" part */
  cause = '';
  /** half-open: the one trial request has been sent and has not answered yet */
  trialInFlight = false;
  readonly #policy: PassivePolicy;

  constructor(policy: PassivePolicy) {
    this.#policy = policy;
  }

  get blocking(): boolean {
    return this.phase === 'ejected';
  }

  /** Half-open and its trial not sent yet: the next request may be the trial. */
  get awaitingTrial(): boolean {
    return this.phase === 'half-open' && !this.trialInFlight;
  }

  /** Cool-down the next ejection would get. */
  nextCooldownMs(): number {
    return Math.min(this.#policy.baseEjectMs * 2 ** this.ejections, this.#policy.maxEjectMs);
  }

  /**
   * Records a failure. Returns true when the member is (re-)ejected now. `canEject` is false when
   * ejecting would leave a pool with no usable member: the failure is still counted.
   */
  fail(now: number, detail: string, canEject: boolean): boolean {
    if (this.phase === 'ejected') return false; // a request that started before the ejection
    if (this.phase === 'half-open') {
      if (!canEject) return false;
      this.#eject(now, `trial request failed (${detail})`);
      return true;
    }
    const cutoff = now - this.#policy.windowMs;
    this.recent = this.recent.filter((t) => t > cutoff);
    this.recent.push(now);
    if (this.recent.length < this.#policy.failures || !canEject) return false;
    this.#eject(now, `${this.recent.length} failures in ${formatDuration(this.#policy.windowMs)} (last: ${detail})`);
    return true;
  }

  /** Records a success. Returns true when a half-open member is restored. */
  succeed(): boolean {
    if (this.phase === 'ejected') return false; // late report from before the ejection
    this.recent = [];
    if (this.phase === 'half-open') {
      this.phase = 'closed';
      this.trialInFlight = false;
      this.ejections = 0;
      this.ejectedUntil = undefined;
      this.cause = '';
      return true;
    }
    return false;
  }

  /** The cool-down is over (or cut short): let one trial through. */
  expire(): void {
    if (this.phase !== 'ejected') return;
    this.phase = 'half-open';
    this.trialInFlight = false;
    this.ejectedUntil = undefined;
  }

  #eject(now: number, cause: string): void {
    const cooldown = this.nextCooldownMs();
    this.trialInFlight = false;
    this.ejections += 1;
    this.phase = 'ejected';
    this.ejectedUntil = now + cooldown;
    this.recent = [];
    this.cause = cause;
  }
}
