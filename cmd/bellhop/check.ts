// `bellhop check [compose.yml]`: reads a compose file offline, turns each service into the
// ContainerRecords Docker would report for it, and runs the same label parser and route-table
// builder as the live path, so what it prints is what Bellhop would route. Addresses are
// unknown offline: members show `<service>:<port>`, the name compose's DNS gives them.
import { accessLogProblems } from './access-log-paths.ts';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  COMPOSE_FILE_NAMES,
  ComposeFileError,
  defaultHealthcheck,
  defaultLoadBalance,
  formatConfigErrors,
  formatDuration,
  formatHealthyStatus,
  loadConfig,
  readComposeFile,
  type ComposeFile,
  type Config,
} from '../../internal/config/index.ts';
import { parseComposeDependsOn, type ContainerRecord, type SelfInfo } from '../../internal/docker/index.ts';
import { GodoxyDifferenceCode, LabelErrorCode, godoxyDifferences, parseContainers } from '../../internal/labels/index.ts';
import { buildRouteTable, hostNamesOf, type HealthcheckSpec, type IdleSpec, type RealIpOptionsSpec, type RouteRefusal } from '../../internal/routes/index.ts';
import { normaliseWeights } from '../../pkg/balance/index.ts';
import { isCertifiableHost } from '../../internal/certs/index.ts';
import { inRunOrder } from '../../internal/middleware/index.ts';

const { existsSync } = process.getBuiltinModule('node:fs');

/** Docker host recorded on offline containers (never contacted). */
const OFFLINE_HOST = 'unix:///var/run/docker.sock';

export interface CheckMember {
  /** Container name compose would give it (`<project>-<service>-<n>` or container_name). */
  name: string;
  service: string;
  replica: number;
  /** `http://whoami:80`: the service name stands in for the container address. '' when none. */
  url: string;
  configuredWeight: number | undefined;
  /** `no_tls_verify`: the https upstream's certificate is not checked. */
  noTlsVerify: boolean;
  /** Share of 100 after normalisation (docs/balancing.md). */
  weight: number;
  healthcheck: HealthcheckSpec;
  idle: IdleSpec | undefined;
}

export interface CheckRoute {
  name: string;
  hosts: string[];
  mode: string;
  sticky: boolean;
  stickyMaxAgeMs: number;
  options: RealIpOptionsSpec | undefined;
  members: CheckMember[];
  /** Access control Bellhop cannot apply: live, the hosts answer 503 PROXY_ROUTE_REFUSED (and it has no members). */
  refused: RouteRefusal | undefined;
  /** Its middlewares in run order (docs/middlewares.md): name, priority, bypass rules. */
  middlewares: Array<{ name: string; priority: number; bypass: string[] }>;
}

/** One problem, located: the compose service, its container, the label (or compose key). */
export interface CheckProblem {
  code: string;
  service: string | undefined;
  container: string | undefined;
  label: string;
  message: string;
}

export interface CheckReport {
  file: string;
  project: string;
  services: number;
  containers: number;
  matchDomains: string[];
  routes: CheckRoute[];
  /** TCP/UDP stream routes (docs/streams.md). */
  streams: CheckStream[];
  errors: CheckProblem[];
  warnings: CheckProblem[];
  /** Where GoDoxy would behave differently with this file (docs/migrating-from-godoxy.md): notes, never errors. */
  godoxy: CheckProblem[];
  /** Services with at least one proxy.* label. */
  labelled: number;
  /** With an autocert block: where certificates come from and, per host, which hosts get one. */
  https?: { provider: string; domains: string[]; perHostCertificates: string[] } | undefined;
}

/** A TCP/UDP stream route: where Bellhop listens, where it forwards (docs/streams.md). */
export interface CheckStream {
  name: string;
  protocol: 'tcp' | 'udp';
  /** The listening port; 0: any free port. */
  listen: number;
  /** The listening address; undefined: every interface. */
  bind: string | undefined;
  /** The first member's `host:port` ('' without an address). */
  target: string;
  mode: string;
  members: Array<{ name: string; url: string }>;
}

interface Origin {
  service: string;
  replica: number;
}

/** Compose service → the ContainerRecords `docker compose up` would create (one per replica). */
export function composeRecords(compose: ComposeFile): { records: ContainerRecord[]; origins: Map<string, Origin>; self: SelfInfo } {
  const records: ContainerRecord[] = [];
  const origins = new Map<string, Origin>();
  const selfNetworks = new Set<string>();
  compose.services.forEach((svc, index) => {
    // Bellhop's own service decides which shared network is preferred (docs/docker.md).
    if (/(^|\/)bellhop(:|@|$)/.test(svc.image)) for (const n of svc.networks) selfNetworks.add(n);
    const published: Record<number, number> = {};
    for (const p of svc.ports) if (p.published !== undefined && published[p.target] === undefined) published[p.target] = p.published;
    const exposed = [...new Set([...svc.expose, ...svc.ports.map((p) => p.target)])].sort((a, b) => a - b);
    const dependsOn = svc.dependsOn.map((d) => `${d.service}:${d.condition}:${String(d.restart)}`).join(',');
    for (let replica = 1; replica <= svc.replicas; replica++) {
      const name = svc.containerName !== undefined ? (replica === 1 ? svc.containerName : `${svc.containerName}-${String(replica)}`) : `${compose.project}-${svc.name}-${String(replica)}`;
      const labels: Record<string, string> = {
        ...svc.labels,
        'com.docker.compose.project': compose.project,
        'com.docker.compose.service': svc.name,
        'com.docker.compose.container-number': String(replica),
        'com.docker.compose.oneoff': 'False',
      };
      if (dependsOn !== '') labels['com.docker.compose.depends_on'] = dependsOn;
      const id = `offline-${compose.project}-${svc.name}-${String(replica)}`;
      origins.set(name, { service: svc.name, replica });
      records.push({
        id,
        name,
        dockerHost: OFFLINE_HOST,
        remoteAddress: undefined,
        labels,
        image: svc.image,
        // File order stands in for creation order: the first service is the "oldest".
        createdAt: index * 1000 + replica,
        state: 'running',
        dockerHealth: undefined,
        networkMode: svc.networkMode ?? svc.networks[0] ?? 'bridge',
        networks: svc.networks.map((n) => ({ name: n, ip: svc.name })),
        exposedPorts: exposed,
        publishedPorts: published,
        udpPorts: svc.udpPorts,
        composeProject: compose.project,
        composeService: svc.name,
        composeReplica: replica,
        composeDependsOn: parseComposeDependsOn(labels['com.docker.compose.depends_on']),
      });
    }
  });
  return { records, origins, self: { networks: [...selfNetworks].sort() } };
}

/** Runs the live label parser and route-table builder over a compose file's containers. */
export function checkCompose(compose: ComposeFile, config: Config): CheckReport {
  const { records, origins, self } = composeRecords(compose);
  const parsed = parseContainers(records, {
    exposeAll: config.docker.exposeAll,
    self,
    defaults: {
      healthcheck: defaultHealthcheck(config),
      loadBalance: defaultLoadBalance(config), // the same defaults as the live app, sticky included
    },
  });
  const built = buildRouteTable(parsed.routes, { matchDomains: config.matchDomains });
  const godoxy: CheckProblem[] = [];
  for (const rec of records) {
    const origin = origins.get(rec.name);
    for (const d of godoxyDifferences(rec)) godoxy.push({ code: d.code, service: origin?.service, container: rec.name, label: d.key, message: d.message });
  }
  if (!config.docker.exposeAll) {
    // GoDoxy routes every container that is not a database: say which ones Bellhop leaves out.
    // Bellhop itself (and GoDoxy, in a file being migrated) is the proxy, not a route.
    const proxy = /(^|\/)(bellhop|godoxy[\w-]*)(:|@|$)/;
    const unlabelled = records.filter((rec) => !proxy.test(rec.image) && !Object.keys(rec.labels).some((k) => k === 'proxy' || k.startsWith('proxy.')));
    const would = parseContainers(unlabelled, { exposeAll: true, self, defaults: { healthcheck: defaultHealthcheck(config), loadBalance: defaultLoadBalance(config) } });
    const hostsOf = new Map<string, string[]>();
    for (const r of would.routes) for (const m of r.members) hostsOf.set(m.name, [...(hostsOf.get(m.name) ?? []), r.name]);
    for (const rec of unlabelled) {
      const hosts = hostsOf.get(rec.name);
      if (hosts === undefined) continue;
      godoxy.push({
        code: GodoxyDifferenceCode.UNLABELLED, service: origins.get(rec.name)?.service, container: rec.name, label: '',
        message: `GoDoxy would route it without labels (as ${hosts.includes(rec.name.toLowerCase()) ? rec.name.toLowerCase() : hosts.join(', ')}); Bellhop routes only containers with a proxy.* label unless docker.expose_all is true`,
      });
    }
  }
  const byService = new Map(compose.services.map((s) => [s.name, s]));

  const locate = (e: { code: string; source: string; key: string; message: string }): CheckProblem => {
    const origin = origins.get(e.source);
    return { code: e.code, service: origin?.service, container: origin ? e.source : undefined, label: e.key, message: e.message };
  };
  const errors: CheckProblem[] = compose.problems.map((p) => ({ code: 'COMPOSE_BAD_VALUE', service: p.service, container: undefined, label: p.key, message: p.message }));
  const warnings: CheckProblem[] = parsed.warnings.map(locate);
  for (const e of [...parsed.errors, ...built.errors]) {
    const p = locate(e);
    const svc = p.service === undefined ? undefined : byService.get(p.service);
    // Offline the image's own EXPOSE list is unknown: a service with no ports in the file may
    // still work live, so this cannot be called an error here.
    if (e.code === LabelErrorCode.NO_PORT && svc !== undefined && svc.expose.length === 0 && svc.ports.length === 0) {
      warnings.push({ ...p, message: `no port in this file (no ${p.label} label, "expose:" or "ports:"), so this container's routes are not shown; live, it works only if its image EXPOSEs a port, which only Docker knows. Set ${p.label} or "expose:" to check it here` });
    } else errors.push(p);
  }
  // Replicas report the same label problem once each; show it once per service.
  const dedupe = (list: CheckProblem[]) => {
    const seen = new Set<string>();
    return list.filter((p) => {
      const k = `${p.service ?? p.container ?? ''}\0${p.code}\0${p.label}\0${p.message}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  };

  const routes = built.table.routes().map((r): CheckRoute => {
    const weights = normaliseWeights(r.members.map((m) => ({ name: m.name, weight: m.weight })));
    return {
      name: r.name,
      hosts: [...r.aliases],
      mode: r.loadBalance.mode,
      sticky: r.loadBalance.sticky,
      stickyMaxAgeMs: r.loadBalance.stickyMaxAgeMs,
      options: r.loadBalance.options,
      refused: r.refused,
      middlewares: inRunOrder(r.middlewares ?? []).map((m) => ({ name: m.name, priority: m.priority, bypass: [...m.bypass] })),
      members: r.members.map((m, i) => {
        const origin = origins.get(m.name);
        return {
          name: m.name,
          service: origin?.service ?? m.container?.composeService ?? '',
          replica: origin?.replica ?? 1,
          // h2c members keep an http:// origin; shown as GoDoxy writes them
          url: m.h2c === true ? m.url.replace(/^http:/, 'h2c:') : m.url,
          configuredWeight: m.weight,
          noTlsVerify: m.noTlsVerify,
          weight: weights[i] ?? 0,
          healthcheck: m.healthcheck,
          idle: m.container?.idle,
        };
      }),
    };
  });
  return {
    file: compose.file,
    project: compose.project,
    services: compose.services.length,
    containers: records.length,
    matchDomains: [...built.table.matchDomains],
    routes,
    streams: parsed.streams.map((s) => ({
      name: s.name,
      protocol: s.stream.protocol,
      listen: s.stream.port,
      bind: s.stream.bind,
      target: (s.members[0]?.url ?? '').replace(/^(tcp|udp):\/\//, ''),
      mode: s.loadBalance.mode,
      members: s.members.map((m) => ({ name: m.name, url: m.url })),
    })),
    errors: dedupe(errors),
    warnings: dedupe(warnings),
    godoxy: dedupe(godoxy),
    labelled: compose.services.filter((svc) => Object.keys(svc.labels).some((k) => k === 'proxy' || k.startsWith('proxy.'))).length,
    https: httpsReport(config, built.table),
  };
}

/** What HTTPS would do with these routes (docs/https.md): per-host certificates need http01/tlsalpn01 and no domains. */
function httpsReport(config: Config, table: Parameters<typeof hostNamesOf>[0]): CheckReport['https'] {
  const a = config.autocert;
  if (a === undefined) return undefined;
  const perHost = (a.provider === 'http01' || a.provider === 'tlsalpn01') && a.domains.length === 0;
  return { provider: a.provider, domains: [...a.domains], perHostCertificates: perHost ? hostNamesOf(table).filter(isCertifiableHost) : [] };
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${String(n)} ${n === 1 ? one : many}`;
}

function describeHealthcheck(h: HealthcheckSpec): string {
  if (h.disable) return 'disabled';
  const how = h.path === undefined ? 'TCP connect' : `HTTP ${h.useGet ? 'GET' : 'HEAD'} ${h.path}`;
  // Only a configured status is shown: the default (200-399) is documented and would be noise.
  const status = h.path !== undefined && h.status !== undefined ? `status ${formatHealthyStatus(h.status)}, ` : '';
  return `${how} every ${formatDuration(h.intervalMs)} (${status}timeout ${formatDuration(h.timeoutMs)}, rise ${String(h.rise)}, fall ${String(h.fall)})`;
}

function describeIdle(i: IdleSpec): string {
  const parts = [`sleeps after ${formatDuration(i.idleTimeoutMs)} idle`, `by ${i.stopMethod}${i.stopSignal === undefined ? '' : ` (${i.stopSignal})`}`, `wake timeout ${formatDuration(i.wakeTimeoutMs)}`, `stop timeout ${formatDuration(i.stopTimeoutMs)}`];
  if (i.startEndpoint !== undefined) parts.push(`only ${i.startEndpoint} wakes it`);
  if (i.dependsOn.length > 0) parts.push(`wakes first: ${i.dependsOn.join(', ')}`);
  if (i.noLoadingPage) parts.push('no loading page');
  const ig = i.ignore;
  if (ig !== undefined) {
    // `;` between the rules: the parts of this line are already separated by commas.
    const rules: string[] = [];
    if (ig.userAgents.length > 0) rules.push(`User-Agent contains ${ig.userAgents.map((a) => JSON.stringify(a)).join(' or ')}`);
    if (ig.from.length > 0) rules.push(`from ${ig.from.join(' ')}`);
    if (ig.paths.length > 0) rules.push(`path ${ig.paths.join(' ')}`);
    parts.push(`not activity, never wakes it: ${rules.join('; ')}`);
  }
  return parts.join(', ');
}

function address(url: string): string {
  if (url === '') return '(no address: not on a network Bellhop can reach)';
  return url.startsWith('http://') ? url.slice('http://'.length) : url;
}

function describeProblem(p: CheckProblem): string {
  const where = p.service === undefined ? '' : `service ${p.service}${p.container !== undefined ? ` (${p.container})` : ''}: `;
  return `  ${where}${p.label === '' ? '' : `${p.label}: `}${p.message} [${p.code}]`;
}

/** Human-readable report: routes with hosts, pool settings, members and weights, then problems. */
export function formatCheckReport(r: CheckReport, shownFile = r.file): string {
  const out: string[] = [`${shownFile}: project "${r.project}", ${plural(r.services, 'service')}, ${plural(r.containers, 'container')}`];
  if (r.matchDomains.length > 0) out.push(`match domains: ${r.matchDomains.join(', ')}`);
  for (const route of r.routes) {
    out.push('', `${route.name}  hosts: ${route.hosts.join(', ')}`);
    if (route.refused !== undefined) {
      out.push(`  REFUSED (every request gets 503 PROXY_ROUTE_REFUSED): ${route.refused.keys.join(', ')} on ${route.refused.sources.join(', ')} asks for access control Bellhop cannot apply yet`);
      continue;
    }
    const lb = [route.mode];
    if (route.sticky) lb.push(`sticky (max age ${route.stickyMaxAgeMs === 0 ? 'session' : formatDuration(route.stickyMaxAgeMs)})`);
    if (route.options !== undefined) lb.push(`real IP from ${route.options.header} via ${route.options.from.join(' ')}${route.options.recursive ? ' (recursive)' : ''}`);
    out.push(`  pool: ${lb.join(', ')}`);
    if (route.middlewares.length > 0) {
      // GoDoxy's rules run before every middleware: their priority is no number a user sets
      const shown = route.middlewares.map((m) => (m.name === 'rules' ? 'rules (first, docs/rules.md)' : `${m.name} (priority ${String(m.priority)}${m.bypass.length > 0 ? `; bypass ${m.bypass.join(', ')}` : ''})`));
      out.push(`  middlewares: ${shown.join(' → ')}`);
    }
    const width = Math.max(...route.members.map((m) => m.name.length));
    const addrWidth = Math.max(...route.members.map((m) => address(m.url).length));
    for (const m of route.members) {
      const w = `weight ${String(m.weight)}${m.configuredWeight === undefined ? '' : ` (configured ${String(m.configuredWeight)})`}`;
      out.push(`  - ${m.name.padEnd(width)}  ${address(m.url).padEnd(addrWidth)}  ${w}${m.noTlsVerify ? ', TLS not verified (no_tls_verify)' : ''}`);
    }
    const hcs = [...new Set(route.members.map((m) => describeHealthcheck(m.healthcheck)))];
    if (hcs.length === 1) out.push(`  healthcheck: ${hcs[0] ?? ''}`);
    else for (const m of route.members) out.push(`  healthcheck of ${m.name}: ${describeHealthcheck(m.healthcheck)}`);
    const idles = new Map<string, string>();
    for (const m of route.members) if (m.idle !== undefined) idles.set(m.service, describeIdle(m.idle));
    for (const [service, text] of idles) out.push(`  ${idles.size > 1 || route.members.some((m) => m.idle === undefined) ? `${service} ` : ''}${text}`);
  }
  for (const st of r.streams) {
    out.push('', `${st.name}  ${st.protocol} stream, listens on ${st.bind ?? '0.0.0.0'}:${st.listen === 0 ? '<any free port>' : String(st.listen)}`, `  pool: ${st.mode}`);
    for (const m of st.members) out.push(`  - ${m.name}  ${m.url === '' ? address(m.url) : m.url}`);
  }
  if (r.routes.length === 0 && r.streams.length === 0) {
    const why = r.labelled === 0 ? 'no service has a proxy.* label'
      : r.errors.length > 0 ? `every labelled service has errors (${plural(r.labelled, 'service')} with proxy.* labels; see below)`
      : 'every labelled service is excluded or has nothing to route to (see the warnings)';
    out.push('', `no routes: ${why}`);
  }
  if (r.https !== undefined) {
    const what = r.https.domains.length > 0 ? `one certificate for ${r.https.domains.join(', ')}`
      : r.https.perHostCertificates.length > 0 ? `a certificate per host: ${r.https.perHostCertificates.join(', ')}`
      : r.https.provider === 'local' ? 'certificate files' : 'no host with a dot to certify yet';
    out.push('', `https (${r.https.provider}): ${what}`);
  }
  if (r.errors.length > 0) out.push('', `errors (${String(r.errors.length)}):`, ...r.errors.map(describeProblem));
  if (r.warnings.length > 0) out.push('', `warnings (${String(r.warnings.length)}):`, ...r.warnings.map(describeProblem));
  if (r.godoxy.length > 0) out.push('', `differences from GoDoxy (${String(r.godoxy.length)}; deliberate, see docs/migrating-from-godoxy.md):`, ...r.godoxy.map(describeProblem));
  const members = r.routes.reduce((n, x) => n + x.members.length, 0);
  out.push('', `${plural(r.routes.length, 'route')}, ${plural(members, 'member')}, ${plural(r.errors.length, 'error')}, ${plural(r.warnings.length, 'warning')}`);
  return `${out.join('\n')}\n`;
}

const USAGE = `usage: bellhop check [--json] [compose.yml]
Reads a compose file offline and prints the routes and pools its labels produce, and every label
error. Default file: ./compose.yaml, ./compose.yml, ./docker-compose.yaml, ./docker-compose.yml.
Exit status: 0 no errors, 1 label errors, 2 the file cannot be read.
`;

interface Streams {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

const processStreams: Streams = {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
};

/** `bellhop check` entry point; returns the exit status. */
export function runCheck(args: string[], env: NodeJS.ProcessEnv, cwd: string, io: Streams = processStreams): Promise<number> {
  return Promise.resolve(check(args, env, cwd, io));
}

function check(args: string[], env: NodeJS.ProcessEnv, cwd: string, io: Streams): number {
  let json = false;
  const files: string[] = [];
  for (const a of args) {
    if (a === '--json') json = true;
    else if (a === '-h' || a === '--help') {
      io.stdout(USAGE);
      return 0;
    } else if (a.startsWith('-') && a !== '-') {
      io.stderr(`bellhop check: unknown option ${a}\n${USAGE}`);
      return 2;
    } else files.push(a);
  }
  if (files.length > 1) {
    io.stderr(`bellhop check: give one compose file\n${USAGE}`);
    return 2;
  }
  const named = files[0] ?? COMPOSE_FILE_NAMES.find((f) => existsSync(resolve(cwd, f)));
  if (named === undefined) {
    io.stderr(`bellhop check: no compose file given and none of ${COMPOSE_FILE_NAMES.join(', ')} here\n`);
    return 2;
  }
  let compose: ComposeFile;
  try {
    compose = readComposeFile(resolve(cwd, named), env);
  } catch (err) {
    if (!(err instanceof ComposeFileError)) throw err;
    io.stderr(`bellhop check: ${err.message} [${err.code}]\n`);
    return 2;
  }
  const loaded = loadConfig({ env, cwd });
  let config: Config;
  let configFailed = false;
  if (loaded.ok) {
    config = loaded.config;
    // access_log files that cannot be opened stop Bellhop at start: say so here too
    const alog = accessLogProblems(config, cwd);
    if (alog.length > 0) {
      configFailed = true;
      io.stderr(`bellhop check: ${String(alog.length)} access log file(s) cannot be opened [ACCESS_LOG_OPEN_FAILED]:\n${alog.map((p) => `  ${p.key}: ${p.message}`).join('\n')}\n`);
    }
  } else {
    configFailed = true;
    io.stderr(`bellhop check: the config has ${String(loaded.errors.length)} problem(s); checking with built-in defaults:\n${formatConfigErrors(loaded.errors)}\n`);
    // A folder without config.yml gives the built-in defaults.
    const defaults = loadConfig({ env: {}, cwd: join(tmpdir(), `bellhop-check-defaults-${String(process.pid)}`) });
    if (!defaults.ok) throw new Error('built-in defaults do not load');
    config = defaults.config;
  }
  const report = checkCompose(compose, config);
  io.stdout(json ? `${JSON.stringify(report, null, 2)}\n` : formatCheckReport(report, named));
  return report.errors.length > 0 || configFailed ? 1 : 0;
}
