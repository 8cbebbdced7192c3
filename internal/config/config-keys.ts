// Every key the config file accepts, by section, and where a misplaced key belongs. Unknown
// keys are errors with a suggestion from these tables.

export const KEYS = {
  top: ['entrypoint', 'api', 'docker', 'match_domains', 'defaults', 'sticky', 'wake', 'routes', 'log_level'],
  entrypoint: ['http', 'trusted_proxies', 'timeouts', 'middlewares'],
  timeouts: ['header', 'idle', 'upstream_connect', 'upstream_response', 'drain'],
  api: ['listen'],
  docker: ['hosts', 'expose_all', 'label_filter'],
  defaults: ['healthcheck', 'load_balance'],
  defaultHealthcheck: ['interval', 'timeout', 'rise', 'fall', 'status'],
  defaultLoadBalance: ['mode', 'sticky', 'sticky_max_age'],
  sticky: ['secret_file'],
  wake: ['show_logs'],
  route: ['url', 'members', 'aliases', 'load_balance', 'healthcheck', 'no_tls_verify', 'middlewares', 'rules'],
  member: ['name', 'url', 'weight', 'no_tls_verify'],
  routeLoadBalance: ['mode', 'sticky', 'sticky_max_age', 'weight', 'options'],
  options: ['header', 'from', 'recursive'],
  routeHealthcheck: ['path', 'interval', 'timeout', 'rise', 'fall', 'use_get', 'disable', 'status'],
} as const;

// Where a key lives when it is written in the wrong section ("did you mean entrypoint.trusted_proxies?").
export const HOME: ReadonlyMap<string, string> = new Map<string, string>([
  ...KEYS.entrypoint.map((k) => [k, `entrypoint.${k}`] as const),
  ...KEYS.timeouts.map((k) => [k, `entrypoint.timeouts.${k}`] as const),
  ['listen', 'api.listen'],
  ...KEYS.docker.map((k) => [k, `docker.${k}`] as const),
  ['secret_file', 'sticky.secret_file'],
  ['show_logs', 'wake.show_logs'],
  ['healthcheck', 'defaults.healthcheck'],
  ['load_balance', 'defaults.load_balance'],
  ['mode', 'load_balance.mode'],
  ['sticky_max_age', 'load_balance.sticky_max_age'],
  ['path', 'healthcheck.path'],
  ['interval', 'healthcheck.interval'],
  ['rise', 'healthcheck.rise'],
  ['fall', 'healthcheck.fall'],
  ['status', 'healthcheck.status'],
  ['weight', 'members[].weight'],
]);
