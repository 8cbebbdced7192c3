// One client request through the pipeline: checks → route → gate → pick → undici dispatch →
// response relay, with at most one retry on another member. The Exchange object is also the
// undici dispatch handler (legacy callback API: raw header Buffers, boolean backpressure), so
// a request costs one object of ours plus what node:http and undici allocate anyway.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { AttemptOutcome, PickContext, ProxyMember, ProxyRoute } from './router.ts';
import { PROXY_ERRORS, type ProxyErrorCode } from './proxy-error.ts';
import type { ProxyState } from './proxy-state.ts';
import { sendProxyError } from './error-response.ts';
import { openTunnel } from './websocket-tunnel.ts';
import { peerOf, upstreamHeaders, responseHeaders, responseContentLength, rejectionCode } from './forwarding.ts';
import { checkRequest } from '../../pkg/http/index.ts';

/** Attempts per request: the first plus one retry on another member. */
const MAX_ATTEMPTS = 2;
const EMPTY: ReadonlySet<string> = new Set();
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
/** Errors that happen before a connection exists: nothing reached the upstream. */
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT']);
/** Errors where the upstream dropped the connection: retried only for idempotent, bodiless requests. */
const RESET_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

/** Symbol under which a client socket points at its current exchange (for the idle timeout). */
export const kExchange = Symbol('bellhop.exchange');
export type ClientSocket = Socket & { [kExchange]?: Exchange | undefined };

class ClientGoneError extends Error {
  readonly code = 'PROXY_CLIENT_GONE';
}

function errCode(err: unknown): string {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : 'UNKNOWN';
}

function classify(code: string): ProxyErrorCode {
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT') return 'PROXY_UPSTREAM_TIMEOUT';
  if (CONNECT_ERRORS.has(code)) return 'PROXY_UPSTREAM_CONNECT';
  if (code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH') return 'PROXY_BAD_REQUEST';
  return 'PROXY_UPSTREAM_RESET';
}

export class Exchange implements Dispatcher.DispatchHandler {
  readonly state: ProxyState;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Captured at start: node:http nulls req.socket once a consumed request is destroyed. */
  readonly socket: ClientSocket;
  readonly start: number;
  readonly isUpgrade: boolean;
  upgradeHead: Buffer | undefined;

  route: ProxyRoute | undefined;
  member: ProxyMember | undefined;
  release: ((o: AttemptOutcome) => void) | undefined;
  setCookie: string | undefined;
  pickCtx: PickContext | undefined;
  headers: string[] = EMPTY_HEADERS;
  path = '/';
  hasBody = false;
  clientIp = '';
  tried: Set<string> | undefined;
  attempts = 0;
  lastError: ProxyErrorCode | undefined;

  abortUpstream: ((err: Error) => void) | undefined;
  /** undici called onConnect: request bytes may have reached the upstream. */
  sent = false;
  /** Final response headers received from the upstream. */
  responded = false;
  gatePending = false;
  clientGone = false;
  done = false;
  bytes = 0;
  /** The upstream's Content-Length (-1: none / chunked): the last chunk ends the response at once. */
  expectBytes = -1;
  resumeUpstream: (() => void) | undefined;
  drainHooked = false;
  tunnelOpen = false;

  constructor(state: ProxyState, req: IncomingMessage, res: ServerResponse, upgradeHead?: Buffer) {
    this.state = state;
    this.req = req;
    this.res = res;
    this.socket = req.socket;
    this.start = performance.now();
    this.isUpgrade = upgradeHead !== undefined;
    this.upgradeHead = upgradeHead;
  }

  /** res 'close': the client went away (or the response finished, then `done` is set). */
  readonly onResClose = (): void => {
    if (this.done || this.tunnelOpen) return;
    this.clientGone = true;
    // finish first: aborting makes undici call onError synchronously
    this.finish(this.res.headersSent ? this.res.statusCode : 499, 'PROXY_CLIENT_GONE');
    this.abortUpstream?.(new ClientGoneError('client closed the connection'));
  };

  run(): void {
    const req = this.req;
    const res = this.res;
    const state = this.state;
    const verdict = checkRequest(req);
    if (!verdict.ok) {
      this.respondError(rejectionCode(verdict.status), true);
      return;
    }
    // `OPTIONS *` passes the shared checks but is about the proxy itself: never forwarded.
    if (verdict.path === '*') {
      this.respondError('PROXY_BAD_REQUEST', true);
      return;
    }
    this.path = verdict.path;
    const route = state.resolver().resolve(verdict.host ?? '');
    if (route === undefined) {
      this.respondError('PROXY_NO_ROUTE', false);
      return;
    }
    this.route = route;
    const peer = peerOf(this.socket, state.trusted);
    if (peer === undefined) {
      // the socket is already closed (no remote address): nothing to answer
      this.clientGone = true;
      this.finish(499, 'PROXY_CLIENT_GONE');
      return;
    }
    const facts = upstreamHeaders(req, peer, state.trusted, route);
    this.headers = facts.headers;
    this.hasBody = facts.hasBody && !this.isUpgrade;
    this.clientIp = facts.clientIp;
    const ctx: PickContext = { clientIp: facts.clientIp, cookieHeader: facts.cookie, secure: facts.secure };
    this.pickCtx = ctx;
    if (route.gate !== undefined) {
      let g: 'proceed' | 'handled' | Promise<'proceed' | 'handled'>;
      try {
        g = route.gate(req, res, ctx);
      } catch (err) {
        this.gateFailed(err);
        return;
      }
      if (typeof g !== 'string') {
        this.gatePending = true;
        g.then((r) => this.afterGate(r), (err: unknown) => this.gateFailed(err));
        return;
      }
      if (g === 'handled') {
        this.handledByGate();
        return;
      }
    }
    this.attempt();
  }

  private afterGate(r: 'proceed' | 'handled'): void {
    this.gatePending = false;
    if (this.done) return;
    if (r === 'handled') this.handledByGate();
    else this.attempt();
  }

  private handledByGate(): void {
    const res = this.res;
    if (res.writableFinished || res.destroyed) this.finish(res.statusCode, undefined);
    else res.once('finish', () => this.finish(res.statusCode, undefined));
  }

  private gateFailed(err: unknown): void {
    this.gatePending = false;
    if (this.done) return;
    this.state.log.warn({ err, route: this.route?.name }, 'wake gate failed');
    this.respondError('PROXY_GATE_FAILED', false, this.route?.retryAfterSec ?? 5);
  }

  private attempt(): void {
    const route = this.route!;
    const pick = route.pick(this.pickCtx!, this.tried ?? EMPTY);
    if (pick === undefined) {
      if (this.lastError !== undefined) this.respondError(this.lastError, false);
      else this.respondError('PROXY_NO_MEMBER', false, route.retryAfterSec ?? 5);
      return;
    }
    const member = pick.member;
    this.member = member;
    this.setCookie = pick.setCookie;
    this.release = route.begin(member.id);
    this.attempts++;
    this.sent = false;
    this.abortUpstream = undefined;
    const pool = this.state.pools.get(member.origin, member.noTlsVerify);
    pool.dispatch({
      path: this.path,
      method: this.req.method as Dispatcher.HttpMethod,
      headers: this.headers,
      body: this.hasBody ? this.req : null,
      upgrade: this.isUpgrade ? 'websocket' : null,
    }, this);
  }

  // ---- undici handler (legacy callback API) ----

  onConnect(abort: (err?: Error) => void): void {
    if (this.clientGone) {
      abort(new ClientGoneError('client closed the connection'));
      return;
    }
    this.abortUpstream = abort;
    this.sent = true;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200 || this.done) return true; // 1xx interim answers are not relayed
    this.responded = true;
    this.resumeUpstream = resume;
    const draining = this.state.draining;
    const sc = this.setCookie;
    let headers: string[];
    try {
      headers = responseHeaders(rawHeaders);
      this.expectBytes = this.req.method === 'HEAD' || statusCode === 204 || statusCode === 304 ? -1 : responseContentLength;
      if (sc !== undefined) headers.push('set-cookie', sc);
      if (draining) headers.push('connection', 'close');
      this.res.writeHead(statusCode, headers);
    } catch (err) {
      // a header value node:http refuses to send: treat as an invalid upstream response
      this.state.log.warn({ err, route: this.route?.name, member: this.member?.name }, 'upstream response header rejected');
      this.responded = false;
      this.abortUpstream?.(err as Error);
      return false;
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.done) return true;
    const bytes = (this.bytes += chunk.length);
    if (bytes === this.expectBytes) {
      // The whole body is here: end() with it writes head and body in one go and skips the
      // separate write + end (small responses are most requests). onComplete follows at once.
      this.finish(this.res.statusCode, undefined);
      this.res.end(chunk);
      return true;
    }
    if (this.res.write(chunk)) return true;
    if (!this.drainHooked) {
      this.drainHooked = true;
      this.res.on('drain', () => this.resumeUpstream?.());
    }
    return false;
  }

  onComplete(): void {
    if (this.done) return;
    const status = this.res.statusCode;
    this.finish(status, undefined);
    this.res.end();
  }

  onError(err: Error): void {
    if (this.done) return;
    const code = errCode(err);
    if (this.socket.destroyed) {
      // the client left (or its request body broke off): not the upstream's fault
      this.clientGone = true;
      this.finish(this.res.headersSent ? this.res.statusCode : 499, 'PROXY_CLIENT_GONE');
      return;
    }
    if (this.responded || this.res.headersSent) {
      // mid-body failure: the client must see a truncated response, never a clean end
      this.finish(this.res.statusCode, code);
      this.res.destroy();
      return;
    }
    const perr = classify(code);
    const notSent = !this.sent;
    const retry = !this.clientGone && this.attempts < MAX_ATTEMPTS && perr !== 'PROXY_BAD_REQUEST' &&
      ((notSent && (CONNECT_ERRORS.has(code) || RESET_ERRORS.has(code))) ||
        (!this.hasBody && IDEMPOTENT.has(this.req.method!) && RESET_ERRORS.has(code)));
    this.callRelease({ ok: perr === 'PROXY_BAD_REQUEST', error: code });
    this.state.log.debug({ route: this.route?.name, member: this.member?.name, err: code, retry }, 'upstream attempt failed');
    if (retry) {
      (this.tried ??= new Set()).add(this.member!.id);
      this.lastError = perr;
      this.attempt();
      return;
    }
    this.respondError(perr, false, undefined, code);
  }

  onUpgrade(statusCode: number, rawHeaders: Buffer[] | string[] | null, upstream: Duplex): void {
    if (this.done || this.clientGone) {
      upstream.destroy();
      return;
    }
    this.responded = true;
    this.tunnelOpen = true;
    const client = this.socket;
    this.res.detachSocket(client);
    openTunnel(this.state, client, upstream, statusCode, rawHeaders ?? [], this.upgradeHead, (bytes) => {
      this.tunnelOpen = false;
      this.bytes = bytes;
      this.finish(101, undefined);
    });
    this.upgradeHead = undefined;
  }

  // ---- endings ----

  /** Answer with one of Bellhop's own errors and end the exchange. */
  respondError(code: ProxyErrorCode, close: boolean, retryAfterSec?: number, upstreamCode?: string): void {
    const res = this.res;
    const status = res.headersSent ? res.statusCode : PROXY_ERRORS[code].status;
    this.finish(status, upstreamCode ?? code);
    if (!res.destroyed) sendProxyError(res, code, this.req.headers.accept, close || this.state.draining, retryAfterSec);
  }

  /** Slow request body: no progress for the idle timeout. */
  bodyTimedOut(): void {
    this.respondError('PROXY_REQUEST_TIMEOUT', true);
    this.abortUpstream?.(new ClientGoneError('request body timed out'));
  }

  private callRelease(o: AttemptOutcome): void {
    const r = this.release;
    if (r === undefined) return;
    this.release = undefined;
    try {
      r(o);
    } catch (err) {
      this.state.log.error({ err, route: this.route?.name }, 'route release threw');
    }
  }

  finish(status: number, error: string | undefined): void {
    if (this.done) return;
    this.done = true;
    const state = this.state;
    this.callRelease(error === undefined || error === 'PROXY_CLIENT_GONE'
      ? { ok: status !== 502 && status !== 503 && status !== 504, status }
      : { ok: false, status, error });
    const socket = this.socket;
    if (socket[kExchange] === this) socket[kExchange] = undefined;
    const durationMs = performance.now() - this.start;
    const routeName = this.route?.name ?? '-';
    const memberName = this.member?.name ?? '-';
    if (state.accessLog) {
      const url = this.req.url ?? '';
      const q = url.indexOf('?');
      state.access.info({
        route: routeName, member: memberName, method: this.req.method, path: q === -1 ? url : url.slice(0, q),
        status, duration_ms: Math.round(durationMs * 1000) / 1000, bytes: this.bytes,
        client: this.clientIp || (peerOf(socket, state.trusted)?.peerIp ?? '-'), err: error,
      }, 'request');
    }
    if (state.onRequestDone !== undefined) {
      try {
        state.onRequestDone({ route: routeName, member: memberName, status, durationMs, bytes: this.bytes });
      } catch (err) {
        state.log.error({ err }, 'onRequestDone hook threw');
      }
    }
    if (state.draining) state.afterDrainingRequest();
  }
}

const EMPTY_HEADERS: string[] = [];
