/**
 * Live pools: reconciles a persistent pkg/balance Pool per route on every route-table swap and
 * adapts routes, health and wake to the proxy's narrow ProxyRoute/RouteResolver interface.
 */
export { LiveRoute, LiveRoutes, type HealthGate, type WakeGate, type LiveRoutesOptions } from './live-routes.ts';
