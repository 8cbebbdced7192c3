// Step 3, across containers: members → routes. Same pool key = one route. Members that set
// load_balance.link join whatever pool has that name; members without one own their alias, and
// only one owner group may (one compose service's replicas, or one container): the oldest.

import type { BalanceModeName, LoadBalanceSpec, MemberSpec, MiddlewareSpec, RouteError, RouteRefusal, RouteSpec } from '../routes/index.ts';
import type { ExplicitPoolSettings, MemberEntry } from './container-entries.ts';
import { LabelErrorCode as C } from './label-error-codes.ts';

/** A resolved claim or settings dispute, for the admin API. */
export interface RouteConflict {
  code: string;
  /** The route (alias or link) in dispute. */
  route: string;
  /** Containers whose claim or settings were kept. */
  kept: string[];
  /** Containers whose claim was dropped or whose settings were overruled. */
  overruled: string[];
  /** For settings conflicts: `mode`, `sticky`, `sticky_max_age` or `options`. */
  setting?: string | undefined;
  message: string;
}

/** `defaults.load_balance`: what a pool gets when none of its members' labels set a value. */
export interface PoolDefaults {
  mode: BalanceModeName;
  /** Sticky cookie for every pool (`defaults.load_balance.sticky`); absent means false. */
  sticky?: boolean | undefined;
  stickyMaxAgeMs: number;
}

function older(a: MemberEntry, b: MemberEntry): number {
  if (a.record.createdAt !== b.record.createdAt) return a.record.createdAt - b.record.createdAt;
  if (a.record.name !== b.record.name) return a.record.name < b.record.name ? -1 : 1;
  return a.record.id < b.record.id ? -1 : a.record.id > b.record.id ? 1 : 0;
}

/** Who owns an alias: one compose service (all its replicas) or one container. */
function ownerKey(e: MemberEntry): string {
  const r = e.record;
  return r.composeProject !== undefined && r.composeService !== undefined ? `compose:${r.composeProject}/${r.composeService}` : `container:${r.id}`;
}

const SETTINGS: Array<{ key: keyof ExplicitPoolSettings; name: string }> = [
  { key: 'mode', name: 'mode' },
  { key: 'sticky', name: 'sticky' },
  { key: 'stickyMaxAgeMs', name: 'sticky_max_age' },
  { key: 'options', name: 'options' },
];

function show(v: unknown): string {
  return JSON.stringify(v);
}

/**
 * One member asking for access control Bellhop cannot apply refuses the whole pool: its host
 * serves every member, so serving the others would serve the app unprotected all the same.
 */
function refusalOf(entries: readonly MemberEntry[]): RouteRefusal | undefined {
  const refusing = entries.filter((e) => e.refusedBy !== undefined);
  if (refusing.length === 0) return undefined;
  const keys = [...new Set(refusing.flatMap((e) => e.refusedBy ?? []))].sort();
  const sources = [...new Set(refusing.map((e) => e.record.name))].sort();
  const which = keys.length === 1 ? `access-control label ${keys[0] ?? ''} is` : `access-control labels ${keys.join(', ')} are`;
  return {
    code: C.ACCESS_CONTROL_UNSUPPORTED,
    keys,
    sources,
    message: `This route is refused: ${which} not supported by Bellhop yet or invalid (see the label errors), and the service is never served without ${keys.length === 1 ? 'it' : 'them'}`,
  };
}

/**
 * A pool's middlewares: every member's, by name (one host serves them all, so a member without
 * an allow-list must not open the pool to everyone). Members that set one middleware differently
 * are a settings conflict: the oldest member's options win.
 */
function poolMiddlewares(key: string, entries: readonly MiddlewareSpec[][], names: readonly string[], errors: RouteError[], conflicts: RouteConflict[]): MiddlewareSpec[] | undefined {
  const chosen = new Map<string, { spec: MiddlewareSpec; owner: string }>();
  entries.forEach((list, i) => {
    for (const m of list) {
      const prev = chosen.get(m.name);
      if (prev === undefined) {
        chosen.set(m.name, { spec: m, owner: names[i] ?? '' });
        continue;
      }
      if (show({ ...prev.spec, key: '' }) === show({ ...m, key: '' })) continue;
      const message = `pool "${key}" members disagree on middleware ${m.name}; using ${prev.owner}'s (oldest)`;
      errors.push({ code: C.POOL_SETTINGS_CONFLICT, source: names[i] ?? '', key: m.key, message });
      conflicts.push({ code: C.POOL_SETTINGS_CONFLICT, route: key, kept: [prev.owner], overruled: [names[i] ?? ''], setting: `middlewares.${m.name}`, message });
    }
  });
  if (chosen.size === 0) return undefined;
  return [...chosen.values()].map((c) => c.spec).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export interface AssembledPools {
  routes: RouteSpec[];
  errors: RouteError[];
  /** Service-name hosts left to another container (SERVICE_ALIAS_TAKEN). */
  warnings: RouteError[];
  conflicts: RouteConflict[];
}

/** Groups member entries into routes; deterministic for any input order. */
export function assemblePools(entries: MemberEntry[], defaults: PoolDefaults): AssembledPools {
  const groups = new Map<string, MemberEntry[]>();
  for (const e of entries) {
    const g = groups.get(e.poolKey);
    if (g === undefined) groups.set(e.poolKey, [e]);
    else g.push(e);
  }
  const routes: RouteSpec[] = [];
  const errors: RouteError[] = [];
  const warnings: RouteError[] = [];
  const conflicts: RouteConflict[] = [];

  for (const key of [...groups.keys()].sort()) {
    let group = (groups.get(key) ?? []).sort(older);
    // A compose service name answered besides the container name (docs/labels.md, "Default
    // aliases") never takes a host another container names as its alias; members joining by
    // link join whoever owns it, a service name included.
    const strong = group.filter((e) => e.weak !== true && e.link === undefined);
    const weak = group.filter((e) => e.weak === true);
    if (strong.length > 0 && weak.length > 0) {
      const holders = [...new Set(strong.map((e) => e.record.name))].join(', ');
      for (const w of weak) {
        warnings.push({ code: C.SERVICE_ALIAS_TAKEN, source: w.record.name, key: `proxy.${w.alias}`, message: `service name "${key}" is an alias of ${holders}; this container answers only its own name "${w.record.name.toLowerCase()}"` });
      }
      group = group.filter((e) => e.weak !== true);
    }
    // Ownership: the oldest owner group among members that did not ask to join by link.
    const owners = new Map<string, MemberEntry[]>();
    for (const e of group) {
      if (e.link !== undefined) continue;
      const k = ownerKey(e);
      owners.set(k, [...(owners.get(k) ?? []), e]);
    }
    const ownerKeys = [...owners.keys()]; // insertion order = age order (group is sorted)
    const winner = ownerKeys[0];
    const kept = group.filter((e) => e.link !== undefined || ownerKey(e) === winner);
    for (const loserKey of ownerKeys.slice(1)) {
      const losers = owners.get(loserKey) ?? [];
      const keptNames = (owners.get(winner ?? '') ?? []).map((e) => e.record.name);
      if (losers.every((l) => l.weak === true)) {
        // Two projects with a service of the same name: each keeps its container-name host;
        // the shared service name stays with the oldest, as it always did. Not an error.
        const message = `service name "${key}" is also a service of ${keptNames.join(', ')} (older), which keeps it; this container answers only its own name`;
        for (const l of losers) warnings.push({ code: C.SERVICE_ALIAS_TAKEN, source: l.record.name, key: `proxy.${l.alias}`, message });
        continue;
      }
      const message = `alias "${key}" is already served by ${keptNames.join(', ')} (older); this container's route for it is not served`;
      for (const l of losers) errors.push({ code: C.ALIAS_CONFLICT, source: l.record.name, key: 'proxy.aliases', message });
      conflicts.push({ code: C.ALIAS_CONFLICT, route: key, kept: keptNames, overruled: losers.map((l) => l.record.name), message });
    }

    const members: MemberSpec[] = [];
    const memberEntries: MemberEntry[] = [];
    for (const e of kept) {
      const dup = memberEntries.find((m) => m.record.id === e.record.id);
      if (dup !== undefined) {
        const message = `container joins pool "${key}" through aliases "${dup.alias}" and "${e.alias}"; only "${dup.alias}" is used`;
        errors.push({ code: C.POOL_DUPLICATE_MEMBER, source: e.record.name, key: `proxy.${e.alias}.load_balance.link`, message });
        conflicts.push({ code: C.POOL_DUPLICATE_MEMBER, route: key, kept: [e.record.name], overruled: [e.record.name], message });
        continue;
      }
      memberEntries.push(e);
      members.push(e.member);
    }

    const lb: LoadBalanceSpec = { mode: defaults.mode, sticky: defaults.sticky ?? false, stickyMaxAgeMs: defaults.stickyMaxAgeMs };
    for (const s of SETTINGS) {
      const setters = memberEntries.filter((e) => e.pool[s.key] !== undefined);
      const first = setters[0];
      if (first === undefined) continue;
      const chosen = first.pool[s.key];
      if (chosen === undefined) continue;
      const chosenText = show(chosen.value);
      if (s.key === 'mode') lb.mode = chosen.value as BalanceModeName;
      else if (s.key === 'sticky') lb.sticky = chosen.value as boolean;
      else if (s.key === 'stickyMaxAgeMs') lb.stickyMaxAgeMs = chosen.value as number;
      else lb.options = chosen.value as LoadBalanceSpec['options'];
      const dissent = setters.filter((e) => show(e.pool[s.key]?.value) !== chosenText);
      if (dissent.length === 0) continue;
      const all = setters.map((e) => `${e.record.name}=${show(e.pool[s.key]?.value)}`).join(', ');
      const message = `pool "${key}" members disagree on load_balance.${s.name} (${all}); using ${first.record.name}'s (oldest)`;
      for (const d of dissent) errors.push({ code: C.POOL_SETTINGS_CONFLICT, source: d.record.name, key: d.pool[s.key]?.label ?? '', message });
      conflicts.push({ code: C.POOL_SETTINGS_CONFLICT, route: key, kept: [first.record.name], overruled: dissent.map((d) => d.record.name), setting: s.name, message });
    }

    const refusal = refusalOf(memberEntries);
    const middlewares = poolMiddlewares(key, memberEntries.map((e) => e.middlewares ?? []), memberEntries.map((e) => e.record.name), errors, conflicts);
    if (refusal !== undefined) routes.push({ name: key, aliases: [key], loadBalance: lb, members: [], source: 'docker', refused: refusal });
    else {
      // access_log (docs/access-log.md): the oldest member's that has one
      const accessLog = memberEntries.find((e) => e.accessLog !== undefined)?.accessLog;
      routes.push({ name: key, aliases: [key], loadBalance: lb, members, source: 'docker', ...(middlewares !== undefined ? { middlewares } : {}), ...(accessLog !== undefined ? { accessLog } : {}) });
    }
  }
  return { routes, errors, warnings, conflicts };
}
