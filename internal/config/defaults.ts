// Built-in defaults (docs/configuration.md). Everything in the file is optional; these fill the gaps.
import type { LogLevel, WakeShowLogs } from './config-types.ts';
import type { BalanceModeName } from '../routes/index.ts';

export const DEFAULTS = {
  entrypoint: {
    http: ':80',
    trustedProxies: [] as string[],
    timeouts: { headerMs: 10_000, idleMs: 60_000, upstreamConnectMs: 5000, upstreamResponseMs: 60_000, drainMs: 10_000 },
  },
  api: { listen: '127.0.0.1:8081' },
  docker: { hosts: ['unix:///var/run/docker.sock'], exposeAll: false, labelFilter: [] },
  matchDomains: [] as string[],
  healthcheck: { intervalMs: 5000, timeoutMs: 5000, rise: 2, fall: 3 },
  loadBalance: { mode: 'roundrobin' as BalanceModeName, sticky: false, stickyMaxAgeMs: 3_600_000 },
  /** load_balance.options.header when options are given without one (GoDoxy's default). */
  realIpHeader: 'X-Real-IP',
  sticky: { secretFile: './data/sticky.key' },
  wake: { showLogs: 'private' as WakeShowLogs },
  logLevel: 'info' as LogLevel,
} as const;

/** Default config file looked up in the working directory when BELLHOP_CONFIG is unset. */
export const DEFAULT_CONFIG_FILE = 'config.yml';

export const WAKE_SHOW_LOGS: readonly WakeShowLogs[] = ['always', 'private', 'never'];

export const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
