// The config under construction: defaults first, then the file, then environment overrides;
// load-config.ts freezes it into a Config once every problem has been collected.
import type { AccessLogSpec } from '../accesslog/index.ts';
import type { MiddlewareSpec, RouteSpec, StreamRouteSpec } from '../routes/index.ts';
import type { AutocertProvider, CertificateKeyType, HealthcheckDefaults, LoadBalanceDefaults, LogLevel, WakeShowLogs } from './config-types.ts';
import type { SwarmSetting } from './config-types.ts';
import { DEFAULTS } from './defaults.ts';

/** Mutable config under construction: defaults, then the file, then env overrides. */
/** An `autocert` block or `extra` entry as read; paths as written. */
export interface CertDraft {
  provider: AutocertProvider;
  domains: string[];
  certPath: string;
  keyPath: string;
  options: { authToken?: string; token?: string; command?: string };
  /** Line of the entry, for problems found after reading (a provider without its option). */
  line: number | undefined;
  path: string;
}

export interface AutocertDraft extends CertDraft {
  email: string;
  caDirUrl: string;
  caCerts: string[];
  eabKid: string;
  eabHmac: string;
  certificateKeyType: CertificateKeyType;
  renewBeforeMs: number;
  extra: CertDraft[];
}

export interface Draft {
  http: string;
  https: string;
  redirectHttp: boolean;
  hsts: string;
  autocert: AutocertDraft | undefined;
  trustedProxies: string[];
  entrypointMiddlewares: MiddlewareSpec[];
  entrypointAccessLog: AccessLogSpec | undefined;
  timeouts: { headerMs: number; idleMs: number; upstreamConnectMs: number; upstreamResponseMs: number; drainMs: number };
  apiListen: string;
  apiAuth: { tokenFile: string | undefined; users: { name: string; hash: string }[] } | undefined;
  dockerHosts: string[];
  exposeAll: boolean;
  labelFilter: string[];
  swarm: SwarmSetting;
  matchDomains: string[];
  healthcheck: { -readonly [K in keyof HealthcheckDefaults]: HealthcheckDefaults[K] };
  loadBalance: { -readonly [K in keyof LoadBalanceDefaults]: LoadBalanceDefaults[K] };
  secretFile: string;
  wakeShowLogs: WakeShowLogs;
  logLevel: LogLevel;
  routes: RouteSpec[];
  /** `routes:` entries with `scheme: tcp|udp` (docs/streams.md). */
  streams: StreamRouteSpec[];
}

export function defaultDraft(): Draft {
  return {
    http: DEFAULTS.entrypoint.http,
    https: DEFAULTS.entrypoint.https,
    redirectHttp: DEFAULTS.entrypoint.redirectHttp,
    hsts: DEFAULTS.entrypoint.hsts,
    autocert: undefined,
    trustedProxies: [...DEFAULTS.entrypoint.trustedProxies],
    entrypointMiddlewares: [],
    entrypointAccessLog: undefined,
    timeouts: { ...DEFAULTS.entrypoint.timeouts },
    apiListen: DEFAULTS.api.listen,
    apiAuth: undefined,
    dockerHosts: [...DEFAULTS.docker.hosts],
    exposeAll: DEFAULTS.docker.exposeAll,
    labelFilter: [...DEFAULTS.docker.labelFilter],
    swarm: DEFAULTS.docker.swarm,
    matchDomains: [...DEFAULTS.matchDomains],
    healthcheck: { ...DEFAULTS.healthcheck },
    loadBalance: { ...DEFAULTS.loadBalance },
    secretFile: DEFAULTS.sticky.secretFile,
    wakeShowLogs: DEFAULTS.wake.showLogs,
    logLevel: DEFAULTS.logLevel,
    routes: [],
    streams: [],
  };
}
