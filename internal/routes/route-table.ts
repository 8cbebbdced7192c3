// RouteSpec[] → an immutable RouteTable answering "which route serves this Host?" (docs/proxy.md):
//   1. an alias equal to the whole host;
//   2. with match_domains: the host minus a matching domain suffix (longest domain first);
//      without: the host's first label;
//   3. wildcard aliases `*.example.com` (exactly one label), also written relative to a match
//      domain (`*.apps` with match domain example.com answers foo.apps.example.com).
// Everything is precomputed into Maps so lookup() does a few Map.get calls and at most two
// string slices.

import { deepFreeze } from '../../pkg/freeze/index.ts';
import type { RouteError, RouteSpec } from './route-spec.ts';
import { isDomainName, isHostAlias } from './alias-grammar.ts';
import { needsNormalising, normaliseHost } from './host-name.ts';

/** Which rule matched in {@link RouteTable.explain}. */
export type MatchRule = 'exact' | 'match_domain' | 'first_label' | 'wildcard' | 'none';

export interface HostExplanation {
  /** The host as compared (normalised). */
  host: string;
  rule: MatchRule;
  /** Route name, when one matched. */
  route?: string | undefined;
  /** The alias or wildcard pattern that matched. */
  pattern?: string | undefined;
  /** The match domain that was stripped, for `match_domain` (and relative wildcards). */
  domain?: string | undefined;
  /** One sentence for humans. */
  reason: string;
}

export interface RouteTable {
  /** The route serving `host`, or undefined (→ 404). Hot path: no allocation beyond a slice. */
  lookup(host: string): RouteSpec | undefined;
  /** Same decision as lookup(), with the rule that made it (admin API /api/explain). */
  explain(host: string): HostExplanation;
  /** Every route that answers at least one host, sorted by name; aliases lost to conflicts removed. */
  routes(): readonly RouteSpec[];
  /** Normalised match domains, in the order they are tried (longest first). */
  readonly matchDomains: readonly string[];
}

export interface RouteTableOptions {
  matchDomains: readonly string[];
}

export const RouteTableErrorCode = {
  /** Two routes claim one alias: a file route beats a Docker route; otherwise the first by name. */
  ALIAS_CONFLICT: 'ROUTE_ALIAS_CONFLICT',
  BAD_ALIAS: 'ROUTE_BAD_ALIAS',
  BAD_MATCH_DOMAIN: 'ROUTE_BAD_MATCH_DOMAIN',
} as const;

function describeSource(r: RouteSpec): string {
  if (r.source === 'file') return 'config file';
  const names = [...new Set(r.members.map((m) => m.container?.name ?? m.name))];
  return names.length > 0 ? names.join(', ') : `docker route ${r.name}`;
}

function keyOf(r: RouteSpec): string {
  return r.source === 'file' ? `routes.${r.name}` : 'proxy.aliases';
}

/** Builds the table; bad aliases and alias conflicts are reported, never thrown. */
export function buildRouteTable(input: readonly RouteSpec[], opts: RouteTableOptions): { table: RouteTable; errors: RouteError[] } {
  const errors: RouteError[] = [];

  const domains: string[] = [];
  for (const raw of opts.matchDomains) {
    const d = raw.trim().toLowerCase().replace(/^\*?\./, '').replace(/\.$/, '');
    if (!isDomainName(d)) {
      errors.push({ code: RouteTableErrorCode.BAD_MATCH_DOMAIN, source: 'config file', key: 'match_domains', message: `match domain ${JSON.stringify(raw)} is not a domain name` });
      continue;
    }
    if (!domains.includes(d)) domains.push(d);
  }
  // Longest first: with example.com and sub.example.com, app.sub.example.com → app.
  const ordered = domains.map((d, i) => ({ d, i })).sort((a, b) => b.d.length - a.d.length || a.i - b.i).map((x) => x.d);
  const suffixes = ordered.map((d) => `.${d}`);

  // File routes first (an administrator's explicit config beats a label anyone with Docker
  // access can write), then by name: the outcome never depends on input order.
  const sorted = [...input].sort((a, b) => (a.source !== b.source ? (a.source === 'file' ? -1 : 1) : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const exact = new Map<string, RouteSpec>();
  const wildcard = new Map<string, RouteSpec>();
  const owner = new Map<string, RouteSpec>();
  const kept: RouteSpec[] = [];
  for (const r of sorted) {
    const aliases: string[] = [];
    for (const raw of r.aliases) {
      const a = normaliseHost(raw);
      if (!isHostAlias(a)) {
        errors.push({ code: RouteTableErrorCode.BAD_ALIAS, source: describeSource(r), key: keyOf(r), message: `route "${r.name}": alias ${JSON.stringify(raw)} is not a host name, host label or *.domain wildcard` });
        continue;
      }
      const prev = owner.get(a);
      if (prev !== undefined) {
        if (prev !== r) {
          errors.push({
            code: RouteTableErrorCode.ALIAS_CONFLICT,
            source: describeSource(r),
            key: keyOf(r),
            message: `alias "${a}" of ${r.source} route "${r.name}" is already served by ${prev.source} route "${prev.name}" (${prev.source === 'file' && r.source === 'docker' ? 'config file routes win over Docker labels' : 'the first by name wins'})`,
          });
        }
        continue;
      }
      owner.set(a, r);
      aliases.push(a);
    }
    if (aliases.length === 0) continue;
    const spec = aliases.length === r.aliases.length && aliases.every((a, i) => a === r.aliases[i]) ? r : { ...r, aliases };
    kept.push(spec);
    for (const a of aliases) {
      if (a.startsWith('*.')) wildcard.set(a.slice(2), spec);
      else exact.set(a, spec);
    }
  }
  kept.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.source < b.source ? -1 : 1));
  deepFreeze(kept);
  const matchDomains = Object.freeze(ordered);
  const hasWildcards = wildcard.size > 0;

  function lookup(host: string): RouteSpec | undefined {
    const h = needsNormalising(host) ? normaliseHost(host) : host;
    if (h === '') return undefined;
    let r = exact.get(h);
    if (r !== undefined) return r;
    if (suffixes.length > 0) {
      for (const s of suffixes) {
        if (h.length > s.length && h.endsWith(s)) {
          r = exact.get(h.slice(0, h.length - s.length));
          if (r !== undefined) return r;
        }
      }
    } else {
      const dot = h.indexOf('.');
      if (dot > 0) {
        r = exact.get(h.slice(0, dot));
        if (r !== undefined) return r;
      }
    }
    if (!hasWildcards) return undefined;
    const dot = h.indexOf('.');
    if (dot <= 0) return undefined;
    r = wildcard.get(h.slice(dot + 1));
    if (r !== undefined) return r;
    for (const s of suffixes) {
      if (h.length > s.length && h.endsWith(s)) {
        const rel = h.slice(dot + 1, h.length - s.length);
        if (rel !== '' && dot < h.length - s.length) {
          r = wildcard.get(rel);
          if (r !== undefined) return r;
        }
      }
    }
    return undefined;
  }

  function explain(host: string): HostExplanation {
    const h = normaliseHost(host);
    const none = (reason: string): HostExplanation => ({ host: h, rule: 'none', reason });
    if (h === '') return none('empty host');
    const hit = exact.get(h);
    if (hit !== undefined) return { host: h, rule: 'exact', route: hit.name, pattern: h, reason: `alias "${h}" equals the whole host` };
    if (suffixes.length > 0) {
      for (const s of suffixes) {
        if (h.length > s.length && h.endsWith(s)) {
          const alias = h.slice(0, h.length - s.length);
          const r = exact.get(alias);
          if (r !== undefined) return { host: h, rule: 'match_domain', route: r.name, pattern: alias, domain: s.slice(1), reason: `host minus match domain "${s.slice(1)}" is alias "${alias}"` };
        }
      }
    } else {
      const dot = h.indexOf('.');
      if (dot > 0) {
        const first = h.slice(0, dot);
        const r = exact.get(first);
        if (r !== undefined) return { host: h, rule: 'first_label', route: r.name, pattern: first, reason: `first label "${first}" is an alias (no match_domains configured)` };
      }
    }
    const dot = h.indexOf('.');
    if (dot > 0) {
      const suffix = h.slice(dot + 1);
      const r = wildcard.get(suffix);
      if (r !== undefined) return { host: h, rule: 'wildcard', route: r.name, pattern: `*.${suffix}`, reason: `wildcard alias "*.${suffix}" matches one label` };
      for (const s of suffixes) {
        if (h.length > s.length && h.endsWith(s) && dot < h.length - s.length) {
          const rel = h.slice(dot + 1, h.length - s.length);
          const w = wildcard.get(rel);
          if (w !== undefined) return { host: h, rule: 'wildcard', route: w.name, pattern: `*.${rel}`, domain: s.slice(1), reason: `wildcard alias "*.${rel}" matches one label under match domain "${s.slice(1)}"` };
        }
      }
    }
    const scope = suffixes.length > 0 ? `no alias equals the host or the host minus a match domain (${ordered.join(', ')})` : 'no alias equals the host or its first label';
    return none(`${scope}, and no wildcard alias matches`);
  }

  const table: RouteTable = Object.freeze({ lookup, explain, routes: () => kept, matchDomains });
  return { table, errors };
}
