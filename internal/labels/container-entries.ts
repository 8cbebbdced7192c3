// Step 2 for one container: its aliases, each with the winning value of every field (docs/labels.md
// precedence), validated into one member per alias — or problems, and then nothing at all.

import type { BalanceModeName, HealthcheckSpec, MemberSpec, MiddlewareSpec, RealIpOptionsSpec } from '../routes/index.ts';
import type { LabelledContainer, SelfNetworks } from './labelled-container.ts';
import { parseContainerSettings } from './container-settings.ts';
import { isExplicit } from './expose-policy.ts';
import { FIELDS } from './field-schema.ts';
import { Kind, REFUSAL_PREFIX, collectLabels } from './label-collect.ts';
import type { Candidate, CollectedLabels, FieldStore, LabelProblem } from './label-collect.ts';
import { LabelErrorCode as C } from './label-error-codes.ts';
import { defaultScheme, selectPort, upstreamUrl } from './upstream-address.ts';
import { middlewaresOf } from './middleware-labels.ts';

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
    if (def === undefined) continue;
    sc.items.forEach((item, i) => {
      const r = def.read(item);
      if (!r.ok) {
        c.problems.push({ code: r.code, key: sc.label, message: `item ${String(i + 1)}: ${r.message}` });
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
  for (const name of [...c.named.keys()].sort()) if (!aliases.includes(name)) aliases.push(name);

  for (const [n, labels] of c.indexLabels) {
    if (n < 1 || n > declared.length) {
      for (const key of labels) {
        problems.push({ code: C.ALIAS_INDEX, key, message: `#${String(n)} is out of range: the container has ${String(declared.length)} alias(es) (${declared.join(', ')}); #N counts from 1` });
      }
    }
  }
  expandShortcuts(c, declared.length);

  const entries: MemberEntry[] = [];
  // Health and balancing state is keyed by member id. A container serving two aliases on two
  // ports is two upstreams: the first port keeps the bare container ID, others get `:<port>`.
  let primaryPort: number | undefined;
  aliases.forEach((alias, i) => {
    const f = merge([c.base, c.wildcard, i < declared.length ? c.index.get(i + 1) : undefined, c.named.get(alias)]);
    const get = <T>(name: string): T | undefined => f.get(name)?.value as T | undefined;
    const labelOf = (name: string, fallback: string): string => f.get(name)?.label ?? fallback;

    const port = selectPort(rec, get<number>('port'));
    if (port === undefined) {
      // A port label that failed to parse already has its own error; "no port" would contradict it.
      if (problems.some((p) => p.code === C.BAD_PORT)) return;
      problems.push({ code: C.NO_PORT, key: `proxy.${alias}.port`, message: `no port to proxy to for alias "${alias}": the container exposes none; set proxy.${alias}.port` });
      return;
    }
    const scheme = get<'http' | 'https'>('scheme') ?? defaultScheme(port);
    const url = upstreamUrl(rec, { scheme, port, host: get<string>('host'), network: settings.network, self: opts.self });
    if (!url.ok) {
      problems.push({ code: url.code, key: url.code === C.BAD_NETWORK ? 'proxy.network' : labelOf('port', `proxy.${alias}.port`), message: url.message });
      return;
    }

    const hc: HealthcheckSpec = { ...opts.healthcheck };
    const path = get<string>('healthcheck.path');
    if (path !== undefined) hc.path = path;
    hc.intervalMs = get<number>('healthcheck.interval') ?? hc.intervalMs;
    hc.timeoutMs = get<number>('healthcheck.timeout') ?? hc.timeoutMs;
    hc.rise = get<number>('healthcheck.rise') ?? hc.rise;
    hc.fall = get<number>('healthcheck.fall') ?? hc.fall;
    hc.useGet = get<boolean>('healthcheck.use_get') ?? hc.useGet;
    hc.disable = get<boolean>('healthcheck.disable') ?? hc.disable;
    const status = get<NonNullable<HealthcheckSpec['status']>>('healthcheck.status');
    if (status !== undefined) hc.status = status;

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
      if (fromList.length === 0) {
        // GoDoxy silently ignores options without `from`; a header believed from nobody is a
        // mistake, so say so.
        problems.push({ code: C.BAD_VALUE, key: (header ?? recursive ?? from)?.label ?? `proxy.${alias}.load_balance.options`, message: 'load_balance.options needs "from": the CIDRs or IPs whose header is believed' });
        return;
      }
      const options: RealIpOptionsSpec = { header: (header?.value as string | undefined) ?? 'X-Real-IP', from: fromList, recursive: (recursive?.value as boolean | undefined) ?? false };
      pool.options = { value: options, label: (header ?? from ?? recursive)?.label ?? '' };
    }

    const middlewares = middlewaresOf(f, problems);
    const link = get<string>('load_balance.link');
    const refusedBy = [...f].filter(([k]) => k.startsWith(REFUSAL_PREFIX)).map(([, cand]) => String(cand.value)).sort();
    primaryPort ??= port;
    const member: MemberSpec = {
      id: port === primaryPort ? rec.id : `${rec.id}:${String(port)}`,
      identity: identityOf(rec),
      name: rec.name,
      url: url.value,
      weight: get<number>('load_balance.weight'),
      noTlsVerify: get<boolean>('no_tls_verify') ?? false,
      ...(get<boolean>('no_pipelining') === true ? { noPipelining: true } : {}),
      healthcheck: hc,
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
    entries.push({
      record: rec, alias, link, poolKey: link ?? alias, pool, member, refusedBy: refusedBy.length > 0 ? refusedBy : undefined,
      ...(middlewares.length > 0 ? { middlewares } : {}),
    });
  });

  const warnings = c.warnings;
  if (!explicit) {
    // expose_all: a container with nothing to route to is skipped quietly, not an error.
    if (problems.length > 0 && problems.every((p) => p.code === C.NO_PORT)) {
      return { entries: [], problems: [], refusals: [], warnings: [{ code: C.SKIPPED_NO_PORT, key: '', message: 'exposes no port; not routed (docker.expose_all)' }] };
    }
  }
  const refusals = dedupe(c.refusals);
  if (problems.length > 0) return { entries: [], problems: dedupe(problems), refusals, warnings: dedupe(warnings) };
  return { entries, problems: [], refusals, warnings: dedupe(warnings) };
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
