// internal/proxy: the node:http entrypoint and request pipeline (host routing, hygiene checks,
// undici forwarding with retries, websocket tunnels, graceful drain).
export type { ProxyMember, PickContext, Pick, AttemptOutcome, ProxyRoute, RouteResolver } from './router.ts';
export { createProxyServer } from './proxy-server.ts';
export type { ProxyServer, ProxyServerOptions, ProxyTimeouts } from './proxy-server.ts';
export type { RequestDoneInfo } from './proxy-state.ts';
export { ProxyError, PROXY_ERRORS } from './proxy-error.ts';
export type { ProxyErrorCode } from './proxy-error.ts';
