// The config under construction: defaults first, then the file, then environment overrides;
// load-config.ts freezes it into a Config once every problem has been collected.
import type { RouteSpec } from '../routes/index.ts';
import type { HealthcheckDefaults, LoadBalanceDefaults, LogLevel, WakeShowLogs } from './config-types.ts';
import { DEFAULTS } from './defaults.ts';

/** Mutable config under construction: defaults, then the file, then env overrides. */
export interface Draft {
  http: string;
  trustedProxies: string[];
  timeouts: { headerMs: number; idleMs: number; upstreamConnectMs: number; upstreamResponseMs: number; drainMs: number };
  apiListen: string;
  dockerHosts: string[];
  exposeAll: boolean;
  labelFilter: string[];
  matchDomains: string[];
  healthcheck: { -readonly [K in keyof HealthcheckDefaults]: HealthcheckDefaults[K] };
  loadBalance: { -readonly [K in keyof LoadBalanceDefaults]: LoadBalanceDefaults[K] };
  secretFile: string;
  wakeShowLogs: WakeShowLogs;
  logLevel: LogLevel;
  routes: RouteSpec[];
}

export function defaultDraft(): Draft {
  return {
    http: DEFAULTS.entrypoint.http,
    trustedProxies: [...DEFAULTS.entrypoint.trustedProxies],
    timeouts: { ...DEFAULTS.entrypoint.timeouts },
    apiListen: DEFAULTS.api.listen,
    dockerHosts: [...DEFAULTS.docker.hosts],
    exposeAll: DEFAULTS.docker.exposeAll,
    labelFilter: [...DEFAULTS.docker.labelFilter],
    matchDomains: [...DEFAULTS.matchDomains],
    healthcheck: { ...DEFAULTS.healthcheck },
    loadBalance: { ...DEFAULTS.loadBalance },
    secretFile: DEFAULTS.sticky.secretFile,
    wakeShowLogs: DEFAULTS.wake.showLogs,
    logLevel: DEFAULTS.logLevel,
    routes: [],
  };
}
