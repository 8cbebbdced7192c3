// The validated, defaulted, frozen configuration every module reads. Durations are whole
// milliseconds (`…Ms`), names are camelCase; the YAML spelling is in docs/configuration.md.
import type { BalanceModeName, HealthcheckSpec, LoadBalanceSpec, MiddlewareSpec, RouteSpec, StreamRouteSpec } from '../routes/index.ts';
import type { ListenAddress } from './listen-address.ts';
import type { AccessLogSpec } from '../accesslog/index.ts';
import type { StatusRanges } from './healthy-status.ts';

/** Recursively read-only view of plain data. */
export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** pino level names accepted by `log_level` / `LOG_LEVEL`. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export interface EntrypointTimeouts {
  /** Client must finish sending request headers within this. */
  readonly headerMs: number;
  /** Keep-alive / no-progress limit on client connections. */
  readonly idleMs: number;
  readonly upstreamConnectMs: number;
  /** Time to the upstream's response headers. */
  readonly upstreamResponseMs: number;
  /** Shutdown grace for in-flight requests before websockets are closed. */
  readonly drainMs: number;
}

export interface EntrypointConfig {
  /** As written, e.g. ":80". */
  readonly http: string;
  readonly httpAddress: ListenAddress;
  /** As written, e.g. ":443"; "" disables HTTPS. */
  readonly https: string;
  /** The HTTPS listener: set when `autocert` is configured and `https` is not "". */
  readonly httpsAddress: ListenAddress | undefined;
  /** With HTTPS on: plain-HTTP requests for a host with a certificate get a 308 to https. */
  readonly redirectHttp: boolean;
  /** Strict-Transport-Security value sent on HTTPS answers; "" sends none. */
  readonly hsts: string;
  /** IPs/CIDRs whose forwarding headers are believed, as written. */
  readonly trustedProxies: readonly string[];
  /** `entrypoint.middlewares` in list order (docs/middlewares.md): run for every request before routing. */
  readonly middlewares: readonly MiddlewareSpec[];
  /** `entrypoint.access_log` (docs/access-log.md): every request, routed or not; undefined: off. */
  readonly accessLog: AccessLogSpec | undefined;
  readonly timeouts: EntrypointTimeouts;
}

export interface ApiConfig {
  /** As written; "" disables the admin API. */
  readonly listen: string;
  /** Parsed `listen`; undefined when the API is disabled. */
  readonly address: ListenAddress | undefined;
  /** `api.auth` (docs/configuration.md#api); undefined: no authentication. */
  readonly auth: ApiAuthConfig | undefined;
}

/** Who may use the admin API: a Bearer token (read from a file) and/or basic-auth users. */
export interface ApiAuthConfig {
  /** Absolute path of the file holding the Bearer token; undefined: no token. */
  readonly tokenFile: string | undefined;
  /** Basic-auth users with bcrypt hashes ($2a$/$2b$/$2y$). */
  readonly users: readonly { readonly name: string; readonly hash: string }[];
}

export interface DockerConfig {
  /** Docker API endpoints (unix://, tcp://, ssh://, npipe://, http(s)://); may be empty (file routes only). */
  readonly hosts: readonly string[];
  /** Route unlabelled containers by name too. */
  readonly exposeAll: boolean;
  /** Only containers carrying every one of these labels (`key` or `key=value`) are seen. */
  readonly labelFilter: readonly string[];
  /** `docker.swarm`: discover swarm services on a manager (auto), always (on, logs when not one), never (off). */
  readonly swarm: SwarmSetting;
}

/** `docker.swarm` (docs/configuration.md): `auto` (default), `true` → on, `false` → off. */
export type SwarmSetting = 'auto' | 'on' | 'off';

/** `wake.show_logs`: who sees a failed wake's container log lines (docs/sleep-and-wake.md). */
export type WakeShowLogs = 'always' | 'private' | 'never';

export interface WakeConfig {
  /** `private` (default): loopback, private networks and the trusted proxies' networks only. */
  readonly showLogs: WakeShowLogs;
}

/** `autocert.provider` (docs/https.md): where certificates come from. */
export type AutocertProvider = 'local' | 'http01' | 'tlsalpn01' | 'cloudflare' | 'duckdns' | 'exec';
/** `autocert.certificate_key_type`. */
export type CertificateKeyType = 'EC256' | 'EC384' | 'RSA2048' | 'RSA4096';

/** `autocert.options`: the provider's settings (only the one the provider needs is set). */
export interface AutocertOptions {
  /** cloudflare: API token with Zone:DNS:Edit. */
  readonly authToken?: string | undefined;
  /** duckdns: account token. */
  readonly token?: string | undefined;
  /** exec: run as `command present|cleanup <fqdn> <txt-value>` (no shell). */
  readonly command?: string | undefined;
}

/** One certificate to keep: the main one or an `extra` entry. Paths are absolute. */
export interface AutocertCertificate {
  readonly provider: AutocertProvider;
  /** Lower-case names; `*.example.com` wildcards need a DNS-01 provider. Empty with http01/tlsalpn01: one certificate per route host. */
  readonly domains: readonly string[];
  readonly certPath: string;
  readonly keyPath: string;
  readonly options: AutocertOptions;
}

export interface AutocertConfig extends AutocertCertificate {
  /** ACME account contact; "" registers without one. */
  readonly email: string;
  /** ACME v2 directory URL. */
  readonly caDirUrl: string;
  /** Extra PEM roots (absolute paths) trusted when talking to the ACME server. */
  readonly caCerts: readonly string[];
  readonly eabKid: string;
  readonly eabHmac: string;
  readonly certificateKeyType: CertificateKeyType;
  /** Renew when this much validity is left (or a third of the lifetime, if shorter). */
  readonly renewBeforeMs: number;
  /** Directory of the account key and the per-host certificates: cert_path's directory. */
  readonly dataDir: string;
  readonly extra: readonly AutocertCertificate[];
}

/** Defaults merged under every route's healthcheck (labels and static routes). */
export interface HealthcheckDefaults {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly rise: number;
  readonly fall: number;
  /** `defaults.healthcheck.status` as ranges; undefined: 200–399. */
  readonly status?: StatusRanges | undefined;
}

/** Defaults merged under every pool's load_balance. */
export interface LoadBalanceDefaults {
  readonly mode: BalanceModeName;
  readonly sticky: boolean;
  readonly stickyMaxAgeMs: number;
}

export interface Config {
  readonly entrypoint: EntrypointConfig;
  readonly api: ApiConfig;
  readonly docker: DockerConfig;
  /** Lower-case domain suffixes without leading/trailing dots, e.g. "home.example.com". */
  readonly matchDomains: readonly string[];
  readonly defaults: {
    readonly healthcheck: HealthcheckDefaults;
    readonly loadBalance: LoadBalanceDefaults;
  };
  readonly sticky: {
    /** Absolute path (relative paths resolve against the working directory). */
    readonly secretFile: string;
  };
  /** Static routes by their key in the file, in file order, already converted to RouteSpec. */
  readonly routes: Readonly<Record<string, DeepReadonly<RouteSpec>>>;
  /** Stream routes (`routes:` entries with `scheme: tcp|udp`, docs/streams.md) by their key, in file order. */
  readonly streams: Readonly<Record<string, DeepReadonly<StreamRouteSpec>>>;
  readonly wake: WakeConfig;
  /** Certificates for the HTTPS listener; undefined: no HTTPS. */
  readonly autocert: AutocertConfig | undefined;
  readonly logLevel: LogLevel;
}

export type { BalanceModeName, HealthcheckSpec, LoadBalanceSpec, ListenAddress };
