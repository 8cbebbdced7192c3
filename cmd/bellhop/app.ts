// Composition: config → docker discovery → labels → route table → live pools → proxy, with
// health, wake, the admin API and metrics around them. main.ts owns the process (signals,
// exit codes); this file owns the wiring so tests can run a whole Bellhop in-process.
import type { Logger } from 'pino';
import { createAdminServer, Metrics, type AdminServer } from '../../internal/api/index.ts';
import { defaultHealthcheck, defaultLoadBalance, staticRoutes, type Config, type ConfigError, type ListenAddress } from '../../internal/config/index.ts';
import { DockerHub, type ContainerRecord, type SelfInfo } from '../../internal/docker/index.ts';
import { HealthMonitor, type DockerHealth } from '../../internal/health/index.ts';
import { parseContainers } from '../../internal/labels/index.ts';
import { LiveRoutes, RecreateGrace } from '../../internal/pools/index.ts';
import { createProxyServer, type ProxyServer } from '../../internal/proxy/index.ts';
import { buildRouteTable, type RouteError, type RouteTable } from '../../internal/routes/index.ts';
import { WakeManager, type WakeControl, type WakeInspect } from '../../internal/wake/index.ts';

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

function dockerHealthOf(v: string | undefined): DockerHealth | undefined {
  return v === 'starting' || v === 'healthy' || v === 'unhealthy' ? v : undefined;
}

export function createBellhop(initial: Config, log: Logger, stickySecret: Uint8Array): Bellhop {
  let config = initial;
  let self: SelfInfo = { networks: [] };
  let errors: RouteError[] = [];
  let warnings: RouteError[] = [];
  let configErrors: RouteError[] = [];
  let lastErrorKey = '';
  let serving = false;

  const docker = new DockerHub({
    hosts: config.docker.hosts,
    logger: log.child({ module: 'docker' }),
    onChange: () => recompute(),
  });

  // docker.label_filter: only containers carrying every filter label are seen at all (several
  // Bellhops can then share one engine without managing each other's containers).
  const visible = (): readonly ContainerRecord[] => {
    const filter = config.docker.labelFilter;
    const all = docker.records();
    if (filter.length === 0) return all;
    return all.filter((r) =>
      filter.every((f) => {
        const eq = f.indexOf('=');
        return eq < 0 ? f in r.labels : r.labels[f.slice(0, eq)] === f.slice(eq + 1);
      }),
    );
  };
  const hostOf = (id: string): string | undefined => visible().find((r) => r.id === id)?.dockerHost;
  const controlFor = (id: string) => {
    const host = hostOf(id);
    const c = host === undefined ? undefined : docker.control(host);
    if (!c) throw new Error(`container ${id} is not known on any Docker host`);
    return c;
  };
  // The wake module needs the address Docker gives after a start, on the network Bellhop routes
  // to: run the same label parser over the fresh inspect so the choice of network is identical.
  const wakeControl: WakeControl = {
    start: (id) => controlFor(id).start(id),
    stop: (id, o) => controlFor(id).stop(id, o.signal === undefined ? { timeoutSec: o.timeoutSec } : { timeoutSec: o.timeoutSec, signal: o.signal }),
    kill: (id, s) => controlFor(id).kill(id, s),
    pause: (id) => controlFor(id).pause(id),
    unpause: (id) => controlFor(id).unpause(id),
    logsTail: (id, n) => controlFor(id).logsTail(id, n),
    async inspect(id): Promise<WakeInspect> {
      const rec = await controlFor(id).inspect(id);
      const parsed = parseContainers([rec], parseOptions());
      // Member ids are stable for a container and port, so these match the route table's members
      // (which list a stopped container without an address until discovery re-syncs).
      const urls: Record<string, string> = {};
      for (const m of parsed.routes.flatMap((r) => r.members)) if (m.container?.id === id && m.url !== '') urls[m.id] = m.url;
      const url = Object.values(urls)[0];
      let host: string | undefined;
      if (url) host = new URL(url).hostname.replace(/^\[|\]$/g, '');
      return { state: rec.state, host, urls, dockerHealth: rec.dockerHealth, exitCode: rec.exitCode };
    },
  };
  const wake = new WakeManager({
    control: wakeControl,
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
  const metrics = new Metrics({
    inFlight: () => live.all().reduce((n, r) => n + r.describe().reduce((k, m) => k + m.inFlight, 0), 0),
    memberHealth: () =>
      live.all().flatMap((r) => r.spec.members.map((m) => ({ route: r.name, member: m.name, healthy: health.isUsable(m.id), asleep: m.container !== undefined && wake.stateOf(m.id) === 'asleep' }))),
    dockerSyncLag: () => docker.watchers().map((w) => ({ host: w.host, seconds: w.secondsSinceLastSync() })),
  });
  wake.onWake((r) => {
    metrics.wakeDone(r.container, r.ok, r.durationMs / 1000);
    // The wake passed readiness (health path, Docker health or TCP): that is a successful probe,
    // so held requests are not turned away while the health monitor catches up.
    if (r.ok) {
      for (const id of memberIdsOf(r.containerId)) {
        health.markReady(id);
        // Discovery lists a stopped container without an address; when it re-syncs with the
        // address the wake already probed, the health monitor would start that member over as
        // 'starting' (a new target) and turn requests away until its next probe.
        const url = wake.upstreamUrl(id, '');
        if (url !== '') readyAt.set(id, url);
      }
    }
  });
  /** Members the wake found ready at this URL, until discovery lists that URL. */
  const readyAt = new Map<string, string>();
  const memberIdsOf = (containerId: string): string[] =>
    live.all().flatMap((route) => route.spec.members.filter((m) => m.container?.id === containerId).map((m) => m.id));

  // A compose service whose last container vanished keeps its route (no members) for a while:
  // a recreate gap gets held requests or 503, never 404 (SPEC 4).
  const grace = new RecreateGrace({ onExpire: () => recompute() });
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
  const proxy: ProxyServer = createProxyServer({
    resolver: () => live.resolver,
    trustedProxies: config.entrypoint.trustedProxies,
    timeouts: config.entrypoint.timeouts,
    logger: log,
    accessLog: true,
    onRequestDone: (info) => metrics.requestDone(info.route, info.member, info.status, info.upstreamMs === undefined ? undefined : info.upstreamMs / 1000),
  });

  function parseOptions() {
    return {
      exposeAll: config.docker.exposeAll,
      self,
      defaults: {
        healthcheck: defaultHealthcheck(config),
        // All of defaults.load_balance (mode, sticky, sticky_max_age): labels override each.
        loadBalance: defaultLoadBalance(config),
      },
    };
  }

  function recompute(): void {
    const records = visible();
    const parsed = parseContainers(records, parseOptions());
    const fileRoutes = staticRoutes(config);
    const dockerRoutes = grace.retain(parsed.routes, fileRoutes);
    const built = buildRouteTable([...fileRoutes, ...dockerRoutes], { matchDomains: config.matchDomains });
    errors = [...parsed.errors, ...built.errors];
    warnings = parsed.warnings;
    const key = JSON.stringify(errors);
    if (key !== lastErrorKey) {
      lastErrorKey = key;
      for (const e of errors) log.warn({ module: 'labels', container: e.source, label: e.key, code: e.code }, e.message);
    }
    const routes = built.table.routes();
    live.update(built.table);
    health.sync(routes.map((r) => ({ name: r.name, members: r.members })));
    for (const r of routes) {
      for (const m of r.members) {
        const url = readyAt.get(m.id);
        if (url === undefined) continue;
        if (m.url === url && wake.stateOf(m.id) === 'awake') health.markReady(m.id);
        if (m.url !== '') readyAt.delete(m.id);
      }
    }
    for (const r of routes) for (const m of r.members) if (m.container) health.setDockerHealth(m.id, dockerHealthOf(m.container.dockerHealth));
    wake.sync({ routes, containers: records });
    log.debug({ module: 'routes', routes: routes.length, errors: errors.length }, 'route table swapped');
  }

  const admin = config.api.listen === '' ? undefined : createAdminServer(
    {
      serving: () => serving,
      routes: () => routesView(),
      explain: (host) => explainView(host),
    },
    metrics,
  );

  /** "2/3 members healthy", plus ", 1 asleep" when sleeping members explain the gap. */
  function summaryOf(route: ReturnType<LiveRoutes['all']>[number]): string {
    if (route.spec.refused !== undefined) return 'refused: asks for access control Bellhop cannot apply yet';
    const asleep = route.spec.members.filter((m) => m.container !== undefined && wake.stateOf(m.id) === 'asleep').length;
    const base = health.poolSummary(route.name);
    return asleep === 0 ? base : `${base}, ${String(asleep)} asleep`;
  }

  function memberView(route: ReturnType<LiveRoutes['all']>[number]) {
    const weights = new Map(route.describe().map((d) => [d.id, d]));
    return route.spec.members.map((m) => {
      const h = health.status(m.id);
      const w = weights.get(m.id);
      const sleep = m.container ? wake.stateOf(m.id) : undefined;
      return {
        name: m.name,
        container_id: m.container?.id ?? null,
        url: m.url,
        configured_weight: m.weight ?? null,
        normalised_weight: w?.normalisedWeight ?? null,
        in_flight: w?.inFlight ?? 0,
        health: h?.health ?? 'starting',
        usable: route.isUsable(m.id),
        state: sleep ?? 'awake',
        // "container exited" would read like a crash; it sleeps on purpose.
        reason: sleep === 'asleep' ? 'asleep (idle_timeout): the next request wakes it' : h?.reason ?? '',
        last_check: h?.lastCheck ?? null,
        latency_ms: h?.latencyMs ?? null,
      };
    });
  }

  function routesView() {
    const table = live.current;
    return {
      routes: live.all().map((r) => {
        const members = memberView(r);
        return {
          alias: r.name,
          hosts: r.spec.aliases,
          source: r.spec.source,
          load_balance: {
            mode: r.spec.loadBalance.mode,
            sticky: r.spec.loadBalance.sticky,
            sticky_max_age_ms: r.spec.loadBalance.stickyMaxAgeMs,
            options: r.spec.loadBalance.options ?? null,
          },
          summary: summaryOf(r),
          members,
          // Access control Bellhop cannot apply: every request gets 503 PROXY_ROUTE_REFUSED.
          refused: r.spec.refused === undefined ? null : { code: r.spec.refused.code, labels: r.spec.refused.keys, containers: r.spec.refused.sources, message: r.spec.refused.message },
        };
      }),
      match_domains: table?.matchDomains ?? [],
      containers: wake.status(),
      docker: docker.watchers().map((w) => {
        const lag = w.secondsSinceLastSync();
        return { ...w.status(), seconds_since_sync: Number.isFinite(lag) ? Math.round(lag * 10) / 10 : null };
      }),
      errors: [...configErrors, ...errors],
      warnings,
    };
  }

  function explainView(host: string) {
    const table = live.current;
    if (!table) return { host, rule: 'none', reason: 'no route table yet' };
    const ex = table.explain(host);
    const route = ex.route === undefined ? undefined : live.route(ex.route);
    return {
      ...ex,
      refused: route?.spec.refused?.message ?? null,
      pool: route
        ? { mode: route.spec.loadBalance.mode, sticky: route.spec.loadBalance.sticky, summary: summaryOf(route), members: memberView(route) }
        : null,
    };
  }

  return {
    proxy,
    admin,
    metrics,
    health,
    wake,
    docker,
    async start(listen = {}) {
      recompute(); // file routes serve at once, whatever Docker does
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
      recompute();
    },
    setConfigErrors(list) {
      configErrors = list.map((e) => e.toRouteError());
    },
    table: () => live.current,
    async stop() {
      serving = false;
      await proxy.drain();
      await docker.stop();
      grace.close();
      wake.close();
      await health.close();
      await admin?.close();
    },
  };
}
