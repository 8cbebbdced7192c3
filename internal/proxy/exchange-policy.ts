// What an exchange does next, decided without I/O: after a failed attempt (another member, the
// same member on a fresh connection, route afresh, wait for the route table, or answer), within
// the attempt and reroute bounds, and how each ending is reported to the route (passive health,
// least-conn, idle clock). The Exchange (exchange.ts) feeds it facts and does what it says. Whether
// a failure may be sent again at all is retry-policy.ts. The rules: docs/proxy.md ("Retries").

import type { AttemptOutcome } from './router.ts';
import type { ProxyAnswerCode, ProxyErrorCode } from './proxy-errors.ts';
import { classifyFailure, PIPELINE_STALLED, retryVerdict, type AttemptFailure } from './retry-policy.ts';

/** Attempts per routing: the first plus one retry on another member (or the same one afresh). */
export const MAX_ATTEMPTS = 2;
/** Fresh routings per request (member gone, or the route table changed after a wait). */
export const MAX_REROUTES = 3;

/** Endings caused by the client's request, not the member: no passive-health verdict. */
const CLIENT_FAULTS: ReadonlySet<string> = new Set<ProxyErrorCode>(['PROXY_REQUEST_TIMEOUT', 'PROXY_BAD_REQUEST']);

/** Where the request stands when an attempt fails. */
export interface ExchangeProgress {
  /** Attempts in the current routing, the failed one included. */
  attempts: number;
  /** Fresh routings done so far. */
  reroutes: number;
  /** The route can wait for its table to change (ProxyRoute.awaitMember; Docker routes). */
  canAwaitTable: boolean;
  /** The client left: nothing is sent again. */
  clientGone: boolean;
}

/**
 * The route's candidates, asked lazily and in this order, because a pick moves the balancer
 * (round-robin position, sticky token): `another` is the next member not tried yet (the failed
 * one counts as tried), `any` may give the failed member again on a fresh connection.
 */
export interface RetryCandidates<P> {
  another(): P | undefined;
  any(): P | undefined;
}

export type NextStep<P> =
  /** Answer the client with `error` (nothing left to try, or not safe to try). */
  | { step: 'answer'; error: ProxyAnswerCode }
  /** Send the request again to this pick. */
  | { step: 'dispatch'; pick: P }
  /** Route the request afresh (resolve, gate, pick with a clean slate): its member left. */
  | { step: 'reroute' }
  /** Wait for the route table to change, then route afresh (afterTableWait decides). */
  | { step: 'await-table' };

export interface FailureDecision<P> {
  /** Bellhop's error for this failure: what the client gets if nothing else works. */
  error: ProxyAnswerCode;
  /** What the failed attempt tells the route about its member. */
  outcome: AttemptOutcome;
  next: NextStep<P>;
}

/** `attempt` failed with undici/socket code `f.code` before any of the answer reached the client. */
export function afterFailure<P>(f: AttemptFailure, progress: ExchangeProgress, candidates: RetryCandidates<P>): FailureDecision<P> {
  const verdict = progress.clientGone ? { retry: false as const, error: classifyFailure(f.code, f.sent) } : retryVerdict(f);
  const error = verdict.error;
  // A request the member could not even parse (bad framing we relayed) is the client's fault.
  // a bad request says nothing about the member, nor does a rescue from a stalled pipeline
  const outcome: AttemptOutcome = error === 'PROXY_BAD_REQUEST' ? { ok: true, error: f.code, noVerdict: true }
    : f.code === PIPELINE_STALLED ? { ok: false, error: f.code, noVerdict: true } : { ok: false, error: f.code };
  let next: NextStep<P>;
  if (!verdict.retry) {
    // Broken twice (a dying member): not sent a third time, but when the pool has nothing
    // else, the route table gets its say before the client gets the 502.
    next = verdict.awaitTable === true && candidates.another() === undefined ? awaitTable(progress, error) : { step: 'answer', error };
  } else if (verdict.reroute) {
    next = progress.reroutes < MAX_REROUTES ? { step: 'reroute' } : { step: 'answer', error };
  } else {
    const pick = progress.attempts < MAX_ATTEMPTS ? candidates.another() ?? (verdict.sameMember ? candidates.any() : undefined) : undefined;
    next = pick !== undefined ? { step: 'dispatch', pick } : awaitTable(progress, error);
  }
  return { error, outcome, next };
}

/** Nothing left to try on the spot: wait for the table when the route can and the bound allows. */
function awaitTable<P>(progress: ExchangeProgress, error: ProxyAnswerCode): NextStep<P> {
  return progress.canAwaitTable && progress.reroutes < MAX_REROUTES ? { step: 'await-table' } : { step: 'answer', error };
}

/** After waiting for the table: route afresh if it changed (within the bound), else answer `lastError`. */
export function afterTableWait(changed: boolean, reroutes: number, lastError: ProxyAnswerCode): NextStep<never> {
  return changed && reroutes < MAX_REROUTES ? { step: 'reroute' } : { step: 'answer', error: lastError };
}

/**
 * The route has no member to pick. After a failed attempt in this routing the client gets that
 * failure (502/504); otherwise — a fresh request, or one routed afresh — 503 with Retry-After.
 */
export function nothingToPick(lastError: ProxyAnswerCode | undefined): { error: ProxyAnswerCode; retryAfter: boolean } {
  return lastError !== undefined ? { error: lastError, retryAfter: false } : { error: 'PROXY_NO_MEMBER', retryAfter: true };
}

/**
 * How a finished request is reported to its member through release(): `error` is the code the
 * access log shows (a Bellhop code or the upstream's). A client that left, or an answer without
 * an error, is judged by its status; the client's own faults say nothing about the member.
 */
export function endingOutcome(status: number, error: string | undefined): AttemptOutcome {
  if (error === undefined || error === 'PROXY_CLIENT_GONE') return { ok: status !== 502 && status !== 503 && status !== 504, status };
  if (CLIENT_FAULTS.has(error)) return { ok: true, status, error, noVerdict: true };
  return { ok: false, status, error };
}
