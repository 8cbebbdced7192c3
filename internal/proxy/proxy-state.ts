// What every exchange of one proxy server shares. Plain data plus two callbacks; owned by
// createProxyServer.
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { ProxyMiddleware, RequestLogHook, RouteResolver } from './router.ts';
import type { ClientIpRule, TrustedProxies } from '../../pkg/realip/index.ts';
import type { UpstreamPools } from './upstream-pools.ts';

/** Per-request figures for metrics. */
export interface RequestDoneInfo {
  route: string;
  member: string;
  status: number;
  /** Whole exchange, from the request head to the end (gate holds and retries included). */
  durationMs: number;
  /**
   * Last attempt only: dispatch to the member → end of its response (→ its 101 for an upgrade,
   * → the failure for a timeout or reset after sending). Undefined when no member was reached
   * (no route, bad request, gate answered, nothing usable, connect error) or the client left
   * before the end.
   */
  upstreamMs: number | undefined;
  /** Response body bytes relayed (for websockets: bytes written to the client). */
  bytes: number;
}

export interface ProxyState {
  resolver: () => RouteResolver;
  trusted: TrustedProxies;
  /** `entrypoint.middlewares` as one chain, run for every request before the route's (docs/middlewares.md). */
  entryMiddleware: ProxyMiddleware | undefined;
  /** `entrypoint.middlewares`' real_ip / cloudflare_real_ip; a route's own rule wins (docs/client-ip.md). */
  entryClientIpRule: ClientIpRule | undefined;
  pools: UpstreamPools;
  log: Logger;
  access: Logger;
  accessLog: boolean;
  /** `entrypoint.access_log` (docs/access-log.md); undefined: off, nothing built per request. */
  requestLog: RequestLogHook | undefined;
  onRequestDone: ((info: RequestDoneInfo) => void) | undefined;
  draining: boolean;
  /** Open websocket tunnels (both sockets), closed at the drain deadline. */
  tunnels: Set<Duplex>;
  afterDrainingRequest(): void;
}
