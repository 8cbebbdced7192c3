// The labels module's one entry point: every container → routes, errors and conflicts. Pure and
// deterministic: the same containers in any order give the same result.

import type { HealthcheckSpec, RouteError, RouteSpec, StreamRouteSpec } from '../routes/index.ts';
import { containerEntries } from './container-entries.ts';
import type { MemberEntry } from './container-entries.ts';
import { isExplicit, isInfrastructure, looksLikeDatabase } from './expose-policy.ts';
import type { LabelledContainer, SelfNetworks } from './labelled-container.ts';
import { assemblePools } from './pool-assembly.ts';
import type { PoolDefaults, RouteConflict } from './pool-assembly.ts';
import { assembleStreams } from './stream-entries.ts';

export interface ParseOptions {
  /** docker.expose_all: route unlabelled containers too (not databases/caches). */
  exposeAll: boolean;
  self: SelfNetworks;
  defaults: {
    healthcheck: HealthcheckSpec;
    loadBalance: PoolDefaults;
  };
}

export interface ParseResult {
  /** Sorted by name. */
  routes: RouteSpec[];
  /** TCP/UDP stream routes (docs/streams.md), sorted by name: listeners of their own, never HTTP hosts. */
  streams: StreamRouteSpec[];
  /**
   * Label errors (the container got no routes), unsupported access control (the aliases it
   * applies to are routes that refuse service) and conflicts (resolved, reported).
   */
  errors: RouteError[];
  /** Ignored GoDoxy fields and similar: reported, never block a route. */
  warnings: RouteError[];
  conflicts: RouteConflict[];
}

function byAge(a: LabelledContainer, b: LabelledContainer): number {
  if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Turns containers into routes (docs/labels.md, docs/discovery.md): never throws; a bad container affects only itself. */
export function parseContainers(containers: readonly LabelledContainer[], opts: ParseOptions): ParseResult {
  const entries: MemberEntry[] = [];
  const errors: RouteError[] = [];
  const warnings: RouteError[] = [];
  const seen = new Set<string>();
  for (const rec of [...containers].sort(byAge)) {
    if (seen.has(rec.id)) continue;
    seen.add(rec.id);
    if (!isExplicit(rec) && (!opts.exposeAll || looksLikeDatabase(rec) || isInfrastructure(rec))) continue;
    const r = containerEntries(rec, { self: opts.self, healthcheck: opts.defaults.healthcheck });
    for (const p of [...r.problems, ...r.refusals]) errors.push({ code: p.code, source: rec.name, key: p.key, message: p.message });
    for (const w of r.warnings) warnings.push({ code: w.code, source: rec.name, key: w.key, message: w.message });
    entries.push(...r.entries);
  }
  const pools = assemblePools(entries.filter((e) => e.stream === undefined), opts.defaults.loadBalance);
  const streams = assembleStreams(entries.filter((e) => e.stream !== undefined), opts.defaults.loadBalance);
  return {
    routes: pools.routes,
    streams: streams.streams,
    errors: [...errors, ...pools.errors, ...streams.errors],
    warnings: [...warnings, ...pools.warnings, ...streams.warnings],
    conflicts: [...pools.conflicts, ...streams.conflicts],
  };
}
