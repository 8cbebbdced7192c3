// What every exchange of one proxy server shares. Plain data plus two callbacks; owned by
// createProxyServer.
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { RouteResolver } from './router.ts';
import type { TrustedProxies } from '../../pkg/realip/index.ts';
import type { UpstreamPools } from './upstream-pools.ts';

/** Per-request figures for metrics. */
export interface RequestDoneInfo {
  route: string;
  member: string;
  status: number;
  durationMs: number;
  /** Response body bytes relayed (for websockets: bytes written to the client). */
  bytes: number;
}

export interface ProxyState {
  resolver: () => RouteResolver;
  trusted: TrustedProxies;
  pools: UpstreamPools;
  log: Logger;
  access: Logger;
  accessLog: boolean;
  onRequestDone: ((info: RequestDoneInfo) => void) | undefined;
  draining: boolean;
  /** Open websocket tunnels (both sockets), closed at the drain deadline. */
  tunnels: Set<Duplex>;
  afterDrainingRequest(): void;
}
