/** Admin API (/healthz, /api/routes, /api/explain, /metrics, the dashboard and its actions) and the Prometheus metrics. */
export { createAdminServer, type AdminServer, type AdminServerOptions, type AdminSource } from './admin-server.ts';
/** `api.auth`: Bearer token / basic auth for every admin path but /healthz. */
export { createAdminAuth, loadAdminAuth, isLoopbackListen, type AdminAuth } from './admin-auth.ts';
/** The dashboard's live feed (/api/events): state, recent events, requests per second per route. */
export { DashboardFeed, type DashboardEvent, type DashboardSnapshot } from './dashboard-feed.ts';
export { Metrics, type MetricsSources } from './metrics.ts';
/** The /api/routes and /api/explain views and the per-member metrics figures, from the modules owning the state. */
export { createAdminViews, type AdminViews, type AdminViewSources, type MemberView, type RoutesView, type ExplainView } from './admin-views.ts';
/** The admin API's codes in Bellhop's error catalogue (docs/errors.md). */
export { API_ERRORS, type ApiErrorCode } from './api-errors.ts';
