/**
 * Live pools: reconciles a persistent pkg/balance Pool per route on every route-table swap and
 * adapts routes, health and wake to the proxy's narrow ProxyRoute/RouteResolver interface.
 */
export { LiveRoute, RECREATE_HOLD_MS, MEMBER_WAIT_MS, type HealthGate, type WakeGate, type LiveRoutesOptions } from './live-route.ts';
/** Owns every LiveRoute: `update(table)` returns which routes it added, changed and removed. */
export { LiveRoutes, noRouteChanged, type RouteChanges } from './live-routes.ts';
/** Structural equality of route specs (every event rebuilds them; unchanged ones are left alone). */
export { sameRouteSpec } from './same-route-spec.ts';
/** Keeps a vanished compose service's route (no members) for a grace period: 503, never 404. */
export { RecreateGrace, RECREATE_GRACE_MS, type RecreateGraceOptions } from './recreate-grace.ts';
