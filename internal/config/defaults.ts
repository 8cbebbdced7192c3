// Built-in defaults (docs/configuration.md). Everything in the file is optional; these fill the gaps.
import type { AutocertProvider, CertificateKeyType, LogLevel, WakeShowLogs } from './config-types.ts';
import type { SwarmSetting } from './config-types.ts';
import type { BalanceModeName } from '../routes/index.ts';

export const DEFAULTS = {
  entrypoint: {
    http: ':80',
    /** On whenever `autocert` is set. */
    https: ':443',
    redirectHttp: true,
    hsts: '',
    trustedProxies: [] as string[],
    timeouts: { headerMs: 10_000, idleMs: 60_000, upstreamConnectMs: 5000, upstreamResponseMs: 60_000, drainMs: 10_000 },
  },
  api: { listen: '127.0.0.1:8081' },
  docker: { hosts: ['unix:///var/run/docker.sock'], exposeAll: false, labelFilter: [], swarm: 'auto' as SwarmSetting },
  matchDomains: [] as string[],
  healthcheck: { intervalMs: 5000, timeoutMs: 5000, rise: 2, fall: 3 },
  loadBalance: { mode: 'roundrobin' as BalanceModeName, sticky: false, stickyMaxAgeMs: 3_600_000 },
  /** load_balance.options.header when options are given without one (GoDoxy's default). */
  realIpHeader: 'X-Real-IP',
  sticky: { secretFile: './data/sticky.key' },
  wake: { showLogs: 'private' as WakeShowLogs },
  autocert: {
    caDirUrl: 'https://acme-v02.api.letsencrypt.org/directory',
    certPath: './data/certs/cert.crt',
    keyPath: './data/certs/priv.key',
    certificateKeyType: 'EC256' as CertificateKeyType,
    renewBeforeMs: 30 * 86_400_000,
  },
  logLevel: 'info' as LogLevel,
} as const;

/** Default config file looked up in the working directory when BELLHOP_CONFIG is unset. */
export const DEFAULT_CONFIG_FILE = 'config.yml';

export const WAKE_SHOW_LOGS: readonly WakeShowLogs[] = ['always', 'private', 'never'];

export const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export const AUTOCERT_PROVIDERS: readonly AutocertProvider[] = ['local', 'http01', 'tlsalpn01', 'cloudflare', 'duckdns', 'exec'];
/** Providers that prove control through DNS (the only ones that can get wildcards). */
export const DNS_PROVIDERS: readonly AutocertProvider[] = ['cloudflare', 'duckdns', 'exec'];
export const CERTIFICATE_KEY_TYPES: readonly CertificateKeyType[] = ['EC256', 'EC384', 'RSA2048', 'RSA4096'];
