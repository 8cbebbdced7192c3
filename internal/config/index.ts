// Public surface of internal/config: YAML file + environment → validated, frozen Config.
// The only module that imports `yaml`.

/** Duration text ⇄ ms: `500ms`, `30s`, `5m`, `1h30m`, `1.5s`, `2d`; `0` alone is zero. */
export { parseDuration, formatDuration, DurationError, MAX_TIMER_MS, DURATION_UNITS } from './duration.ts';
export type { DurationErrorCode } from './duration.ts';

/** `roundrobin`/`round_robin`/`ROUND_ROBIN`… → canonical mode name (shared with labels). */
export { parseBalanceMode } from './balance-mode.ts';

/** `healthcheck.status`: `200-399`, `200,204,301-302` ⇄ sorted inclusive ranges (shared with labels). */
export { parseHealthyStatus, formatHealthyStatus, DEFAULT_HEALTHY_STATUS_TEXT } from './healthy-status.ts';
export type { StatusRanges, StatusParseResult } from './healthy-status.ts';

/** `host:port`, `:port`, `[v6]:port` → { host, port } or a reason string. */
export { parseListenAddress } from './listen-address.ts';
export type { ListenAddress } from './listen-address.ts';

/** Upstream origin check: http(s), host, optional port, nothing else → `scheme://host:port`. */
export { parseUpstreamUrl } from './upstream-url.ts';

/** Built-in IP/CIDR check, and the validator type a caller may inject instead. */
export { checkCidr } from './cidr.ts';
export type { CidrValidator } from './cidr.ts';

/** One problem per error, with code, key path, line and file; formatted one per line. */
export { ConfigError, formatConfigErrors, ENV_SOURCE } from './config-error.ts';
export type { ConfigErrorCode } from './config-error.ts';

/** The configuration every module reads. */
export type { Config, ApiConfig, ApiAuthConfig, DockerConfig, EntrypointConfig, EntrypointTimeouts, HealthcheckDefaults, LoadBalanceDefaults, LogLevel, DeepReadonly, WakeConfig, WakeShowLogs, AutocertConfig, AutocertCertificate, AutocertOptions, AutocertProvider, CertificateKeyType } from './config-types.ts';
export type { SwarmSetting } from './config-types.ts';
export { DEFAULT_CONFIG_FILE, LOG_LEVELS, WAKE_SHOW_LOGS, AUTOCERT_PROVIDERS, DNS_PROVIDERS, CERTIFICATE_KEY_TYPES } from './defaults.ts';

/** defaults → file (explicit path, BELLHOP_CONFIG, ./config.yml) → env overrides. */
export { loadConfig, configFilePath } from './load-config.ts';
/** YAML text → value, for middlewares that read YAML files (rules' rule_file). */
export { parseYamlValue } from './read-middlewares.ts';
export type { LoadConfigOptions, LoadConfigResult } from './load-config.ts';

/** Static routes as RouteSpec, and defaults as specs for label parsing. */
export { staticRoutes, staticStreams, defaultHealthcheck, defaultLoadBalance } from './static-routes.ts';

/** Debounced hot reload: watches the file and its folder (rename-saves, bind mounts); returns close(). */
export { watchConfig } from './watch-config.ts';
export type { WatchConfigOptions } from './watch-config.ts';

/** A compose file read offline (labels, replicas, ports, networks, depends_on) for `bellhop check`. */
export { readComposeFile, parseComposeText, projectName, ComposeFileError, COMPOSE_FILE_NAMES } from './compose-file.ts';
export type { ComposeFile, ComposeService, ComposePort, ComposeDependency, ComposeProblem, ComposeFileErrorCode } from './compose-file.ts';
