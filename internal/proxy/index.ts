// internal/proxy: the node:http entrypoint and request pipeline (host routing, hygiene checks,
// undici forwarding with retries, websocket tunnels, graceful drain).
export type { ProxyMember, PickContext, Pick, AttemptOutcome, ProxyRoute, RouteResolver, ProxyMiddleware, ProxyRequestFacts, LoggedRequest, RequestLogHook } from './router.ts';
export { createProxyServer } from './proxy-server.ts';
export type { ProxyServer, ProxyServerOptions, ProxyTimeouts, HttpsPolicy } from './proxy-server.ts';
export type { HttpsSource } from './https-entry.ts';
export type { RequestDoneInfo } from './proxy-state.ts';
/** The proxy's codes in Bellhop's error catalogue (docs/errors.md). */
export { PROXY_ERRORS } from './proxy-errors.ts';
export type { ProxyAnswerCode, ProxyErrorCode } from './proxy-errors.ts';
/**
 * undici's Pool and Agent without the rest of undici (its index loads fetch, WebSocket,
 * the cache, mocks…): what the health prober and forward_auth speak HTTP with.
 */
export * as undici from './lean-undici.ts';
