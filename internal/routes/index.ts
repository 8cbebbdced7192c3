// internal/routes: RouteSpec[] → immutable RouteTable (host → route). Pure.

export type * from './route-spec.ts';
export type { MiddlewareSpec } from './middleware-spec.ts';
export { buildRouteTable, RouteTableErrorCode } from './route-table.ts';
export type { HostExplanation, MatchRule, RouteTable, RouteTableOptions } from './route-table.ts';
/** Host header → lookup form: lower case, no port, no trailing dot. */
export { normaliseHost } from './host-name.ts';
/** The host-name grammar of aliases (`nas`, `app.example.com`, `*.example.com`) and match domains. */
export { isDomainName, isHostAlias } from './alias-grammar.ts';
export { hostNamesOf } from './route-hosts.ts';
/** Stream routes of the config file and of labels as one list; whether two listens clash. */
export { listensClash, mergeStreamRoutes, STREAM_TAKEN_BY_FILE } from './stream-routes.ts';
