// Step 2 for one container: its aliases, each with the winning value of every field (docs/labels.md
// precedence), validated into one member per alias — or problems, and then nothing at all.

import type { BalanceModeName, HealthcheckSpec, MemberSpec, MiddlewareSpec, RealIpOptionsSpec, StreamListen } from '../routes/index.ts';
import type { LabelledContainer, SelfNetworks } from './labelled-container.ts';
import { parseContainerSettings } from './container-settings.ts';
import type { ContainerSettings } from './container-settings.ts';
import { knownPort } from './image-ports.ts';
import { isExplicit } from './expose-policy.ts';
import { FIELDS, resolvePath } from './field-schema.ts';
import { Kind, REFUSAL_PREFIX, collectLabels, refuse } from './label-collect.ts';
import type { Candidate, CollectedLabels, FieldStore, LabelProblem, ProblemScope } from './label-collect.ts';
import { LabelErrorCode as C } from './label-error-codes.ts';
import { defaultScheme, offeredPorts, selectPort, upstreamUrl } from './upstream-address.ts';
import { middlewaresOf } from './middleware-labels.ts';
import { rulesOf } from './rules-labels.ts';
import { accessLogOf } from './access-log-labels.ts';
import type { AccessLogSpec } from '../accesslog/index.ts';
import { aliasKind, streamMemberId } from './stream-entries.ts';
import type { PortValue, SchemeName } from './value-parsers.ts';

/** Pool settings one member set explicitly (unset ones never disagree). */
export interface ExplicitPoolSettings {
  mode?: { value: BalanceModeName; label: string };
  sticky?: { value: boolean; label: string };
  stickyMaxAgeMs?: { value: number; label: string };
  options?: { value: RealIpOptionsSpec; label: string };
}

/** One (container, alias) ready to join a pool. */
export interface MemberEntry {
  record: LabelledContainer;
  alias: string;
  /** load_balance.link when set explicitly. */
  link?: string | undefined;
  /** link ?? alias: the route this member serves. */
  poolKey: string;
  pool: ExplicitPoolSettings;
  member: MemberSpec;
  /** Labels asking for access control Bellhop cannot apply (sorted): the route refuses service. */
  refusedBy?: string[] | undefined;
  /** This alias's middlewares (docs/middlewares.md); the pool runs every member's (assemblePools). */
  middlewares?: MiddlewareSpec[] | undefined;
  /** This alias's access_log (docs/access-log.md); a pool uses its oldest member's. */
  accessLog?: AccessLogSpec | undefined;
  /** The compose service name answered besides the container name: yields to any other claim (assemblePools). */
  weak?: true | undefined;
  /** Set for a TCP/UDP stream alias (stream-entries.ts, docs/streams.md): it joins a stream route. */
  stream?: StreamListen | undefined;
}

export interface EntryOptions {
  self: SelfNetworks;
  healthcheck: HealthcheckSpec;
}

export interface ContainerResult {
  entries: MemberEntry[];
  problems: LabelProblem[];
  /** Errors that refuse aliases instead of dropping the container (see CollectedLabels). */
  refusals: LabelProblem[];
  warnings: LabelProblem[];
}

function better(a: Candidate, b: Candidate): boolean {
  return a.kind !== b.kind ? a.kind > b.kind : a.depth > b.depth;
}

function merge(stores: Array<FieldStore | undefined>): FieldStore {
  const out: FieldStore = new Map();
  for (const s of stores) {
    if (s === undefined) continue;
    for (const [field, cand] of s) {
      const prev = out.get(field);
      if (prev === undefined || better(cand, prev)) out.set(field, cand);
    }
  }
  return out;
}

function allStores(c: CollectedLabels): FieldStore[] {
  return [c.wildcard, c.base, ...c.index.values(), ...c.named.values()];
}

/** `proxy.ports: "80, 8080"` → `#1.port`, `#2.port`; refused when a full label sets the field too. */
function expandShortcuts(c: CollectedLabels, declared: number): void {
  for (const [field, sc] of c.shortcuts) {
    const clash = allStores(c).map((s) => s.get(field)).find((x) => x !== undefined);
    if (clash !== undefined) {
      c.problems.push({ code: C.SHORTCUT_CONFLICT, key: sc.label, message: `shortcut ${sc.label} conflicts with the full label ${clash.label}; use one or the other` });
      continue;
    }
    if (sc.items.length > declared) {
      c.problems.push({ code: C.ALIAS_INDEX, key: sc.label, message: `${sc.label} lists ${String(sc.items.length)} values but the container has ${String(declared)} alias(es)` });
      continue;
    }
    const def = FIELDS.get(field);
    if (def === undefined) {
      const res = resolvePath([field]);
      if (res.kind === 'ignored') c.warnings.push({ code: C.IGNORED_FIELD, key: sc.label, message: `${field} is a GoDoxy feature Bellhop does not implement; ignored` });
      else if (res.kind === 'refused') {
        // `proxy.rule_files: "a.yml, "`: each listed alias refuses service, as with proxy.#N.rule_file
        sc.items.forEach((_, i) => {
          let store = c.index.get(i + 1);
          if (store === undefined) c.index.set(i + 1, (store = new Map<string, Candidate>()));
          refuse(c, store, `${sc.label}[${String(i + 1)}]`, res, Kind.INDEX, 2, false);
        });
      }
      continue;
    }
    sc.items.forEach((item, i) => {
      const r = def.read(item);
      if (!r.ok) {
        // one bad item costs the alias it is for (#i), as a proxy.#i.<field> label would
        c.problems.push({ code: r.code, key: sc.label, message: `item ${String(i + 1)}: ${r.message}`, scope: { kind: 'index', index: i + 1 } });
        return;
      }
      let store = c.index.get(i + 1);
      if (store === undefined) c.index.set(i + 1, (store = new Map<string, Candidate>()));
      store.set(field, { value: r.value, label: sc.label, kind: Kind.INDEX, depth: 2 });
    });
  }
}

function identityOf(rec: LabelledContainer): string {
  if (rec.composeProject !== undefined && rec.composeService !== undefined) {
    return `${rec.composeProject}/${rec.composeService}/${String(rec.composeReplica ?? 1)}`;
  }
  return rec.name;
}

/** Parses one container's labels into member entries (empty when excluded or invalid). */
export function containerEntries(rec: LabelledContainer, opts: EntryOptions): ContainerResult {
  const c = collectLabels(rec.labels);
  const problems = c.problems;
  const settings = parseContainerSettings(rec, c.container, problems);
  if (settings.exclude) return { entries: [], problems: [], refusals: [], warnings: [] };
  const explicit = isExplicit(rec);

  const declared = settings.aliases;
  const aliases = [...declared];
  const warnings = c.warnings;

  for (const [n, labels] of c.indexLabels) {
    if (n < 1 || n > declared.length) {
      for (const key of labels) {
        problems.push({ code: C.ALIAS_INDEX, key, message: `#${String(n)} is out of range: the container has ${String(declared.length)} alias(es) (${declared.join(', ')}); #N counts from 1` });
      }
    }
  }
  expandShortcuts(c, declared.length);

  // Without proxy.aliases a compose container answers its service name too: labels naming the
  // service configure the default alias (a label naming the container wins a tie).
  const serviceAlias = settings.serviceAlias;
  for (const name of [...c.named.keys()].sort()) if (!aliases.includes(name) && name !== serviceAlias) aliases.push(name);

  // Health and balancing state is keyed by member id. A container serving two aliases on two
  // ports is two upstreams: the first port keeps the bare container ID, others get `:<port>`.
  let primaryPort: number | undefined;
  const built: Array<{ alias: string; index: number | undefined; link: string | undefined; entry: MemberEntry | undefined; hc: HealthcheckSpec; refusedBy: string[] }> = [];
  aliases.forEach((alias, i) => {
    const index = i < declared.length ? i + 1 : undefined;
    const isDefault = serviceAlias !== undefined && i === 0;
    const f = merge([c.base, c.wildcard, index !== undefined ? c.index.get(index) : undefined, c.named.get(alias), isDefault ? c.named.get(serviceAlias) : undefined]);
    const get = <T>(name: string): T | undefined => f.get(name)?.value as T | undefined;
    const labelOf = (name: string, fallback: string): string => f.get(name)?.label ?? fallback;
    const scope: ProblemScope = { kind: 'alias', alias };
    const fail = (code: string, key: string, message: string): void => void problems.push({ code, key, message, scope });
    const link = get<string>('load_balance.link');

    const hc: HealthcheckSpec = { ...opts.healthcheck };
    const path = get<string>('healthcheck.path');
    if (path !== undefined) hc.path = path;
    hc.intervalMs = get<number>('healthcheck.interval') ?? hc.intervalMs;
    hc.timeoutMs = get<number>('healthcheck.timeout') ?? hc.timeoutMs;
    hc.rise = get<number>('healthcheck.rise') ?? hc.rise;
    hc.fall = get<number>('healthcheck.fall') ?? get<number>('healthcheck.retries') ?? hc.fall;
    hc.useGet = get<boolean>('healthcheck.use_get') ?? hc.useGet;
    hc.disable = get<boolean>('healthcheck.disable') ?? hc.disable;
    const status = get<NonNullable<HealthcheckSpec['status']>>('healthcheck.status');
    if (status !== undefined) hc.status = status;
    const refusedBy = [...f].filter(([k]) => k.startsWith(REFUSAL_PREFIX)).map(([, cand]) => String(cand.value)).sort();
    const slot = { alias, index, link, entry: undefined as MemberEntry | undefined, hc, refusedBy };
    built.push(slot);

    // Middlewares first: a broken one must refuse the alias even when the rest is broken too.
    const before = problems.length;
    const middlewares = middlewaresOf(f, problems);
    // GoDoxy's rules (docs/rules.md): the first stage of the route's chain
    const rules = rulesOf(f, problems);
    if (rules !== undefined) middlewares.unshift(rules);
    // a bad access_log costs this alias only, like any other per-alias label
    const accessLog = accessLogOf(f, alias, problems);
    for (const p of problems.slice(before)) p.scope = scope;

    const portValue = get<PortValue>('port');
    const labelPort = portValue?.target;
    // GoDoxy's guess: no scheme, and the port is offered only as /udp → a UDP stream
    const udpPort = get<SchemeName>('scheme') === undefined ? udpOnlyPort(rec, labelPort, explicit) : undefined;
    const known = labelPort === undefined && udpPort === undefined ? knownPort(rec, alias) : undefined;
    const port = udpPort ?? known?.port ?? selectPort(rec, labelPort);
    if (port === undefined) {
      // A port label that failed to parse already has its own error; "no port" would contradict it.
      if (problems.some((p) => p.code === C.BAD_PORT && appliesTo(p.scope, alias, index, isDefault ? serviceAlias : undefined))) return;
      fail(C.NO_PORT, portLabel(alias, index), `no port to proxy to for alias "${alias}": the container exposes none; set ${portLabel(alias, index)}`);
      return;
    }
    // tcp/udp streams and h2c upstreams (stream-entries.ts): the one place an alias's kind is decided
    if (udpPort !== undefined) {
      warnings.push({ code: C.UDP_FROM_PORT, key: labelOf('port', `proxy.${alias}`), message: `alias "${alias}": port ${String(udpPort)} is offered only as ${String(udpPort)}/udp, so it is a UDP stream (as in GoDoxy); set proxy.${alias}.scheme to say otherwise`, scope });
    }
    const kind = aliasKind(alias, udpPort !== undefined ? 'udp' : get<SchemeName>('scheme'), portValue, get<string>('bind'), known?.scheme ?? defaultScheme(port), { port: labelOf('port', portLabel(alias, index)), bind: labelOf('bind', `proxy.${alias}.bind`) });
    warnings.push(...kind.warnings);
    const udpIdle = get<number>('udp_idle_timeout');
    if (udpIdle !== undefined) {
      if (kind.stream?.protocol === 'udp') kind.stream = { ...kind.stream, udpIdleTimeoutMs: udpIdle };
      else warnings.push({ code: C.FIELD_NOT_APPLICABLE, key: labelOf('udp_idle_timeout', `proxy.${alias}.udp_idle_timeout`), message: `udp_idle_timeout applies to udp streams only; alias "${alias}" is ${kind.stream === undefined ? "served on Bellhop's HTTP entrypoint" : 'a tcp stream'}` });
    }
    const scheme = kind.scheme;
    const url = upstreamUrl(rec, { scheme, port, host: get<string>('host'), network: settings.network, self: opts.self });
    if (!url.ok) {
      // A missing network is the container's problem, not one alias's.
      if (url.code === C.BAD_NETWORK) problems.push({ code: url.code, key: 'proxy.network', message: url.message });
      else fail(url.code, labelOf('port', portLabel(alias, index)), url.message);
      return;
    }

    const pool: ExplicitPoolSettings = {};
    const pick = <T>(name: string): { value: T; label: string } | undefined => {
      const cand = f.get(name);
      return cand === undefined ? undefined : { value: cand.value as T, label: cand.label };
    };
    const mode = pick<BalanceModeName>('load_balance.mode');
    if (mode) pool.mode = mode;
    const sticky = pick<boolean>('load_balance.sticky');
    if (sticky) pool.sticky = sticky;
    const maxAge = pick<number>('load_balance.sticky_max_age');
    if (maxAge) pool.stickyMaxAgeMs = maxAge;
    const header = f.get('load_balance.options.header');
    const from = f.get('load_balance.options.from');
    const recursive = f.get('load_balance.options.recursive');
    if (header !== undefined || from !== undefined || recursive !== undefined) {
      const fromList = (from?.value as string[] | undefined) ?? [];
      const label = (header ?? from ?? recursive)?.label ?? `proxy.${alias}.load_balance.options`;
      if (fromList.length === 0) {
        // GoDoxy accepts options without `from` and then believes the header from nobody; so
        // does Bellhop, and says so: iphash hashes the connection's own address.
        warnings.push({ code: C.IGNORED_FIELD, key: label, message: 'load_balance.options without "from" trusts no proxy, so the header is never read and iphash uses the connecting address (as in GoDoxy); add "from" with the CIDRs of your proxies to use it' });
      } else {
        const options: RealIpOptionsSpec = { header: (header?.value as string | undefined) ?? 'X-Real-IP', from: fromList, recursive: (recursive?.value as boolean | undefined) ?? false };
        pool.options = { value: options, label };
      }
    }

    if (kind.stream === undefined) primaryPort ??= port;
    else {
      hc.path = undefined; // a stream's check is a TCP connect
      if (kind.stream.protocol === 'udp') hc.disable = true; // no connect to check: Docker health only
    }
    const member = memberOf(rec, settings, {
      id: kind.stream !== undefined ? streamMemberId(rec.id, kind.stream.protocol, port) : port === primaryPort ? rec.id : `${rec.id}:${String(port)}`,
      url: url.value,
      weight: get<number>('load_balance.weight'),
      noTlsVerify: get<boolean>('no_tls_verify') ?? false,
      noPipelining: get<boolean>('no_pipelining') === true,
      h2c: kind.h2c,
      hc,
    });
    slot.entry = {
      record: rec, alias, link, poolKey: link ?? alias, pool, member, refusedBy: refusedBy.length > 0 ? refusedBy : undefined,
      ...(middlewares.length > 0 ? { middlewares } : {}),
      ...(accessLog !== undefined ? { accessLog } : {}),
      ...(kind.stream !== undefined ? { stream: kind.stream } : {}),
    };
  });

  if (!explicit) {
    // expose_all: a container with nothing to route to is skipped quietly, not an error.
    if (problems.length > 0 && problems.every((p) => p.code === C.NO_PORT)) {
      return { entries: [], problems: [], refusals: [], warnings: [{ code: C.SKIPPED_NO_PORT, key: '', message: 'exposes no port; not routed (docker.expose_all)' }] };
    }
  }
  const refusals = dedupe(c.refusals);
  // Container-level problems cost every route; a problem in one alias's labels costs that alias.
  if (problems.some((p) => p.scope === undefined && !isAccessProblem(p))) return { entries: [], problems: dedupe(problems), refusals, warnings: dedupe(warnings) };
  const entries: MemberEntry[] = [];
  for (const b of built) {
    const mine = problems.filter((p) => appliesTo(p.scope, b.alias, b.index, b.index === 1 ? serviceAlias : undefined));
    let entry = b.entry;
    if (mine.length > 0) {
      // Access control that cannot be applied fails closed: the alias stays, refusing service
      // (its pool too), instead of vanishing while a pool's other members serve it unprotected.
      const keys = [...new Set([...b.refusedBy, ...mine.filter(isAccessProblem).map((p) => p.key)])].sort();
      if (keys.length === 0) continue;
      entry = {
        record: rec, alias: b.alias, link: b.link, poolKey: b.link ?? b.alias, pool: {}, refusedBy: keys,
        member: entry?.member ?? memberOf(rec, settings, { id: rec.id, url: '', weight: undefined, noTlsVerify: false, noPipelining: false, hc: b.hc }),
      };
    }
    if (entry === undefined) continue;
    entries.push(entry);
    // The service name: a second name of the default alias, not on its own when it joins a link.
    if (b.index === 1 && serviceAlias !== undefined && b.link === undefined) entries.push({ ...entry, alias: serviceAlias, poolKey: serviceAlias, weak: true });
  }
  return { entries, problems: dedupe(problems), refusals, warnings: dedupe(warnings) };
}

/**
 * The port of a UDP stream GoDoxy would guess (docs/streams.md): the alias's port label names a
 * port the container offers only as /udp, or, with no port label, the container offers no TCP
 * port and exactly one UDP port. Only for containers with proxy labels: docker.expose_all never
 * opens a listener by itself.
 */
function udpOnlyPort(rec: LabelledContainer, labelPort: number | undefined, explicit: boolean): number | undefined {
  const udp = rec.udpPorts ?? [];
  if (udp.length === 0) return undefined;
  const tcp = offeredPorts(rec);
  if (labelPort !== undefined) return udp.includes(labelPort) && !tcp.includes(labelPort) ? labelPort : undefined;
  return explicit && tcp.length === 0 && udp.length === 1 ? udp[0] : undefined;
}

/** The label to suggest for an alias's port: a name with a dot cannot be a label key. */
function portLabel(alias: string, index: number | undefined): string {
  return alias.includes('.') && index !== undefined ? `proxy.#${String(index)}.port` : `proxy.${alias}.port`;
}

function appliesTo(scope: ProblemScope | undefined, alias: string, index: number | undefined, serviceAlias: string | undefined): boolean {
  if (scope === undefined) return true;
  if (scope.kind === 'index') return scope.index === index;
  return scope.alias === alias || (serviceAlias !== undefined && scope.alias === serviceAlias);
}

/** A problem in a middleware label: the alias must refuse service, never be served without it. */
export function isAccessProblem(p: LabelProblem): boolean {
  if (p.code === C.UNKNOWN_MIDDLEWARE || p.code === C.BAD_MIDDLEWARE || p.code === C.BAD_RULES || p.code === C.ACCESS_CONTROL_UNSUPPORTED || p.message.startsWith('field "middlewares')) return true;
  // proxy.<target>.middlewares…: the segment after the target (an alias may be named "middlewares")
  return (p.key.split('.')[2] ?? '').toLowerCase().replace(/[_-]/g, '') === 'middlewares';
}

function memberOf(
  rec: LabelledContainer,
  settings: ContainerSettings,
  m: { id: string; url: string; weight: number | undefined; noTlsVerify: boolean; noPipelining: boolean; h2c?: boolean; hc: HealthcheckSpec },
): MemberSpec {
  return {
    id: m.id,
    identity: identityOf(rec),
    name: rec.name,
    url: m.url,
    weight: m.weight,
    noTlsVerify: m.noTlsVerify,
    ...(m.noPipelining ? { noPipelining: true } : {}),
    ...(m.h2c === true ? { h2c: true } : {}),
    healthcheck: m.hc,
    container: {
      id: rec.id,
      name: rec.name,
      dockerHost: rec.dockerHost,
      createdAt: rec.createdAt,
      state: rec.state,
      dockerHealth: rec.dockerHealth,
      composeProject: rec.composeProject,
      composeService: rec.composeService,
      idle: settings.idle,
    },
  };
}

function dedupe(list: LabelProblem[]): LabelProblem[] {
  const seen = new Set<string>();
  return list.filter((p) => {
    const k = `${p.code}\u0000${p.key}\u0000${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
