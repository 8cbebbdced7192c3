// Where a container's labels mean something different under GoDoxy (docs/migrating-from-godoxy.md).
// Not errors: Bellhop's meaning is deliberate; `bellhop check` shows these so a GoDoxy user sees
// every difference that applies to their file. Pure: labels in, notes out.

import { defaultAliases } from './container-settings.ts';
import { isExplicit } from './expose-policy.ts';
import { normSegment } from './field-schema.ts';
import type { LabelledContainer } from './labelled-container.ts';

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

/** `proxy.<target>.<path…>` → target and normalised path, or undefined for container-level labels. */
function split(key: string): { target: string; path: string } | undefined {
  const segs = key.split('.');
  if (segs[0] !== 'proxy' || segs.length < 3) return undefined;
  return { target: segs[1] ?? '', path: segs.slice(2).map(normSegment).join('.') };
}

/** The differences one container's labels show (docs/migrating-from-godoxy.md). */
export function godoxyDifferences(rec: LabelledContainer): GodoxyDifference[] {
  const out: GodoxyDifference[] = [];
  const labels = rec.labels;
  if (!isExplicit(rec)) return out;
  const keys = Object.keys(labels).sort();
  const has = (norm: string) => keys.some((k) => normSegment(k.split('.')[1] ?? '') === norm && k.split('.').length === 2);

  if (keys.some((k) => has(normSegment(k.split('.')[1] ?? '')) && normSegment(k.split('.')[1] ?? '') === 'exclude' && TRUE.test((labels[k] ?? '').trim()))) return out;
  if (!has('aliases')) {
    const d = defaultAliases(rec);
    if (d.service !== undefined) {
      out.push({ code: GodoxyDifferenceCode.SERVICE_ALIAS, key: '', message: `answers "${d.primary}" as GoDoxy does, and its compose service name "${d.service}" too (unless another container names it)` });
    }
  }

  const wild = new Map<string, string>();
  for (const k of keys) {
    const s = split(k);
    if (s?.target === '*') wild.set(s.path, k);
  }
  for (const k of keys) {
    const s = split(k);
    if (s === undefined || s.target === '*') continue;
    const w = wild.get(s.path);
    if (w !== undefined) out.push({ code: GodoxyDifferenceCode.WILDCARD_PRECEDENCE, key: k, message: `GoDoxy would use ${w} here (its wildcard wins); Bellhop uses this label (the alias's own label wins)` });
  }

  for (const k of keys) {
    const s = split(k);
    if (s === undefined) continue;
    const v = (labels[k] ?? '').trim();
    if (s.path === 'loadbalance.weight' && v !== '' && v !== '0') {
      out.push({ code: GodoxyDifferenceCode.WEIGHT, key: k, message: 'GoDoxy ignores weights (round robin over all members); Bellhop balances by them' });
    } else if (s.path === 'healthcheck.retries') {
      out.push({ code: GodoxyDifferenceCode.RETRIES, key: k, message: 'in GoDoxy retries only delays the "down" notification; Bellhop takes the member out of rotation after that many failures in a row (healthcheck.fall)' });
    } else if (s.path === 'loadbalance.mode' && /[_-]/.test(v) && /^(round|least|ip)[_-]?(robin|conn|hash)$/i.test(v)) {
      out.push({ code: GodoxyDifferenceCode.MODE_SPELLING, key: k, message: `GoDoxy's current release treats "${v}" as round robin (only "${v.replace(/[_-]/g, '').toLowerCase()}" selects the mode there); Bellhop honours it` });
    } else if (s.path === 'loadbalance.sticky' && TRUE.test(v)) {
      const maxAge = keys.some((x) => split(x)?.path === 'loadbalance.stickymaxage');
      if (!maxAge) out.push({ code: GodoxyDifferenceCode.STICKY_MAX_AGE, key: k, message: 'without sticky_max_age GoDoxy sets a session cookie; Bellhop\'s cookie lasts 1h as documented (set sticky_max_age: 0 for a session cookie)' });
    }
  }

  const dep = keys.find((k) => k.split('.').length === 2 && normSegment(k.split('.')[1] ?? '') === 'dependson');
  if (dep !== undefined) out.push({ code: GodoxyDifferenceCode.DEPENDS_ON, key: dep, message: 'GoDoxy ignores this label (it deletes it before reading it); Bellhop wakes these first' });
  return out;
}
