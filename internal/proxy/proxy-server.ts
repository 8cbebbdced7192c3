// The node:http entrypoint: server options that close Node's exhaustion holes, the request
// and upgrade entry points, the idle/slow-client policy and graceful drain.
import { createServer, ServerResponse, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { ListenAddress } from '../config/index.ts';
import type { RouteResolver } from './router.ts';
import type { ProxyState, RequestDoneInfo } from './proxy-state.ts';
import { parseTrustedProxies, type TrustedProxies } from '../../pkg/realip/index.ts';
import { isWebSocketUpgrade, MAX_HEADER_LINES } from '../../pkg/http/index.ts';
import { UpstreamPools } from './upstream-pools.ts';
import { Exchange, kExchange, type ClientSocket } from './exchange.ts';
import { rawProxyError } from './error-response.ts';

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
  /** Called once per finished request (metrics). */
  onRequestDone?: ((info: RequestDoneInfo) => void) | undefined;
}

export interface ProxyServer {
  readonly server: Server;
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
  );

  const server = createServer({
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
    pools,
    log,
    access: opts.logger.child({ module: 'access' }),
    accessLog: opts.accessLog,
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

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const ex = new Exchange(state, req, res);
    (req.socket as ClientSocket)[kExchange] = ex;
    res.on('close', ex.onResClose);
    ex.run();
  });

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
    const res = new ServerResponse(req);
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
    listen(addr) {
      return new Promise<AddressInfo>((resolve, reject) => {
        const onErr = (err: Error): void => reject(err);
        server.once('error', onErr);
        server.listen(addr.port, addr.host, () => {
          server.off('error', onErr);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    drain() {
      drainPromise ??= new Promise<void>((resolve) => {
        state.draining = true;
        const deadline = setTimeout(() => {
          log.info({ tunnels: state.tunnels.size / 2 }, 'drain deadline reached; closing what is left');
          destroyTunnels();
          server.closeAllConnections();
        }, t.drainMs);
        deadline.unref();
        server.close(() => {
          clearTimeout(deadline);
          pools.closeAll().then(() => resolve(), () => resolve());
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
