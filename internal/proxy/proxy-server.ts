// The node:http entrypoint: server options that close Node's exhaustion holes, the request
// and upgrade entry points, the idle/slow-client policy and graceful drain.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { ListenAddress } from '../config/index.ts';
import type { ProxyMiddleware, RequestLogHook, RouteResolver } from './router.ts';
import type { ProxyState, RequestDoneInfo } from './proxy-state.ts';
import { parseTrustedProxies, type ClientIpRule, type TrustedProxies } from '../../pkg/realip/index.ts';
import { isWebSocketUpgrade, MAX_HEADER_LINES, normaliseHost } from '../../pkg/http/index.ts';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { createHttpsEntry, type HttpsEntry, type HttpsSource } from './https-entry.ts';
import { adaptH2, addHsts } from './h2-request.ts';
import { listenOn } from './listen-on.ts';
import { UpstreamPools } from './upstream-pools.ts';
import { OFF_MS } from './pipeline-lane.ts';
import { Exchange, kExchange, type ClientSocket } from './exchange.ts';
import { rawProxyError } from './error-response.ts';

const http = process.getBuiltinModule('node:http');

/** entrypoint.timeouts, in milliseconds. */
export interface ProxyTimeouts {
  /** A client must finish sending its request head within this. */
  headerMs: number;
  /** Keep-alive idle, and the no-progress limit on request bodies and slow readers. */
  idleMs: number;
  upstreamConnectMs: number;
  /** Time to the upstream's response headers. */
  upstreamResponseMs: number;
  /** Graceful shutdown deadline; websockets and stragglers are closed then. */
  drainMs: number;
}

export interface ProxyServerOptions {
  /** Returns the current route resolver; read once per request (the caller swaps it). */
  resolver: () => RouteResolver;
  /** CIDRs/IPs whose forwarding headers are believed (`entrypoint.trusted_proxies`), or a compiled pkg/realip set. */
  trustedProxies: readonly string[] | TrustedProxies;
  timeouts: ProxyTimeouts;
  logger: Logger;
  /** One info line per request under `module: "access"`. */
  accessLog: boolean;
  /** `entrypoint.access_log` (docs/access-log.md); replace with setRequestLog. */
  requestLog?: RequestLogHook | undefined;
  /** Called once per finished request (metrics). */
  onRequestDone?: ((info: RequestDoneInfo) => void) | undefined;
  /** `entrypoint.middlewares` compiled into one chain (docs/middlewares.md); replace with setEntryMiddleware. */
  entryMiddleware?: ProxyMiddleware | undefined;
  /** The entrypoint's real_ip / cloudflare_real_ip (docs/client-ip.md); replaced with setEntryMiddleware. */
  entryClientIpRule?: ClientIpRule | undefined;
}

/** What the entrypoints do about HTTPS (docs/https.md); replaced on hot reload. */
export interface HttpsPolicy {
  /** entrypoint.redirect_http: plain-HTTP requests for a host with a certificate get a 308. */
  redirectHttp: boolean;
  /** entrypoint.hsts: Strict-Transport-Security on HTTPS answers; '' for none. */
  hsts: string;
  /** The HTTPS port clients use (the redirect's target; 443 is left out of the URL). */
  publicPort: number;
  /** A certificate covers this routing host (lower case, no port). */
  covers(host: string): boolean;
  /** ACME HTTP-01: the key authorization for a token being validated now. */
  httpChallenge?(token: string): string | undefined;
}

const ACME_CHALLENGE_PATH = '/.well-known/acme-challenge/';

export interface ProxyServer {
  readonly server: Server;
  /**
   * Opens the HTTPS entrypoint on a parsed address (config's `entrypoint.https`): SNI picks
   * the certificate from `source`, ALPN picks HTTP/2 or HTTP/1.1; both run the same pipeline.
   */
  listenHttps(addr: ListenAddress, source: HttpsSource): Promise<AddressInfo>;
  /** Sets redirect_http, hsts and the ACME HTTP-01 responder; undefined: HTTPS is off. */
  setHttpsPolicy(policy: HttpsPolicy | undefined): void;
  /** Replaces the entrypoint middleware chain (hot reload); undefined: none. Requests already past it are not affected. */
  setEntryMiddleware(mw: ProxyMiddleware | undefined, clientIpRule?: ClientIpRule): void;
  /** Replaces the `entrypoint.access_log` hook (hot reload); undefined: off. */
  setRequestLog(hook: RequestLogHook | undefined): void;
  /** `":80"`, `"127.0.0.1:8080"`, `"[::1]:80"` or `{ host, port }` (port 0 = any). */
  /** Listens on a parsed address (config's `entrypoint.http`; port 0 picks a free port). */
  listen(addr: ListenAddress): Promise<AddressInfo>;
  /** Stop accepting; in-flight requests finish with `Connection: close`; websockets and stragglers are closed at the drain deadline. */
  drain(): Promise<void>;
  /** Close everything now. */
  close(): Promise<void>;
  /**
   * Close the upstream pool of a member that disappeared. In-flight requests finish first,
   * unless `abort` (the member is dead: its container stopped or went away): then every request
   * still waiting on it is routed again at once (another member, a recreate hold, 503 or 404)
   * when that is safe, else answered 502; responses already streaming are cut.
   */
  forgetOrigin(origin: string, opts?: { abort?: boolean }): void;
  /** Origins with a live upstream pool. */
  upstreamOrigins(): string[];
  /**
   * Replaces `entrypoint.trusted_proxies` (hot reload): requests that start afterwards, on new
   * and kept-alive connections alike, are judged by the new set. Throws RealIpError naming a
   * bad entry, leaving the current set in place.
   */
  setTrustedProxies(list: readonly string[] | TrustedProxies): void;
}

/**
 * node:http is writing (or about to write) a response on this socket: it sets `_httpMessage`
 * when a ServerResponse takes the socket and clears it when that response is done.
 */
function hasResponseInProgress(socket: Duplex): boolean {
  const m = (socket as Duplex & { _httpMessage?: unknown })._httpMessage;
  return m !== undefined && m !== null;
}

export function createProxyServer(opts: ProxyServerOptions): ProxyServer {
  const t = opts.timeouts;
  const log = opts.logger.child({ module: 'proxy' });
  // parseTrustedProxies throws RealIpError (REALIP_BAD_TRUSTED_PROXY) naming a bad entry
  const compileTrusted = (list: readonly string[] | TrustedProxies): TrustedProxies =>
    Array.isArray(list) ? parseTrustedProxies(list as readonly string[]) : list as TrustedProxies;
  const trusted = compileTrusted(opts.trustedProxies);
  const pools = new UpstreamPools(
    { connectMs: t.upstreamConnectMs, responseMs: t.upstreamResponseMs, bodyIdleMs: t.idleMs },
    (origin, err) => log.debug({ origin, err }, 'upstream connection error'),
    // once per stop, never per request: a member that keeps breaking its pipelined connections
    // (docs/proxy.md, Pipelining) shows here, and `no_pipelining: true` is the way out
    (origin) => log.info({ origin, offForMs: OFF_MS }, 'pipelining to the member paused: a pipelined connection broke or closed early'),
  );

  const server = http.createServer({
    // Small answers go out at once instead of waiting for Nagle's timer, and a 64 KiB buffer
    // (Node's default is 16 KiB) lets larger bodies move in fewer writes (issue-18 bench).
    noDelay: true,
    highWaterMark: 64 * 1024,
    headersTimeout: t.headerMs,
    // requestTimeout covers the whole request and would kill long, progressing uploads; the
    // per-socket idle timeout below is the no-progress limit instead.
    requestTimeout: 0,
    keepAliveTimeout: t.idleMs,
    // Node checks headersTimeout only this often (default 30 s, so slowloris got ~90 s).
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(t.headerMs / 4))),
    requireHostHeader: true,
    insecureHTTPParser: false,
    // Requests without Content-Length / Transfer-Encoding have no body (RFC 9112 §6.3): Node
    // skips their readable-stream life cycle (fewer events and ticks per GET).
    optimizeEmptyRequests: true,
    // Only websocket is tunnelled; other Upgrade values (h2c) are served as plain requests with
    // the Upgrade header removed.
    shouldUpgradeCallback: (req) => isWebSocketUpgrade(req.method, req.rawHeaders),
  });
  server.timeout = t.idleMs;
  // Counting lines ourselves (431 above MAX_HEADER_LINES) needs Node to keep more than that.
  server.maxHeadersCount = MAX_HEADER_LINES * 4;

  let drainPromise: Promise<void> | undefined;
  /** Upgrade requests not yet tunnelled or answered (waiting on a gate or the member). */
  const upgrading = new Set<Socket>();
  let idleSweep: NodeJS.Immediate | undefined;
  const state: ProxyState = {
    resolver: opts.resolver,
    trusted,
    entryMiddleware: opts.entryMiddleware,
    entryClientIpRule: opts.entryClientIpRule,
    pools,
    log,
    access: opts.logger.child({ module: 'access' }),
    accessLog: opts.accessLog,
    requestLog: opts.requestLog,
    onRequestDone: opts.onRequestDone,
    draining: false,
    tunnels: new Set<Duplex>(),
    afterDrainingRequest(): void {
      // a keep-alive response that started before the drain leaves an idle socket behind
      idleSweep ??= setImmediate(() => {
        idleSweep = undefined;
        server.closeIdleConnections();
      });
    },
  };

  let https: HttpsEntry | undefined;
  let policy: HttpsPolicy | undefined;

  /** ACME HTTP-01 answers and the redirect to HTTPS, before any routing; true when answered. */
  function answeredForHttps(p: HttpsPolicy, req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url ?? '';
    if (url.startsWith(ACME_CHALLENGE_PATH)) {
      // never redirected: the CA validates over plain HTTP; an unknown token is routed as usual
      const key = p.httpChallenge?.(url.slice(ACME_CHALLENGE_PATH.length));
      if (key === undefined) return false;
      res.writeHead(200, ['content-type', 'text/plain', 'content-length', String(Buffer.byteLength(key)), 'cache-control', 'no-store']);
      res.end(key);
      return true;
    }
    if (!p.redirectHttp || url.charCodeAt(0) !== 47 /* '/' */) return false;
    const host = normaliseHost(req.headers.host);
    if (host === undefined || !p.covers(host)) return false;
    const location = `https://${host}${p.publicPort === 443 ? '' : `:${String(p.publicPort)}`}${url}`;
    // 308 keeps the method and body (a POST stays a POST), unlike 301/302
    res.writeHead(308, ['location', location, 'content-length', '0', 'cache-control', 'no-store']);
    res.end();
    return true;
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const p = policy;
    if (p !== undefined) {
      if ((req.socket as { encrypted?: boolean }).encrypted === true) {
        if (p.hsts !== '') addHsts(res, p.hsts);
      } else if (answeredForHttps(p, req, res)) return;
    }
    const ex = new Exchange(state, req, res);
    (req.socket as ClientSocket)[kExchange] = ex;
    res.on('close', ex.onResClose);
    ex.run();
  });

  /** HTTP/2 requests: made to look like HTTP/1.1's (h2-request.ts), then the same Exchange. */
  function onH2Request(req: Http2ServerRequest, res: Http2ServerResponse): void {
    adaptH2(req, res);
    const p = policy;
    if (p !== undefined && p.hsts !== '') addHsts(res, p.hsts);
    const ex = new Exchange(state, req as unknown as IncomingMessage, res as unknown as ServerResponse);
    res.on('close', ex.onResClose);
    ex.run();
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const s = socket as Socket;
    s.on('error', () => s.destroy());
    if (hasResponseInProgress(s)) {
      // An upgrade pipelined behind a request still being answered: the socket is not ours to
      // take over (node:http would throw ERR_HTTP_SOCKET_ASSIGNED). Refuse by closing it.
      s.destroy();
      return;
    }
    // Until it is a tunnel (state.tunnels) or answered, the drain deadline must reach it too.
    upgrading.add(s);
    s.once('close', () => upgrading.delete(s));
    // A ServerResponse on the raw socket lets gates and non-101 answers use the normal path.
    const res = new http.ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(s);
    res.once('finish', () => {
      if (!s.destroyed) s.end();
    });
    const ex = new Exchange(state, req, res, head);
    (s as ClientSocket)[kExchange] = ex;
    res.on('close', ex.onResClose);
    ex.run();
  });

  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => socket.destroy());
    // Pipelined behind a request still being answered: a raw 405 would land inside that answer.
    if (hasResponseInProgress(socket)) socket.destroy();
    else socket.end(rawProxyError('PROXY_METHOD_NOT_ALLOWED'), 'latin1');
  });

  server.on('timeout', (socket: Socket) => {
    const ex = (socket as ClientSocket)[kExchange];
    if (ex !== undefined && !ex.done) {
      // Waiting on a gate (wake, recreate hold), for a member, or on the upstream with the body
      // fully read and nothing relayed yet: the upstream timeouts govern, the client is not slow.
      if (ex.waiting || (!ex.res.headersSent && ex.req.complete)) {
        socket.setTimeout(t.idleMs);
        return;
      }
      if (!ex.res.headersSent) {
        ex.bodyTimedOut();
        socket.setTimeout(t.idleMs, () => socket.destroy());
        return;
      }
    }
    socket.destroy();
  });

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    // Node's default answers, kept: 431 for oversized heads, 408 for header timeouts, 400 otherwise.
    // Not while a response is being written on this connection (a bad chunk mid-upload, a bad
    // pipelined request): raw bytes there would corrupt that response; closing is the answer.
    if (socket.writable && !(socket as Socket).destroyed && !hasResponseInProgress(socket)) {
      const code = err.code;
      const status = code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large'
        : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`, 'latin1');
    }
    socket.destroy();
    log.debug({ err: err.code ?? err.message }, 'client error');
  });

  server.on('error', (err) => log.error({ err }, 'proxy server error'));

  function destroyTunnels(): void {
    for (const s of state.tunnels) s.destroy();
    state.tunnels.clear();
    for (const s of upgrading) s.destroy();
    upgrading.clear();
  }

  return {
    server,
    async listenHttps(addr, source) {
      https ??= createHttpsEntry({ h1: server, onH2Request, source, headerMs: t.headerMs, idleMs: t.idleMs, log });
      return https.listen(addr);
    },
    setEntryMiddleware(mw, clientIpRule) {
      state.entryMiddleware = mw;
      state.entryClientIpRule = clientIpRule;
    },
    setRequestLog(hook) {
      state.requestLog = hook;
    },
    setHttpsPolicy(p) {
      policy = p;
    },
    listen: (addr) => listenOn(server, addr),
    drain() {
      drainPromise ??= new Promise<void>((resolve) => {
        state.draining = true;
        // HTTP/2 sessions are not the node:http server's connections: the pools close only
        // once both have finished what they had in flight.
        const h2Done = https?.drain() ?? Promise.resolve();
        const deadline = setTimeout(() => {
          log.info({ tunnels: state.tunnels.size / 2 }, 'drain deadline reached; closing what is left');
          destroyTunnels();
          server.closeAllConnections();
          https?.destroySessions();
        }, t.drainMs);
        deadline.unref();
        server.close(() => {
          void h2Done.then(() => {
            clearTimeout(deadline);
            pools.closeAll().then(() => resolve(), () => resolve());
          });
        });
        server.closeIdleConnections();
      });
      return drainPromise;
    },
    async close() {
      state.draining = true;
      const closed = new Promise<void>((resolve) => {
        if (!server.listening) resolve();
        else server.close(() => resolve());
      });
      destroyTunnels();
      server.closeAllConnections();
      await https?.close();
      await closed;
      await pools.closeAll();
    },
    forgetOrigin(origin, o) {
      pools.forgetOrigin(origin, o?.abort === true);
    },
    setTrustedProxies(list) {
      state.trusted = compileTrusted(list);
    },
    upstreamOrigins() {
      return pools.origins();
    },
  };
}
