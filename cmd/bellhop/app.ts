// Composition: config → docker discovery → reconcile (labels → route table → live pools,
// health, wake) → proxy, with the admin API and metrics around them. main.ts owns the process
// (signals, exit codes); this file only wires and starts things, so tests can run a whole
// Bellhop in-process.
import type { Logger } from 'pino';
import { createAdminServer, createAdminViews, Metrics, type AdminServer } from '../../internal/api/index.ts';
import type { Config, ConfigError, ListenAddress } from '../../internal/config/index.ts';
import { DockerHub, type SelfInfo } from '../../internal/docker/index.ts';
import { HealthMonitor } from '../../internal/health/index.ts';
import { LiveRoutes } from '../../internal/pools/index.ts';
import { createProxyServer, type ProxyServer } from '../../internal/proxy/index.ts';
import { createWakeControl, Reconciler } from '../../internal/reconcile/index.ts';
import type { RouteError, RouteTable } from '../../internal/routes/index.ts';
import { WakeManager } from '../../internal/wake/index.ts';

export interface Bellhop {
  readonly proxy: ProxyServer;
  readonly admin: AdminServer | undefined;
  readonly metrics: Metrics;
  readonly health: HealthMonitor;
  readonly wake: WakeManager;
  readonly docker: DockerHub;
  /** Listens on entrypoint.http and api.listen (or the given overrides) and starts discovery. */
  start(listen?: { http?: ListenAddress; api?: ListenAddress }): Promise<{ httpPort: number; apiPort: number | undefined }>;
  /** Applies a new config (hot reload): routes and defaults change, listeners stay. Clears the config errors. */
  applyConfig(config: Config): void;
  /**
   * The config file's current problems (a rejected hot reload: the running config is kept),
   * listed first under `errors` in /api/routes, each with its file and line, until the next
   * applyConfig. `[]` clears them.
   */
  setConfigErrors(errors: readonly ConfigError[]): void;
  /** Current route table (for tests). */
  table(): RouteTable | undefined;
  /** Graceful drain then close everything. */
  stop(): Promise<void>;
}

export function createBellhop(initial: Config, log: Logger, stickySecret: Uint8Array): Bellhop {
  let config = initial;
  let self: SelfInfo = { networks: [] };
  let configErrors: RouteError[] = [];
  let serving = false;

  const docker = new DockerHub({
    hosts: config.docker.hosts,
    logger: log.child({ module: 'docker' }),
    onChange: () => reconciler.recompute(),
  });
  const wake: WakeManager = new WakeManager({
    control: createWakeControl({
      records: () => reconciler.visible(),
      control: (host) => docker.control(host),
      parseOptions: () => reconciler.parseOptions(),
    }),
    logger: log.child({ module: 'wake' }),
    showLogs: config.wake.showLogs,
    trustedProxies: config.entrypoint.trustedProxies,
  });
  const health = new HealthMonitor({
    logger: log.child({ module: 'health' }),
    shouldProbe: (id) => {
      const s = wake.stateOf(id);
      return s === undefined || s === 'awake';
    },
  });
  const live = new LiveRoutes({
    health,
    wake,
    stickySecret,
    // A dead member's pool is destroyed: requests still connecting to its old address (no RST
    // once the veth is gone) are routed again at once instead of hanging until upstream_connect.
    onOriginsGone: (origins, dead) => {
      for (const o of origins) proxy.forgetOrigin(o, { abort: dead.has(o) });
    },
  });
  const reconciler: Reconciler = new Reconciler({ config: () => config, self: () => self, records: () => docker.records(), live, health, wake, logger: log });
  const views = createAdminViews({
    live,
    health,
    wake,
    docker,
    errors: () => [...configErrors, ...reconciler.errors],
    warnings: () => reconciler.warnings,
  });
  const metrics = new Metrics({
    inFlight: views.inFlight,
    memberHealth: views.memberHealth,
    dockerSyncLag: () => docker.watchers().map((w) => ({ host: w.host, seconds: w.secondsSinceLastSync() })),
  });
  wake.onWake((r) => {
    metrics.wakeDone(r.container, r.ok, r.durationMs / 1000);
    reconciler.wakeDone(r);
  });
  const proxy: ProxyServer = createProxyServer({
    resolver: () => live.resolver,
    trustedProxies: config.entrypoint.trustedProxies,
    timeouts: config.entrypoint.timeouts,
    logger: log,
    accessLog: true,
    onRequestDone: (info) => metrics.requestDone(info.route, info.member, info.status, info.upstreamMs === undefined ? undefined : info.upstreamMs / 1000),
  });
  const admin = config.api.listen === '' ? undefined : createAdminServer({ serving: () => serving, routes: views.routes, explain: views.explain }, metrics);

  return {
    proxy,
    admin,
    metrics,
    health,
    wake,
    docker,
    async start(listen = {}) {
      reconciler.recompute(); // file routes serve at once, whatever Docker does
      const http = await proxy.listen(listen.http ?? config.entrypoint.httpAddress);
      const apiAddress = listen.api ?? config.api.address;
      const api = admin !== undefined && apiAddress !== undefined ? await admin.listen(apiAddress) : undefined;
      serving = true;
      log.info({ module: 'main', http: `${http.address}:${http.port}`, api: api ? `${api.address}:${api.port}` : 'disabled' }, 'bellhop is serving');
      if (config.docker.hosts.length > 0) {
        self = await docker.detectSelf();
        docker.start();
      }
      return { httpPort: http.port, apiPort: api?.port };
    },
    applyConfig(next) {
      if (JSON.stringify(next.entrypoint.trustedProxies) !== JSON.stringify(config.entrypoint.trustedProxies)) {
        try {
          proxy.setTrustedProxies(next.entrypoint.trustedProxies);
          log.info({ module: 'config', trusted_proxies: next.entrypoint.trustedProxies }, 'entrypoint.trusted_proxies applied');
        } catch (err) {
          // Config validation parses the same list, so this is not expected; keep the old set.
          log.error({ module: 'config', err }, 'entrypoint.trusted_proxies not applied; keeping the previous set');
        }
      }
      wake.setLogDisclosure({ showLogs: next.wake.showLogs, trustedProxies: next.entrypoint.trustedProxies });
      config = next;
      configErrors = [];
      reconciler.recompute();
    },
    setConfigErrors(list) {
      configErrors = list.map((e) => e.toRouteError());
    },
    table: () => live.current,
    async stop() {
      serving = false;
      await proxy.drain();
      await docker.stop();
      reconciler.close();
      wake.close();
      await health.close();
      await admin?.close();
    },
  };
}
