// What a failed upstream attempt means for the request: which of Bellhop's errors it is, and
// whether the request may be sent again — to another member, to the same member on a fresh
// connection, or after routing it afresh. Pure: the Exchange feeds it facts about the attempt
// and does the I/O. The rules are in docs/proxy.md ("Retries").

import type { ProxyAnswerCode, ProxyErrorCode } from './proxy-errors.ts';

/** Error code of attempts aborted because their member left the route table. */
export const MEMBER_GONE = 'PROXY_MEMBER_GONE' satisfies ProxyErrorCode;
/**
 * Error code of attempts failed because the pipelined connection they were on, or were queued
 * for, broke (upstream-pools.ts): written, it is a reset; not yet written, nothing reached the
 * member and the same member on a fresh connection is as good as any.
 */
export const PIPELINE_BROKEN = 'PROXY_PIPELINE_BROKEN' satisfies ProxyErrorCode;

/**
 * Error code of pipelined attempts taken off their connection because the answer ahead of them
 * was slow (h1-pipeline.ts, the rescue): written, but no fault of the member's. Retried once
 * like a broken pipeline's, yet the member is neither blamed nor taken off the lane.
 */
export const PIPELINE_STALLED = 'PROXY_PIPELINE_STALLED' satisfies ProxyErrorCode;

const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
/** Errors that happen before a connection exists: nothing reached the upstream. */
const CONNECT_ERRORS: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT']);
/**
 * The upstream's connection broke before its answer reached the client. The last one is an
 * upstream that sent its head with a Content-Length and `Connection: close`, then died before
 * the body: undici sees the close as the end of a short body. Nothing was relayed yet (the head
 * is held back until the first body byte), so it is the same as a reset.
 */
const RESET_ERRORS: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH', PIPELINE_BROKEN]);

/** The upstream connection broke (reset, closed early): not a timeout, not a refusal. */
export function isBrokenConnection(code: string | undefined): boolean {
  return code !== undefined && RESET_ERRORS.has(code);
}

/** Bellhop's error for an upstream failure code. */
export function classifyFailure(code: string, sent: boolean): ProxyAnswerCode {
  if (code === MEMBER_GONE) return sent ? 'PROXY_UPSTREAM_RESET' : 'PROXY_UPSTREAM_CONNECT';
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return 'PROXY_UPSTREAM_TIMEOUT';
  if (CONNECT_ERRORS.has(code)) return 'PROXY_UPSTREAM_CONNECT';
  if (code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH') return 'PROXY_BAD_REQUEST';
  return 'PROXY_UPSTREAM_RESET';
}

/** Facts about one failed attempt whose answer has not reached the client. */
export interface AttemptFailure {
  /** undici's error code, a socket errno, or MEMBER_GONE. */
  code: string;
  /** Request bytes may have reached the member (undici called onConnect). */
  sent: boolean;
  /** The member had sent its response head before the failure. */
  answered: boolean;
  method: string;
  hasBody: boolean;
  /** Attempts of this request that failed after sending, this one included. */
  sentFailures: number;
}

export type RetryVerdict =
  /**
   * Answer the client with this error. `awaitTable`: not before the route table had its say
   * — when the pool has no other member to try, wait for it to change (the member left or
   * became unusable) and route afresh; answer with `error` if it does not.
   */
  | { retry: false; error: ProxyAnswerCode; awaitTable?: boolean }
  /**
   * Send again: `reroute` when the member left the table (route afresh), else to another
   * member; `sameMember` says the same member on a fresh connection is fine too when no other
   * one is left.
   */
  | { retry: true; error: ProxyAnswerCode; reroute: boolean; sameMember: boolean };

/**
 * Whether a failed attempt may be sent again. Nothing reached the member: always (the member
 * refused, was unreachable, or left before the request was written). It may have: only a
 * bodiless idempotent request (RFC 9110 §9.2.2), only after a broken connection — never after
 * a timeout (the member may be slow, not dead, and a retry doubles its load) — and only once
 * per request, so a request that crashes its member is not replayed across the pool.
 */
export function retryVerdict(f: AttemptFailure): RetryVerdict {
  const error = classifyFailure(f.code, f.sent);
  if (error === 'PROXY_BAD_REQUEST') return { retry: false, error };
  const gone = f.code === MEMBER_GONE;
  // A connect error after sending: the request was written on a connection that then broke,
  // and a re-send of it could not reconnect (undici did that for pipelined connections before
  // h1-pipeline.ts). For the request that is the broken connection.
  const broken = gone || RESET_ERRORS.has(f.code) || f.code === PIPELINE_STALLED || (f.sent && CONNECT_ERRORS.has(f.code));
  const safe = !f.sent
    ? broken || CONNECT_ERRORS.has(f.code)
    : broken && !f.hasBody && IDEMPOTENT.has(f.method) && f.sentFailures <= 1;
  if (!safe) {
    // Sent twice, broken twice, bodiless and idempotent: a member dying as we speak (killed,
    // removed: its listen backlog resets too). It is not sent a third time on the spot, but
    // once Docker's event has changed the table it is routed afresh (recreate hold, the new
    // container, 503, 404) instead of a 502 that only says the member was on its way out.
    const dyingMember = f.sent && broken && !f.hasBody && IDEMPOTENT.has(f.method);
    return dyingMember ? { retry: false, error, awaitTable: true } : { retry: false, error };
  }
  // A reset with no answer on a reused keep-alive connection is the classic close race: the
  // member closed the idle connection as the request went out. A fresh connection to the same
  // member is the right retry when the pool has no other member.
  // A request still queued for a pipelined connection that broke is the same case unsent.
  const sameMember = !gone && (f.sent || f.code === PIPELINE_BROKEN) && !f.answered && f.code !== 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH';
  return { retry: true, error, reroute: gone, sameMember };
}
