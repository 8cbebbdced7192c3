// The narrow surface the proxy consumes from routing, balancing, health and wake. The proxy
// never imports those modules: the composition root adapts them to these interfaces.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClientIpRule } from '../../pkg/realip/index.ts';
import type { Socket } from 'node:net';
import type { RequestFacts } from '../middleware/index.ts';

/** One upstream the proxy may forward to. */
export interface ProxyMember {
  /** Stable key (container ID or `file:<route>/<name>`); used for `tried` sets and begin(). */
  id: string;
  /** Display name for logs and metrics. */
  name: string;
  /** `http://ip:port` or `https://ip:port`; never a path. */
  origin: string;
  /** Skip certificate checks for an https origin. */
  noTlsVerify: boolean;
  /** false: never pipeline requests to this member (docs/proxy.md, "Pipelining"); default on when safe. */
  pipelining?: boolean | undefined;
  /** `scheme: h2c`: HTTP/2 with prior knowledge over cleartext (h2c-upstream.ts); `origin` stays `http://`. */
  h2c?: boolean | undefined;
}

/** What a selector may look at. */
export interface PickContext {
  /** Real client IP (trusted-proxy aware, IPv4-mapped IPv6 normalised). */
  clientIp: string;
  /** The request's Cookie header (all lines joined), for sticky tokens. */
  cookieHeader: string | undefined;
  /** The client connection is TLS or a trusted proxy said `X-Forwarded-Proto: https`. */
  secure: boolean;
  /** The socket peer's canonical address; only for a route with `pickReadsHeaders`. */
  peerIp?: string | undefined;
  /** The request's `rawHeaders`, by reference (never copied); only for a route with `pickReadsHeaders`. */
  rawHeaders?: readonly string[] | undefined;
}

/** A chosen member, plus a Set-Cookie value to add to the response (sticky). */
export interface Pick {
  member: ProxyMember;
  setCookie?: string | undefined;
}

/** Outcome of one attempt on one member, reported exactly once through begin()'s release. */
export interface AttemptOutcome {
  ok: boolean;
  status?: number | undefined;
  error?: string | undefined;
  /** The client's own fault (slow or malformed request): says nothing about the member's health. */
  noVerdict?: boolean | undefined;
}

/** A route as the proxy sees it. */
export interface ProxyRoute {
  readonly name: string;
  /** Next candidate in preference order, skipping ids in `tried`; undefined → nothing usable. */
  pick(ctx: PickContext, tried: ReadonlySet<string>): Pick | undefined;
  /**
   * Called when a request (or websocket) starts on a member; returns a release function the
   * proxy calls exactly once with the outcome (least-conn counters, passive health, idle clock).
   * `req` is the client request that passed gate(): the idle clock may leave it out (uptime
   * monitors, proxy.idle_ignore). Passed by reference; nothing is allocated for it.
   */
  begin(memberId: string, req?: IncomingMessage): (outcome: AttemptOutcome) => void;
  /**
   * Optional gate before picking (wake on demand): 'proceed' to continue, 'handled' when the
   * gate answered the response itself (loading page, 403, 503). May be async (held request).
   * For websocket upgrades `res` is a ServerResponse bound to the raw socket.
   */
  gate?(req: IncomingMessage, res: ServerResponse, ctx: PickContext): 'proceed' | 'handled' | Promise<'proceed' | 'handled'>;
  /**
   * Optional: an attempt failed in a way that is safe to repeat (nothing reached the member, or
   * an idempotent request without a body was reset) and no other member is left to try. Resolve
   * `true` as soon as trying again is worth it (a member not in `tried` became usable, a tried
   * member left, stopped or changed address, the route left the table): the proxy then resolves
   * the route again (gate included) and retries. Resolve `false` when nothing changed within the
   * route's own bound: the client gets the failure. `signal` aborts when the client leaves.
   * Typical case: a container died and Docker's event has not reached the route table yet.
   */
  awaitMember?(tried: ReadonlySet<string>, signal: AbortSignal): Promise<boolean>;
  /** Remove our own (sticky) cookie from a Cookie header line; undefined/'' drops the line. */
  upstreamCookie?(cookieHeader: string): string | undefined;
  /**
   * pick() reads the client address from the request itself (an iphash pool with its own
   * `load_balance.options`): the proxy then adds `peerIp` and `rawHeaders` to the PickContext.
   * Other routes get neither, so they pay nothing for the feature.
   */
  readonly pickReadsHeaders?: boolean | undefined;
  /**
   * Set when the route refuses service (access control Bellhop cannot apply yet): every request
   * gets 503 PROXY_ROUTE_REFUSED with this sentence as its message, before the gate, pick or
   * any upstream. It names label keys, never their values.
   */
  readonly refusal?: string | undefined;
  /** Seconds for Retry-After when nothing is usable (default 5). */
  retryAfterSec?: number | undefined;
  /**
   * The route's real_ip / cloudflare_real_ip (docs/client-ip.md): who the client is, decided
   * when the request is read, before any middleware, pick or log line; undefined: the
   * entrypoint's rule (its own real_ip, else trusted_proxies).
   */
  readonly clientIpRule?: ClientIpRule | undefined;
  /**
   * Optional middleware chain (docs/middlewares.md), run once per request after the route is
   * resolved (and not refused) and before the gate: 'answered' means `res` is done and nothing
   * behind runs: no wake, no member, no idle-clock activity. Must not throw (answers 5xx itself).
   */
  middleware?(req: IncomingMessage, res: ServerResponse, facts: ProxyRequestFacts): 'continue' | 'answered' | Promise<'continue' | 'answered'>;
  /** The route's `access_log` (docs/access-log.md); absent when it has none (nothing is built per request). */
  readonly accessLog?: RequestLogHook | undefined;
}

/** A finished request as an access log reads it: the exchange itself, never a copy. */
export interface LoggedRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly socket: Socket;
  /** performance.now() when the request arrived. */
  readonly start: number;
  /** Real client IP; '' when the request ended before it was worked out. */
  readonly clientIp: string;
  /** Routing host (lower case, no port); '' when unknown. */
  readonly host: string;
  /** Response body bytes relayed from the member. */
  readonly bytes: number;
  /** The member's response head arrived (false: Bellhop answered itself). */
  readonly responded: boolean;
}

/** Told once per finished request, synchronously: it must only queue (docs/access-log.md). */
export type RequestLogHook = (done: LoggedRequest, status: number) => void;

/** What a middleware chain sees of a request: internal/middleware's own contract, not a copy of it. */
export type ProxyRequestFacts = RequestFacts;

/** A chain run for every request before routing (`entrypoint.middlewares`); same contract as ProxyRoute.middleware. */
export type ProxyMiddleware = (req: IncomingMessage, res: ServerResponse, facts: ProxyRequestFacts) => 'continue' | 'answered' | Promise<'continue' | 'answered'>;

/** Host → route. The host is already normalised (lower case, no port, no trailing dot). */
export interface RouteResolver {
  resolve(host: string): ProxyRoute | undefined;
  /** A route by its name or one of its aliases (rules' `route <alias>`, docs/rules.md); cheap (a Map get, else a host lookup). */
  named?(alias: string): ProxyRoute | undefined;
}
