// Composition: config → docker discovery → reconcile (labels → route table → live pools,
// health, wake) → proxy, with the admin API and metrics around them. main.ts owns the process
// (signals, exit codes); this file only wires and starts things, so tests can run a whole
// Bellhop in-process.
import type { Logger } from 'pino';
import { AccessLogs, type AccessLogHandle } from '../../internal/accesslog/index.ts';
import { parseTrustedProxies } from '../../pkg/realip/index.ts';
import { createAdminServer, createAdminViews, DashboardFeed, loadAdminAuth, Metrics, type AdminServer } from '../../internal/api/index.ts';
import { CertManager } from '../../internal/certs/index.ts';
import type { Config, ConfigError, ListenAddress } from '../../internal/config/index.ts';
import { parseYamlValue } from '../../internal/config/index.ts';
import { DockerHub, type SelfInfo } from '../../internal/docker/index.ts';
import { HealthMonitor } from '../../internal/health/index.ts';
import { LiveRoutes } from '../../internal/pools/index.ts';
import { middlewareDeps, type MiddlewareDeps } from '../../internal/middleware/index.ts';
import { createProxyServer, type HttpsPolicy, type ProxyServer } from '../../internal/proxy/index.ts';
import { entrypointChain, type EntrypointChain } from './entrypoint-chain.ts';
import { createServiceWakeControl, createWakeControl, Reconciler } from '../../internal/reconcile/index.ts';
import { hostNamesOf, type RouteError, type RouteTable } from '../../internal/routes/index.ts';
import { WakeManager } from '../../internal/wake/index.ts';
import { StreamManager } from '../../internal/streams/index.ts';

export interface Bellhop {
  readonly proxy: ProxyServer;
  readonly admin: AdminServer | undefined;
  readonly metrics: Metrics;
  readonly health: HealthMonitor;
  readonly wake: WakeManager;
  readonly docker: DockerHub;
  /** TCP/UDP stream listeners (docs/streams.md). */
  readonly streams: StreamManager;
  /** Certificates for the HTTPS entrypoint; undefined without `autocert`. */
  readonly certs: CertManager | undefined;
  /**
   * Listens on entrypoint.http, entrypoint.https (with `autocert`) and api.listen (or the given
   * overrides) and starts discovery.
   */
  start(listen?: { http?: ListenAddress; https?: ListenAddress; api?: ListenAddress }): Promise<{ httpPort: number; httpsPort: number | undefined; apiPort: number | undefined }>;
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
  /** Reopens every access log file at its path (SIGHUP after logrotate). */
  reopenAccessLogs(): Promise<void>;
  /** Writes every queued access log line (tests). */
  flushAccessLogs(): Promise<void>;
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
    swarm: config.docker.swarm,
    logger: log.child({ module: 'docker' }),
    onChange: () => recompute(),
  });
  // HTTPS (docs/https.md): an autocert block at startup decides; changing it needs a restart.
  const certs = config.autocert === undefined ? undefined : new CertManager(config.autocert, { logger: log.child({ module: 'certs' }) });
  /** Routes from the current labels and config; new route hosts get their certificates (http01/tlsalpn01 without domains). */
  const recompute = (): void => {
    reconciler.recompute();
    const table = live.current;
    if (certs !== undefined && table !== undefined) void certs.ensureHosts(hostNamesOf(table));
  };
  let httpsPort = 443;
  const httpsPolicy = (c: Config): HttpsPolicy | undefined => certs === undefined || c.entrypoint.httpsAddress === undefined ? undefined : {
    redirectHttp: c.entrypoint.redirectHttp,
    hsts: c.entrypoint.hsts,
    // the image listens on 8443 (non-root) behind a published 443
    publicPort: httpsPort === 8443 ? 443 : httpsPort,
    covers: (host) => certs.hasCertificateFor(host),
    httpChallenge: (token) => certs.httpChallenge(token),
  };
  const wake: WakeManager = new WakeManager({
    control: createWakeControl({
      records: () => reconciler.visible(),
      control: (host) => docker.control(host),
      parseOptions: () => reconciler.parseOptions(),
    }),
    services: createServiceWakeControl({
      records: () => reconciler.visible(),
      control: (host) => docker.serviceControl(host),
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
  // access logs (docs/access-log.md): the entrypoint's here, routes' through LiveRoutes.
  // Opening the entrypoint's file throws AccessLogError: main.ts reports it as a startup failure.
  let trustedSet = parseTrustedProxies(config.entrypoint.trustedProxies);
  const alogLog = log.child({ module: 'access-log' });
  const accessLogs = new AccessLogs({ log: alogLog, trusted: () => trustedSet });
  let entryLog: AccessLogHandle | undefined = config.entrypoint.accessLog === undefined ? undefined : accessLogs.open(config.entrypoint.accessLog);
  const mwLog = log.child({ module: 'middleware' });
  // oidc seals its cookies with a key derived from the sticky key (docs/middlewares.md#oidc);
  // forward_auth's `route` asks for a usable member of that route (by name, else by host)
  const mwDeps: MiddlewareDeps = {
    ...middlewareDeps(stickySecret),
    // rules' rule_file in GoDoxy's YAML list form (docs/rules.md): yaml lives in internal/config
    parseYaml: parseYamlValue,
    routeOrigin: (name) => {
      const route = live.route(name) ?? live.route(live.current?.explain(name).route ?? '');
      return route?.spec.members.find((m) => m.url !== '' && route.isUsable(m.id))?.url;
    },
  };
  let entryChain: EntrypointChain = entrypointChain(config.entrypoint.middlewares, mwLog, mwDeps);
  const live = new LiveRoutes({
    health,
    wake,
    stickySecret,
    middlewareDeps: mwDeps,
    openAccessLog: (spec) => accessLogs.open(spec),
    onAccessLogFailed: (route, err) => {
      alogLog.error({ route, err, code: (err as { code?: unknown }).code }, 'route access log cannot be used; the route serves without it');
    },
    onMiddlewareProblems: (route, problems, err) => {
      mwLog.error({ route, problems, err }, err === undefined ? 'route middlewares could not be built: the route answers 503 MIDDLEWARE_UNAVAILABLE' : 'a middleware failed: answered 500');
    },
    // A dead member's pool is destroyed: requests still connecting to its old address (no RST
    // once the veth is gone) are routed again at once instead of hanging until upstream_connect.
    onOriginsGone: (origins, dead) => {
      for (const o of origins) proxy.forgetOrigin(o, { abort: dead.has(o) });
    },
  });
  // Streams are one more requester of wakes and one more user of health (docs/streams.md).
  const streams = new StreamManager({ health, wake, logger: log.child({ module: 'streams' }), connectTimeoutMs: config.entrypoint.timeouts.upstreamConnectMs });
  const reconciler: Reconciler = new Reconciler({ config: () => config, self: () => self, records: () => docker.records(), live, health, wake, streams, logger: log });
  const views = createAdminViews({
    live,
    health,
    wake,
    docker,
    errors: () => [...configErrors, ...reconciler.errors, ...streams.errors()],
    warnings: () => reconciler.warnings,
    streams: () => streams.views(),
  });
  const metrics = new Metrics({
    inFlight: views.inFlight,
    memberHealth: views.memberHealth,
    dockerSyncLag: () => docker.watchers().map((w) => ({ host: w.host, seconds: w.secondsSinceLastSync() })),
    certificateExpiry: () => certs?.expirySeconds() ?? [],
    streams: () => streams.views(),
  });
  const certViews = () => (certs?.status() ?? []).map((c) => ({
    names: c.names, source: c.source, not_before: c.notBefore, not_after: c.notAfter, issuer: c.issuer,
    state: c.state, last_error: c.lastError, next_renewal: c.nextRenewal,
  }));
  // The dashboard's live picture and recent events (README "Dashboard").
  const feed = config.api.listen === '' ? undefined : new DashboardFeed(() => ({ ...views.routes(), certs: certViews() }));
  wake.onWake((r) => {
    feed?.wakeDone(r);
    metrics.wakeDone(r.container, r.ok, r.durationMs / 1000);
    reconciler.wakeDone(r);
  });
  const proxy: ProxyServer = createProxyServer({
    resolver: () => live.resolver,
    trustedProxies: config.entrypoint.trustedProxies,
    timeouts: config.entrypoint.timeouts,
    logger: log,
    accessLog: true,
    requestLog: entryLog?.hook,
    entryMiddleware: entryChain.handle,
    entryClientIpRule: entryChain.clientIpRule,
    onRequestDone: (info) => {
      if (info.route !== '-') feed?.rates.count(info.route);
      metrics.requestDone(info.route, info.member, info.status, info.upstreamMs === undefined ? undefined : info.upstreamMs / 1000);
    },
  });
  const admin = config.api.listen === '' ? undefined : createAdminServer({
    serving: () => serving,
    routes: views.routes,
    explain: views.explain,
    certs: certViews,
    wakeNow: (name) => wake.wakeNow(name),
    sleepNow: (name) => wake.sleepNow(name),
  }, metrics, { auth: config.api.auth === undefined ? undefined : loadAdminAuth(config.api.auth), feed });

  return {
    proxy,
    admin,
    certs,
    metrics,
    health,
    wake,
    docker,
    streams,
    async start(listen = {}) {
      recompute(); // file routes serve at once, whatever Docker does
      const http = await proxy.listen(listen.http ?? config.entrypoint.httpAddress);
      const httpsAddress = listen.https ?? config.entrypoint.httpsAddress;
      let https: { port: number; address: string } | undefined;
      if (certs !== undefined && httpsAddress !== undefined) {
        // stored certificates only (the file routes' hosts' too); a CA is never waited for
        await certs.start();
        await certs.ensureHosts(live.current === undefined ? [] : hostNamesOf(live.current));
        https = await proxy.listenHttps(httpsAddress, certs);
        httpsPort = https.port;
        proxy.setHttpsPolicy(httpsPolicy(config));
      }
      const apiAddress = listen.api ?? config.api.address;
      const api = admin !== undefined && apiAddress !== undefined ? await admin.listen(apiAddress) : undefined;
      if (api !== undefined && !admin!.actionsAllowed()) {
        log.warn({ module: 'api', api: `${api.address}:${String(api.port)}` }, 'THE ADMIN API LISTENS BEYOND LOOPBACK WITHOUT api.auth: anyone who reaches it sees every route and container; wake/sleep actions are refused (403). Set api.auth or listen on 127.0.0.1 (README "Dashboard")');
      }
      serving = true;
      log.info({ module: 'main', http: `${http.address}:${http.port}`, https: https ? `${https.address}:${String(https.port)}` : 'disabled', api: api ? `${api.address}:${api.port}` : 'disabled' }, 'bellhop is serving');
      if (config.docker.hosts.length > 0) {
        self = await docker.detectSelf();
        docker.start();
      }
      return { httpPort: http.port, httpsPort: https?.port, apiPort: api?.port };
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
      try {
        trustedSet = parseTrustedProxies(next.entrypoint.trustedProxies);
      } catch {
        // validated with the config; the proxy above has logged it if not
      }
      if (JSON.stringify(next.entrypoint.accessLog) !== JSON.stringify(config.entrypoint.accessLog)) {
        const old = entryLog;
        try {
          entryLog = next.entrypoint.accessLog === undefined ? undefined : accessLogs.open(next.entrypoint.accessLog);
          proxy.setRequestLog(entryLog?.hook);
          if (old !== undefined) void old.close();
          log.info({ module: 'config', path: entryLog?.path }, 'entrypoint.access_log applied');
        } catch (err) {
          alogLog.error({ err, code: 'ACCESS_LOG_OPEN_FAILED' }, 'entrypoint.access_log not applied; keeping the previous one');
        }
      }
      wake.setLogDisclosure({ showLogs: next.wake.showLogs, trustedProxies: next.entrypoint.trustedProxies });
      if (JSON.stringify(next.entrypoint.middlewares) !== JSON.stringify(config.entrypoint.middlewares)) {
        const old = entryChain;
        entryChain = entrypointChain(next.entrypoint.middlewares, mwLog, mwDeps);
        proxy.setEntryMiddleware(entryChain.handle, entryChain.clientIpRule);
        old.close();
      }
      if (next.autocert !== undefined && JSON.stringify(next.autocert) !== JSON.stringify(config.autocert)) {
        log.warn({ module: 'config' }, 'autocert changed: certificates follow the new block after a restart');
      }
      config = next;
      configErrors = [];
      if (certs !== undefined && config.entrypoint.httpsAddress !== undefined) proxy.setHttpsPolicy(httpsPolicy(config));
      recompute();
    },
    setConfigErrors(list) {
      configErrors = list.map((e) => e.toRouteError());
    },
    table: () => live.current,
    reopenAccessLogs: () => accessLogs.reopen(),
    flushAccessLogs: () => accessLogs.flush(),
    async stop() {
      serving = false;
      await proxy.drain();
      await accessLogs.close();
      entryChain.close();
      await docker.stop();
      reconciler.close();
      await streams.close();
      await certs?.close();
      wake.close();
      await health.close();
      feed?.close();
      await admin?.close();
    },
  };
}
