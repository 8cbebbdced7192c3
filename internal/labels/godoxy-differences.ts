// Where a container's labels mean something different under GoDoxy (docs/migrating-from-godoxy.md).
// Not errors: Bellhop's meaning is deliberate; `bellhop check` shows these so a GoDoxy user sees
// every difference that applies to their file. Pure: labels in, notes out.

import { defaultAliases } from './container-settings.ts';
import { isExplicit } from './expose-policy.ts';
import { normSegment } from './field-schema.ts';
import type { LabelledContainer } from './labelled-container.ts';
import { parseYamlMapping } from './yaml-label.ts';

/** Stable codes of the notes (docs/migrating-from-godoxy.md). */
export const GodoxyDifferenceCode = {
  /** Compose containers also answer their service name. */
  SERVICE_ALIAS: 'GODOXY_SERVICE_ALIAS',
  /** `proxy.app.<f>` (or `#N`) and `proxy.*.<f>`: GoDoxy's wildcard wins, Bellhop's alias label. */
  WILDCARD_PRECEDENCE: 'GODOXY_WILDCARD_PRECEDENCE',
  /** GoDoxy normalises weights but never balances by them. */
  WEIGHT: 'GODOXY_WEIGHT',
  /** GoDoxy's retries only delay the down notification. */
  RETRIES: 'GODOXY_RETRIES',
  /** Sticky without sticky_max_age: GoDoxy sets a session cookie. */
  STICKY_MAX_AGE: 'GODOXY_STICKY_MAX_AGE',
  /** `round_robin`, `least_conn`, `ip_hash`: GoDoxy's current release falls back to round robin. */
  MODE_SPELLING: 'GODOXY_MODE_SPELLING',
  /** GoDoxy ignores the proxy.depends_on label (it is deleted before it is read). */
  DEPENDS_ON: 'GODOXY_DEPENDS_ON',
  /** GoDoxy routes containers without labels; Bellhop only with docker.expose_all. */
  UNLABELLED: 'GODOXY_UNLABELLED',
} as const;

export interface GodoxyDifference {
  code: string;
  /** The label concerned ('' for the container as a whole). */
  key: string;
  message: string;
}

const TRUE = /^(true|1|t|yes|y|on)$/i;

/** One value a label sets: `proxy.<target>.<path>` directly, or a leaf of its YAML value. */
interface Leaf {
  key: string;
  target: string;
  /** Normalised dotted path below the target (`loadbalance.mode`). */
  path: string;
  value: string;
}

function leaves(labels: Readonly<Record<string, string>>): Leaf[] {
  const out: Leaf[] = [];
  for (const key of Object.keys(labels).sort()) {
    const segs = key.split('.');
    if (segs[0] !== 'proxy' || segs.length < 2) continue;
    const target = segs[1] ?? '';
    const path = segs.slice(2).map(normSegment);
    const value = labels[key] ?? '';
    const y = value.includes(':') ? parseYamlMapping(value) : undefined;
    if (y?.ok === true && (path.length === 0 || path[0] === 'loadbalance' || path[0] === 'healthcheck')) {
      for (const l of y.leaves) out.push({ key, target, path: [...path, ...l.path.map(normSegment)].join('.'), value: String(l.value) });
    } else if (segs.length >= 3) out.push({ key, target, path: path.join('.'), value });
  }
  return out;
}

/** The differences one container's labels show (docs/migrating-from-godoxy.md). */
export function godoxyDifferences(rec: LabelledContainer): GodoxyDifference[] {
  const out: GodoxyDifference[] = [];
  const labels = rec.labels;
  if (!isExplicit(rec)) return out;
  const keys = Object.keys(labels).sort();
  const containerLevel = (name: string) => keys.find((k) => k.split('.').length === 2 && normSegment(k.split('.')[1] ?? '') === name);
  const excluded = containerLevel('exclude');
  if (excluded !== undefined && TRUE.test((labels[excluded] ?? '').trim())) return out;
  const all = leaves(labels);

  if (containerLevel('aliases') === undefined && !all.some((l) => l.path === 'loadbalance.link')) {
    const d = defaultAliases(rec);
    if (d.service !== undefined) {
      out.push({ code: GodoxyDifferenceCode.SERVICE_ALIAS, key: '', message: `answers "${d.primary}" as GoDoxy does, and its compose service name "${d.service}" too (unless another container names it)` });
    }
  }

  const wild = new Map<string, string>();
  for (const l of all) if (l.target === '*' && !wild.has(l.path)) wild.set(l.path, l.key);
  const seen = new Set<string>();
  for (const l of all) {
    if (l.target === '*') continue;
    const w = wild.get(l.path);
    if (w === undefined || seen.has(`${l.key}\u0000${l.path}`)) continue;
    seen.add(`${l.key}\u0000${l.path}`);
    out.push({ code: GodoxyDifferenceCode.WILDCARD_PRECEDENCE, key: l.key, message: `GoDoxy would use ${w} for ${l.path} here (its wildcard wins); Bellhop uses this label (the alias's own label wins)` });
  }

  for (const l of all) {
    const v = l.value.trim();
    if (l.path === 'loadbalance.weight' && v !== '' && v !== '0') {
      out.push({ code: GodoxyDifferenceCode.WEIGHT, key: l.key, message: 'GoDoxy ignores weights (round robin over all members); Bellhop balances by them' });
    } else if (l.path === 'healthcheck.retries') {
      out.push({ code: GodoxyDifferenceCode.RETRIES, key: l.key, message: 'in GoDoxy retries only delays the "down" notification; Bellhop takes the member out of rotation after that many failures in a row (healthcheck.fall)' });
    } else if (l.path === 'loadbalance.mode' && /[_-]/.test(v) && /^(round|least|ip)[_-]?(robin|conn|hash)$/i.test(v)) {
      out.push({ code: GodoxyDifferenceCode.MODE_SPELLING, key: l.key, message: `GoDoxy's current release treats "${v}" as round robin (only "${v.replace(/[_-]/g, '').toLowerCase()}" selects the mode there); Bellhop honours it` });
    } else if (l.path === 'loadbalance.sticky' && TRUE.test(v)) {
      if (!all.some((x) => x.path === 'loadbalance.stickymaxage')) {
        out.push({ code: GodoxyDifferenceCode.STICKY_MAX_AGE, key: l.key, message: 'without sticky_max_age GoDoxy sets a session cookie; Bellhop\'s cookie lasts 1h as documented (set sticky_max_age: 0 for a session cookie)' });
      }
    }
  }

  const dep = containerLevel('dependson');
  if (dep !== undefined) out.push({ code: GodoxyDifferenceCode.DEPENDS_ON, key: dep, message: 'GoDoxy ignores this label (it deletes it before reading it); Bellhop wakes these first' });
  return out;
}
