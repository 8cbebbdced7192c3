// One client request through the pipeline: checks → route → gate → pick → undici dispatch →
// response relay. What to do after a failed attempt (retry elsewhere, route afresh, wait for the
// route table, answer) and how an ending is reported are decided in exchange-policy.ts; this
// file does the I/O. The Exchange object is also the undici dispatch handler (legacy callback
// API: raw header Buffers, boolean backpressure), so a request costs one object of ours plus
// what node:http and undici allocate anyway.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { AttemptOutcome, Pick, PickContext, ProxyMember, ProxyMiddleware, ProxyRequestFacts, ProxyRoute } from './router.ts';
import type { ProxyAnswerCode } from './proxy-errors.ts';
import type { ProxyState } from './proxy-state.ts';
import { proxyErrorStatus, sendProxyError } from './error-response.ts';
import { openTunnel } from './websocket-tunnel.ts';
import { abortResponse } from './h2-request.ts';
import { clientTakesTrailers, peerOf, upstreamHeaders, responseHead, rejectionCode, teHasTrailers, trailerFields, withoutContentLength } from './forwarding.ts';
import { afterFailure, afterTableWait, endingOutcome, nothingToPick, type NextStep } from './exchange-policy.ts';
import { isBrokenConnection, PIPELINE_STALLED } from './retry-policy.ts';
import type { Upstream } from './upstream-pools.ts';
import { checkRequest } from '../../pkg/http/index.ts';

const EMPTY: ReadonlySet<string> = new Set();

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
  /** The member's upstream (pool, pipelined connection, lane) of the current attempt. */
  upstream: Upstream | undefined;
  /** The attempt's ticket on the pipelining lane; 0 when it took the ordinary pool. */
  laneTicket = 0;
  setCookie: string | undefined;
  pickCtx: PickContext | undefined;
  headers: string[] = EMPTY_HEADERS;
  path = '/';
  /** The path as the client sent it: a route's rules may rewrite `path`, a fresh routing starts again from this. */
  clientPath = '/';
  /** Routes entered through rules' `route <alias>` since the last fresh routing (a loop is cut). */
  ruleHops = 0;
  /** Normalised host, kept to resolve the route again. */
  host = '';
  hasBody = false;
  clientIp = '';
  tried: Set<string> | undefined;
  attempts = 0;
  /**
   * Attempts that failed after the request may have reached a member. After one, a single
   * retry elsewhere (idempotent, no body) — never more, whatever the reroutes: a request that
   * crashes its member must not be replayed across the pool.
   */
  sentFailures = 0;
  reroutes = 0;
  lastError: ProxyAnswerCode | undefined;

  abortUpstream: ((err: Error) => void) | undefined;
  /** undici called onConnect: request bytes may have reached the upstream. */
  sent = false;
  /** Final response headers received from the upstream. */
  responded = false;
  /**
   * The upstream's status and headers, written to the client with the first body byte (or the
   * end). Until then nothing is on the wire (node:http sends the head with the first write
   * anyway), so an upstream that fails right after its head still gets the client a 502 or a
   * retry instead of a connection closed without any answer.
   */
  headStatus = 0;
  headHeaders: string[] | undefined;
  /** Waiting on a gate (wake, recreate hold) or on awaitMember: the client is not idle. */
  waiting = false;
  waitAbort: AbortController | undefined;
  clientGone = false;
  done = false;
  bytes = 0;
  /** The upstream's Content-Length (-1: none / chunked): the last chunk ends the response at once. */
  expectBytes = -1;
  resumeUpstream: (() => void) | undefined;
  drainHooked = false;
  tunnelOpen = false;
  /** When the current attempt was dispatched to its member. */
  dispatchedAt = 0;
  /**
   * Upstream latency of the last attempt, for the histogram: dispatch → end of the response,
   * → the 101 for an upgrade, or → the failure of an attempt that reached the member (timeout,
   * reset). Undefined when no member was reached (no route, refused, gate answered, connect
   * error) or the client left first (that measures the client, not the member).
   */
  upstreamMs: number | undefined;
  /** The route's middlewares ran and let the request on; reset when a reroute lands on another route. */
  passedMiddleware = false;
  /** The entrypoint's middlewares ran and let the request on: they never run twice for one request. */
  passedEntry = false;
  /** Upstream headers as the entrypoint chain left them, kept when a reroute lands on another route. */
  entryHeaders: string[] | undefined;
  /** How many of headEdits the entrypoint chain registered (kept on a reroute to another route). */
  entryEdits = 0;
  /** Response-head edits registered by middlewares (`response`), applied in onHeaders. */
  headEdits: Array<(status: number, headers: string[]) => void> | undefined;

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
    this.waitAbort?.abort();
    // finish first: aborting makes undici call onError synchronously
    this.finish(this.res.headersSent ? this.res.statusCode : 499, 'PROXY_CLIENT_GONE');
    this.abortUpstream?.(new ClientGoneError('client closed the connection'));
  };

  run(): void {
    const req = this.req;
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
    this.path = this.clientPath = verdict.path;
    this.host = verdict.host ?? '';
    if (this.resolveRoute(this.host)) this.beforeGate();
  }

  /** Resolve the route for the host and build the upstream head for it; false when answered. */
  private resolveRoute(host: string): boolean {
    const state = this.state;
    const route = state.resolver().resolve(host);
    if (route === undefined) {
      if (state.entryMiddleware !== undefined && !this.passedEntry) this.entryBeforeNoRoute(state.entryMiddleware);
      else this.respondError('PROXY_NO_ROUTE', false);
      return false;
    }
    if (route.refusal !== undefined) {
      // Access control Bellhop cannot apply (docs/labels.md): answered before any gate, so
      // nothing is woken and no member is reached. Checked on every resolve: a route object
      // survives table swaps and may have become refused while a request waited.
      this.route = route;
      this.respondError('PROXY_ROUTE_REFUSED', false, undefined, undefined, route.refusal);
      return false;
    }
    if (route === this.route) return true;
    this.route = route;
    // another route has its own middlewares: they run before its gate (the entrypoint's do not
    // run again; the client address and their header edits stay as decided the first time)
    this.passedMiddleware = false;
    if (this.headEdits !== undefined) this.headEdits.length = this.entryEdits;
    // its rules start from the client's path (rules of the route left behind may have rewritten it)
    this.path = this.clientPath;
    this.ruleHops = 0;
    const peer = peerOf(this.socket, state.trusted);
    if (peer === undefined) {
      // the socket is already closed (no remote address): nothing to answer
      this.clientGone = true;
      this.finish(499, 'PROXY_CLIENT_GONE');
      return false;
    }
    const facts = upstreamHeaders(this.req, peer, state.trusted, route, route.clientIpRule ?? state.entryClientIpRule);
    this.hasBody = facts.hasBody && !this.isUpgrade;
    if (this.entryHeaders === undefined) {
      this.headers = facts.headers;
      this.clientIp = facts.clientIp;
    } else {
      this.headers = [...this.entryHeaders];
      facts.clientIp = this.clientIp;
    }
    // rawHeaders by reference: only a pool with its own real-IP options reads it, in pick()
    this.pickCtx = route.pickReadsHeaders === true
      ? { clientIp: facts.clientIp, cookieHeader: facts.cookie, secure: facts.secure, peerIp: peer.peerIp, rawHeaders: this.req.rawHeaders }
      : { clientIp: facts.clientIp, cookieHeader: facts.cookie, secure: facts.secure };
    return true;
  }

  // ---- middlewares (docs/middlewares.md): entrypoint chain, then the route's, then the gate ----

  /** Runs the entrypoint and route middlewares once; a request they answer never reaches the gate. */
  private beforeGate(): void {
    const entry = this.passedEntry ? undefined : this.state.entryMiddleware;
    const route = this.route!;
    if (this.passedMiddleware || (entry === undefined && route.middleware === undefined)) {
      this.passedEntry = true;
      this.enter();
      return;
    }
    const facts = this.middlewareFacts(this.pickCtx!.secure);
    const routeStep = (): void => {
      if (route.middleware === undefined) this.afterMiddleware();
      else this.runMiddleware((q, s, f) => route.middleware!(q, s, f), facts, () => this.afterMiddleware(facts));
    };
    if (entry === undefined) routeStep();
    else {
      this.runMiddleware(entry, facts, () => {
        this.passedEntry = true;
        // a reroute to another route starts from these, not from the client's own headers
        this.entryHeaders = [...this.headers];
        this.entryEdits = this.headEdits?.length ?? 0;
        routeStep();
      });
    }
  }

  private afterMiddleware(facts?: ProxyRequestFacts): void {
    this.passedMiddleware = true;
    if (facts !== undefined) {
      // the route's rules (docs/rules.md): a rewritten path, or another alias to serve the request
      this.path = facts.path;
      if (facts.routeTo !== undefined) {
        this.ruleRoute(facts.routeTo);
        return;
      }
    }
    this.enter();
  }

  /**
   * Rules' `route <alias>`: the request continues on that alias's route (its middlewares, gate
   * and pool) with the headers and path the rules left; the access log names that route.
   */
  private ruleRoute(alias: string): void {
    const route = this.state.resolver().named?.(alias);
    if (route === undefined) {
      this.respondError('PROXY_RULE_NO_ROUTE', false, undefined, undefined, `A rule of this service sends the request to "${alias}", and no service answers that name`);
      return;
    }
    if (route.refusal !== undefined) {
      this.route = route;
      this.respondError('PROXY_ROUTE_REFUSED', false, undefined, undefined, route.refusal);
      return;
    }
    if (route === this.route) {
      this.enter();
      return;
    }
    if (++this.ruleHops > RULE_HOPS) {
      this.respondError('PROXY_RULE_LOOP', false);
      return;
    }
    this.route = route;
    this.passedMiddleware = false;
    const ctx = this.pickCtx!;
    if (route.pickReadsHeaders === true && ctx.rawHeaders === undefined) {
      this.pickCtx = { ...ctx, peerIp: peerOf(this.socket, this.state.trusted)?.peerIp, rawHeaders: this.req.rawHeaders };
    }
    this.beforeGate();
  }

  /** No route for the host: the entrypoint middlewares still run (a redirect, a rate limit), then 404. */
  private entryBeforeNoRoute(entry: ProxyMiddleware): void {
    const peer = peerOf(this.socket, this.state.trusted);
    if (peer === undefined) {
      this.clientGone = true;
      this.finish(499, 'PROXY_CLIENT_GONE');
      return;
    }
    const f = upstreamHeaders(this.req, peer, this.state.trusted, undefined, this.state.entryClientIpRule);
    this.headers = f.headers;
    this.clientIp = f.clientIp;
    this.runMiddleware(entry, this.middlewareFacts(f.secure), () => {
      this.passedEntry = true;
      this.respondError('PROXY_NO_ROUTE', false);
    });
  }

  private middlewareFacts(secure: boolean): ProxyRequestFacts {
    return {
      clientIp: this.clientIp,
      secure,
      host: this.host,
      path: this.path,
      route: this.route?.name,
      upstreamHeaders: this.headers,
      onResponseHead: (edit) => {
        (this.headEdits ??= []).push(edit);
      },
    };
  }

  private runMiddleware(mw: ProxyMiddleware, facts: ProxyRequestFacts, next: () => void): void {
    let v: ReturnType<ProxyMiddleware>;
    try {
      v = mw(this.req, this.res, facts);
    } catch (err) {
      this.middlewareFailed(err);
      return;
    }
    if (typeof v === 'string') {
      if (v === 'answered') this.handledByGate();
      else next();
      return;
    }
    this.waiting = true;
    v.then((r) => {
      this.waiting = false;
      if (this.done) return;
      if (r === 'answered') this.handledByGate();
      else next();
    }, (err: unknown) => this.middlewareFailed(err)).catch((err: unknown) => this.internalError(err));
  }

  /** A chain must answer its own failures; this is the net under it (fail closed: 500, nothing behind runs). */
  private middlewareFailed(err: unknown): void {
    this.waiting = false;
    if (this.done) return;
    this.state.log.error({ err, route: this.route?.name }, 'middleware failed');
    this.respondError('PROXY_MIDDLEWARE_FAILED', false);
  }

  /** The route's gate (wake on demand, recreate hold), then the first attempt. */
  private enter(): void {
    const route = this.route!;
    if (route.gate !== undefined) {
      let g: 'proceed' | 'handled' | Promise<'proceed' | 'handled'>;
      try {
        g = route.gate(this.req, this.res, this.pickCtx!);
      } catch (err) {
        this.gateFailed(err);
        return;
      }
      if (typeof g !== 'string') {
        this.waiting = true;
        g.then((r) => this.afterGate(r), (err: unknown) => this.gateFailed(err)).catch((err: unknown) => this.internalError(err));
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
    this.waiting = false;
    if (this.done) return;
    if (r === 'handled') this.handledByGate();
    else this.attempt();
  }

  /** A bug on an async path must still answer the client, never leave it hanging. */
  private internalError(err: unknown): void {
    this.waiting = false;
    this.state.log.error({ err, route: this.route?.name }, 'request pipeline failed');
    if (!this.done) this.respondError(this.lastError ?? 'PROXY_UPSTREAM_CONNECT', false);
  }

  private handledByGate(): void {
    const res = this.res;
    if (res.writableFinished || res.destroyed) this.finish(res.statusCode, undefined);
    else res.once('finish', () => this.finish(res.statusCode, undefined));
  }

  private gateFailed(err: unknown): void {
    this.waiting = false;
    if (this.done) return;
    this.state.log.warn({ err, route: this.route?.name }, 'wake gate failed');
    this.respondError('PROXY_GATE_FAILED', false, this.route?.retryAfterSec ?? 5);
  }

  private attempt(): void {
    const route = this.route!;
    const pick = route.pick(this.pickCtx!, this.tried ?? EMPTY);
    if (pick === undefined) {
      const none = nothingToPick(this.lastError);
      this.respondError(none.error, false, none.retryAfter ? route.retryAfterSec ?? 5 : undefined);
      return;
    }
    this.dispatch(pick);
  }

  private dispatch(pick: Pick): void {
    const member = pick.member;
    this.member = member;
    this.setCookie = pick.setCookie;
    this.release = this.route!.begin(member.id, this.req);
    this.attempts++;
    this.dispatchedAt = performance.now();
    this.upstreamMs = undefined;
    this.sent = false;
    this.responded = false;
    this.headHeaders = undefined;
    this.bytes = 0;
    this.abortUpstream = undefined;
    if (member.h2c === true) {
      this.dispatchH2c(member);
      return;
    }
    let upstream;
    try {
      upstream = this.state.pools.get(member.origin, member.noTlsVerify);
    } catch (err) {
      // an origin undici refuses (never expected from the route table): not the client's fault
      this.state.log.error({ err, route: this.route?.name, member: member.name, origin: member.origin }, 'bad member origin');
      this.callRelease({ ok: false, error: 'PROXY_BAD_ORIGIN' });
      this.respondError('PROXY_UPSTREAM_CONNECT', false, undefined, 'PROXY_BAD_ORIGIN');
      return;
    }
    this.upstream = upstream;
    // Pipelining (pipeline-lane.ts): GET/HEAD without a body, first attempt only, when the lane is open.
    const method = this.req.method;
    const lane = upstream.lane;
    const slot = this.attempts === 1 && !this.hasBody && !this.isUpgrade && (method === 'GET' || method === 'HEAD') && member.pipelining !== false && !lane.isSlow(pathOnly(this.path)) ? lane.pick() : -1;
    if (slot !== -1) {
      this.laneTicket = lane.enter(slot);
      upstream.pipelined(slot).dispatch({ path: this.path, method: method as 'GET' | 'HEAD', headers: this.headers }, this);
      return;
    }
    this.laneTicket = 0;
    upstream.pool.dispatch({
      path: this.path,
      method: method as Dispatcher.HttpMethod,
      headers: this.headers,
      body: this.hasBody ? this.req : null,
      upgrade: this.isUpgrade ? 'websocket' : null,
    }, this);
  }

  /**
   * An h2c member (h2c-upstream.ts): HTTP/2 multiplexes, so never the pipelining lane. `TE:
   * trailers` is the one TE HTTP/2 allows (RFC 9113 §8.2.2): it reaches the member when the
   * client sent it (gRPC servers may insist on it).
   */
  private dispatchH2c(member: ProxyMember): void {
    this.upstream = undefined;
    this.laneTicket = 0;
    if (this.isUpgrade) {
      // a websocket over HTTP/2 needs extended CONNECT (RFC 8441), which Bellhop does not speak upstream
      this.callRelease({ ok: false, error: 'PROXY_BAD_ORIGIN', noVerdict: true });
      this.respondError('PROXY_UPSTREAM_CONNECT', false, undefined, 'H2C_NO_WEBSOCKET');
      return;
    }
    let h2c;
    try {
      h2c = this.state.pools.h2c(member.origin);
    } catch (err) {
      this.state.log.error({ err, route: this.route?.name, member: member.name, origin: member.origin }, 'bad member origin');
      this.callRelease({ ok: false, error: 'PROXY_BAD_ORIGIN' });
      this.respondError('PROXY_UPSTREAM_CONNECT', false, undefined, 'PROXY_BAD_ORIGIN');
      return;
    }
    const te = this.req.headers.te;
    h2c.dispatch({
      path: this.path,
      method: this.req.method!,
      headers: teHasTrailers(te) ? [...this.headers, 'te', 'trailers'] : this.headers,
      body: this.hasBody ? this.req : null,
    }, this);
  }

  // ---- undici handler (legacy callback API) ----

  onConnect(abort: (err?: Error) => void): void {
    if (this.clientGone) {
      abort(new ClientGoneError('client closed the connection'));
      return;
    }
    // Written again on a new connection in the same attempt: undici re-sends the requests
    // queued behind one that aborted its pipelined connection. That is a send after a failed
    // one, and counts as such: never a third time.
    if (this.sent) this.sentFailures++;
    this.abortUpstream = abort;
    this.sent = true;
  }

  onHeaders(statusCode: number, rawHeaders: readonly (Buffer | string)[], resume: () => void): boolean {
    if (statusCode < 200 || this.done) return true; // 1xx interim answers are not relayed
    this.responded = true;
    this.resumeUpstream = resume;
    const head = responseHead(rawHeaders);
    this.upstream?.lane.answered(!head.close, this.laneTicket);
    const headers = head.headers;
    // h2c: trailers may follow a body of stated length, so the end is onComplete's, not the last byte's
    this.expectBytes = this.req.method === 'HEAD' || statusCode === 204 || statusCode === 304 || this.member?.h2c === true ? -1 : head.contentLength;
    if (this.setCookie !== undefined) headers.push('set-cookie', this.setCookie);
    if (this.state.draining) headers.push('connection', 'close');
    if (this.headEdits !== undefined) for (const edit of this.headEdits) edit(statusCode, headers);
    this.headStatus = statusCode;
    this.headHeaders = headers;
    return true;
  }

  /** Writes the upstream's head (deferred from onHeaders); false when node:http refused it. */
  private writeHead(): boolean {
    const headers = this.headHeaders!;
    this.headHeaders = undefined;
    try {
      this.res.writeHead(this.headStatus, headers);
      return true;
    } catch (err) {
      // a header value node:http refuses to send: treat as an invalid upstream response
      this.state.log.warn({ err, route: this.route?.name, member: this.member?.name }, 'upstream response header rejected');
      this.responded = false;
      this.abortUpstream?.(err as Error);
      return false;
    }
  }

  onData(chunk: Buffer): boolean {
    if (this.done) return true;
    if (this.headHeaders !== undefined && !this.writeHead()) return false;
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

  onComplete(trailers?: readonly (Buffer | string)[] | Readonly<Record<string, string | string[] | undefined>> | null): void {
    if (this.done) return;
    if (this.headHeaders !== undefined && !this.writeHead()) return;
    if (trailers != null) this.relayTrailers(trailers);
    const status = this.res.statusCode;
    this.finish(status, undefined);
    this.res.end();
  }

  /** gRPC's grpc-status / grpc-message and other trailers, to a client that takes them. */
  private relayTrailers(trailers: readonly (Buffer | string)[] | Readonly<Record<string, string | string[] | undefined>>): void {
    if (!clientTakesTrailers(this.req)) return;
    const fields = trailerFields(trailers);
    if (fields === undefined) return;
    try {
      this.res.addTrailers(fields);
    } catch (err) {
      this.state.log.warn({ err, route: this.route?.name, member: this.member?.name }, 'upstream trailer rejected');
    }
  }

  onError(err: Error): void {
    if (this.done) return;
    const code = errCode(err);
    // the attempt reached the member and failed there (timeout, reset): that took this long
    if (this.sent) this.upstreamMs = performance.now() - this.dispatchedAt;
    if (this.socket.destroyed) {
      // the client left (or its request body broke off): not the upstream's fault
      this.clientGone = true;
      this.finish(this.res.headersSent ? this.res.statusCode : 499, 'PROXY_CLIENT_GONE');
      return;
    }
    if (this.res.headersSent) {
      // mid-body failure: the client must see a truncated response, never a clean end
      this.finish(this.res.statusCode, code);
      abortResponse(this.res);
      return;
    }
    if (code === LENGTH_MISMATCH && this.headHeaders !== undefined && (this.headStatus === 204 || this.headStatus === 304)) {
      // RFC 9110 §8.6: a 304 may state the representation's Content-Length without a body;
      // undici exempts only HEAD from its length check. The answer is complete: relay it.
      if (this.headStatus === 204) this.headHeaders = withoutContentLength(this.headHeaders);
      if (!this.writeHead()) return;
      this.finish(this.headStatus, undefined);
      this.res.end();
      return;
    }
    // Nothing reached the client yet (a head from the upstream is still held back): answer or retry.
    const answered = this.headHeaders !== undefined;
    this.responded = false;
    this.headHeaders = undefined;
    if (this.sent) this.sentFailures++;
    const route = this.route!;
    const ctx = this.pickCtx!;
    const tried = (this.tried ??= new Set()).add(this.member!.id);
    const decision = afterFailure(
      { code, sent: this.sent, answered, method: this.req.method!, hasBody: this.hasBody, sentFailures: this.sentFailures },
      { attempts: this.attempts, reroutes: this.reroutes, canAwaitTable: route.awaitMember !== undefined, clientGone: this.clientGone },
      { another: () => route.pick(ctx, tried), any: () => route.pick(ctx, EMPTY) },
    );
    this.callRelease(decision.outcome);
    this.lastError = decision.error;
    this.state.log.debug({ route: route.name, member: this.member?.name, err: code, next: decision.next.step }, 'upstream attempt failed');
    this.take(decision.next, code);
  }

  /** Carry out the policy's next step; `code` is the upstream failure the access log shows. */
  private take(next: NextStep<Pick>, code: string): void {
    switch (next.step) {
      case 'answer':
        this.respondError(next.error, false, undefined, code);
        return;
      case 'dispatch':
        this.dispatch(next.pick);
        return;
      case 'reroute':
        this.reroute();
        return;
      case 'await-table':
        this.awaitTable(code);
    }
  }

  /**
   * Nothing left to try: ask the route to wait briefly for the table to change (a container
   * that died is refused or unreachable before Docker's event removes it), then route again.
   */
  private awaitTable(code: string): void {
    const ac = new AbortController();
    this.waitAbort = ac;
    this.waiting = true;
    this.route!.awaitMember!(this.tried ?? EMPTY, ac.signal).then((changed) => {
      this.waitAbort = undefined;
      this.waiting = false;
      if (!this.done) this.take(afterTableWait(changed, this.reroutes, this.lastError!), code);
    }).catch((err: unknown) => this.internalError(err));
  }

  /** Route the request afresh: resolve the host, run the gate, pick with a clean slate. */
  private reroute(): void {
    this.reroutes++;
    this.tried = undefined;
    this.attempts = 0;
    // after a fresh routing, "nothing usable" means 503 + Retry-After, not the old member's 502
    this.lastError = undefined;
    if (this.resolveRoute(this.host)) this.beforeGate();
  }

  onUpgrade(statusCode: number, rawHeaders: Buffer[] | string[] | null, upstream: Duplex): void {
    if (this.done || this.clientGone) {
      upstream.destroy();
      return;
    }
    this.responded = true;
    this.tunnelOpen = true;
    // a tunnel lives for minutes or hours: the member's latency is the time to its 101
    this.upstreamMs = performance.now() - this.dispatchedAt;
    const client = this.socket;
    this.res.detachSocket(client);
    openTunnel(this.state, client, upstream, statusCode, rawHeaders ?? [], this.upgradeHead, (bytes) => {
      this.tunnelOpen = false;
      this.bytes = bytes;
      this.finish(101, undefined);
    }, this.setCookie);
    this.upgradeHead = undefined;
  }

  // ---- endings ----

  /** Answer with one of Bellhop's own errors and end the exchange. */
  respondError(code: ProxyAnswerCode, close: boolean, retryAfterSec?: number, upstreamCode?: string, message?: string): void {
    const res = this.res;
    const status = res.headersSent ? res.statusCode : proxyErrorStatus(code);
    this.finish(status, upstreamCode ?? code);
    if (!res.destroyed) sendProxyError(res, code, this.req.headers.accept, close || this.state.draining, retryAfterSec, message);
  }

  /** Slow request body: no progress for the idle timeout. */
  bodyTimedOut(): void {
    this.respondError('PROXY_REQUEST_TIMEOUT', true);
    this.abortUpstream?.(new ClientGoneError('request body timed out'));
  }

  private callRelease(o: AttemptOutcome): void {
    const u = this.upstream;
    // a request rescued from a stalled pipeline waited on another's answer, not on its path
    if (u !== undefined && !this.isUpgrade && o.error !== PIPELINE_STALLED) {
      const method = this.req.method;
      if (method === 'GET' || method === 'HEAD') u.lane.took(pathOnly(this.path), performance.now() - this.dispatchedAt);
    }
    if (this.laneTicket !== 0) {
      // a broken pipelined connection takes the member off the lane for a while
      this.upstream!.lane.leave(this.laneTicket, !o.ok && isBrokenConnection(o.error));
      this.laneTicket = 0;
    }
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
    this.callRelease(endingOutcome(status, error));
    const socket = this.socket;
    if (socket[kExchange] === this) socket[kExchange] = undefined;
    const now = performance.now();
    const durationMs = now - this.start;
    if (this.clientGone) this.upstreamMs = undefined;
    else if (this.responded && this.upstreamMs === undefined) this.upstreamMs = now - this.dispatchedAt;
    const routeName = this.route?.name ?? '-';
    const memberName = this.member?.name ?? '-';
    // the line's object is built only when the access logger writes info lines (log_level
    // warn and above: nothing per request)
    if (state.accessLog && state.access.isLevelEnabled('info')) {
      const url = this.req.url ?? '';
      const q = url.indexOf('?');
      state.access.info({
        route: routeName, member: memberName, method: this.req.method, path: q === -1 ? url : url.slice(0, q),
        status, duration_ms: Math.round(durationMs * 1000) / 1000, bytes: this.bytes,
        client: this.clientIp || (peerOf(socket, state.trusted)?.peerIp ?? '-'), err: error,
      }, 'request');
    }
    // access_log (docs/access-log.md): the entrypoint's, then the route's; each only queues
    state.requestLog?.(this, status);
    this.route?.accessLog?.(this, status);
    if (state.onRequestDone !== undefined) {
      try {
        state.onRequestDone({ route: routeName, member: memberName, status, durationMs, upstreamMs: this.upstreamMs, bytes: this.bytes });
      } catch (err) {
        state.log.error({ err }, 'onRequestDone hook threw');
      }
    }
    if (state.draining) state.afterDrainingRequest();
  }
}

const EMPTY_HEADERS: string[] = [];
/** Rules' `route` commands followed for one request before it is answered PROXY_RULE_LOOP. */
const RULE_HOPS = 4;

/** The path of an origin-form target without its query (pipelining remembers slow paths). */
function pathOnly(target: string): string {
  const q = target.indexOf('?');
  return q === -1 ? target : target.slice(0, q);
}
const LENGTH_MISMATCH = 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH';
