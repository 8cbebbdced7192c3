/** Admin API (/healthz, /api/routes, /api/explain, /metrics) and the Prometheus metrics. */
export { createAdminServer, type AdminServer, type AdminSource } from './admin-server.ts';
export { Metrics, type MetricsSources } from './metrics.ts';
/** The /api/routes and /api/explain views and the per-member metrics figures, from the modules owning the state. */
export { createAdminViews, type AdminViews, type AdminViewSources, type MemberView, type RoutesView, type ExplainView } from './admin-views.ts';
/** The admin API's codes in Bellhop's error catalogue (docs/errors.md). */
export { API_ERRORS, type ApiErrorCode } from './api-errors.ts';
