// The JSON views of the admin API (/api/routes, /api/explain) and the per-member figures the
// metrics read, assembled from the modules that own the state: live pools (membership, weights,
// in-flight), health, wake (sleep state) and the Docker watchers. Read-only; every call builds
// a fresh JSON-serialisable value. Field names are documented in the README's admin API section.
import type { DockerWatcher } from '../docker/index.ts';
import type { MemberHealthStatus } from '../health/index.ts';
import type { LiveRoute, LiveRoutes } from '../pools/index.ts';
import type { RouteError } from '../routes/index.ts';
import type { StreamView } from '../streams/index.ts';

export interface AdminViewSources {
  live: Pick<LiveRoutes, 'all' | 'route' | 'current'>;
  health: {
    status(memberId: string): MemberHealthStatus | undefined;
    /** "2/3 members healthy" */
    poolSummary(route: string): string;
    isUsable(memberId: string): boolean;
  };
  wake: {
    /** undefined: the member's container is not managed (cannot sleep). */
    stateOf(memberId: string): string | undefined;
    /** Every managed container, for `containers` in /api/routes. */
    status(): unknown;
  };
  docker: { watchers(): readonly Pick<DockerWatcher, 'status' | 'secondsSinceLastSync'>[] };
  /** Config file problems first, then label and route-table errors. */
  errors(): readonly RouteError[];
  warnings(): readonly RouteError[];
  /** TCP/UDP stream routes (docs/streams.md); absent: none. */
  streams?: (() => readonly StreamView[]) | undefined;
}

/** Plain functions (no `this`): each can be handed on alone, e.g. to createAdminServer or Metrics. */
export interface AdminViews {
  readonly routes: () => RoutesView;
  readonly explain: (host: string) => ExplainView;
  /** Requests and websockets in flight over every pool (bellhop_in_flight_requests). */
  readonly inFlight: () => number;
  /** Each member's health and sleep state (bellhop_member_healthy / bellhop_member_asleep). */
  readonly memberHealth: () => { route: string; member: string; healthy: boolean; asleep: boolean }[];
}

export interface MemberView {
  name: string;
  container_id: string | null;
  url: string;
  configured_weight: number | null;
  normalised_weight: number | null;
  in_flight: number;
  health: string;
  usable: boolean;
  state: string;
  reason: string;
  last_check: string | null;
  latency_ms: number | null;
}

export type RoutesView = ReturnType<typeof routesViewOf>;
export type ExplainView = ReturnType<typeof explainViewOf>;

function asleep(src: AdminViewSources, m: LiveRoute['spec']['members'][number]): boolean {
  return m.container !== undefined && src.wake.stateOf(m.id) === 'asleep';
}

/** "2/3 members healthy", plus ", 1 asleep" when sleeping members explain the gap. */
function summaryOf(src: AdminViewSources, route: LiveRoute): string {
  if (route.spec.refused !== undefined) return 'refused: asks for access control Bellhop cannot apply yet';
  const sleeping = route.spec.members.filter((m) => asleep(src, m)).length;
  const base = src.health.poolSummary(route.name);
  return sleeping === 0 ? base : `${base}, ${String(sleeping)} asleep`;
}

function membersOf(src: AdminViewSources, route: LiveRoute): MemberView[] {
  const weights = new Map(route.describe().map((d) => [d.id, d]));
  return route.spec.members.map((m) => {
    const h = src.health.status(m.id);
    const w = weights.get(m.id);
    const sleep = m.container ? src.wake.stateOf(m.id) : undefined;
    return {
      name: m.name,
      container_id: m.container?.id ?? null,
      // an h2c member keeps an http:// origin; shown as its label or route file says (docs/proxy.md)
      url: m.h2c === true ? m.url.replace(/^http:/, 'h2c:') : m.url,
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

function routesViewOf(src: AdminViewSources) {
  return {
    routes: src.live.all().map((r) => ({
      alias: r.name,
      hosts: r.spec.aliases,
      source: r.spec.source,
      load_balance: {
        mode: r.spec.loadBalance.mode,
        sticky: r.spec.loadBalance.sticky,
        sticky_max_age_ms: r.spec.loadBalance.stickyMaxAgeMs,
        options: r.spec.loadBalance.options ?? null,
      },
      summary: summaryOf(src, r),
      // What runs before a member is reached, in run order (docs/middlewares.md).
      middlewares: r.middlewareNames(),
      members: membersOf(src, r),
      // Access control Bellhop cannot apply: every request gets 503 PROXY_ROUTE_REFUSED.
      refused: r.spec.refused === undefined ? null : { code: r.spec.refused.code, labels: r.spec.refused.keys, containers: r.spec.refused.sources, message: r.spec.refused.message },
    })),
    streams: streamsViewOf(src),
    match_domains: src.live.current?.matchDomains ?? [],
    containers: src.wake.status(),
    docker: src.docker.watchers().map((w) => {
      const lag = w.secondsSinceLastSync();
      return { ...w.status(), seconds_since_sync: Number.isFinite(lag) ? Math.round(lag * 10) / 10 : null };
    }),
    errors: src.errors(),
    warnings: src.warnings(),
  };
}

/** Stream routes with each member's health and sleep state, as HTTP members show them. */
function streamsViewOf(src: AdminViewSources) {
  return (src.streams?.() ?? []).map((s) => ({
    ...s,
    members: s.members.map((m) => {
      const h = src.health.status(m.id);
      const sleep = m.container_id === undefined ? undefined : src.wake.stateOf(m.id);
      return {
        ...m,
        container_id: m.container_id ?? null,
        configured_weight: m.configured_weight ?? null,
        health: h?.health ?? 'starting',
        state: sleep ?? 'awake',
        reason: sleep === 'asleep' ? 'asleep (idle_timeout): the next connection wakes it' : h?.reason ?? '',
        last_check: h?.lastCheck ?? null,
      };
    }),
  }));
}

function explainViewOf(src: AdminViewSources, host: string) {
  const table = src.live.current;
  if (!table) return { host, rule: 'none' as const, reason: 'no route table yet' };
  const ex = table.explain(host);
  const route = ex.route === undefined ? undefined : src.live.route(ex.route);
  return {
    ...ex,
    refused: route?.spec.refused?.message ?? null,
    middlewares: route?.middlewareNames() ?? [],
    pool: route ? { mode: route.spec.loadBalance.mode, sticky: route.spec.loadBalance.sticky, summary: summaryOf(src, route), members: membersOf(src, route) } : null,
  };
}

export function createAdminViews(src: AdminViewSources): AdminViews {
  return {
    routes: () => routesViewOf(src),
    explain: (host) => explainViewOf(src, host),
    inFlight: () => src.live.all().reduce((n, r) => n + r.describe().reduce((k, m) => k + m.inFlight, 0), 0),
    memberHealth: () =>
      src.live.all().flatMap((r) => r.spec.members.map((m) => ({ route: r.name, member: m.name, healthy: src.health.isUsable(m.id), asleep: asleep(src, m) }))),
  };
}
