// Live pools: the runtime state that survives route-table swaps. Each table swap reconciles
// one LiveRoute (a pkg/balance Pool) per route and publishes a new immutable resolver snapshot
// for the proxy; a request keeps the snapshot it started with. A route whose spec did not
// change (sameRouteSpec: every event rebuilds every spec, so this compares content) keeps its
// LiveRoute untouched, spec object included; a changed one keeps its Pool object and the state
// of surviving members (round-robin position, least-conn counters).
import type { ProxyRoute, RouteResolver } from '../proxy/index.ts';
import type { RouteTable } from '../routes/index.ts';
import { LiveRoute, type LiveRoutesOptions } from './live-route.ts';
import { sameRouteSpec } from './same-route-spec.ts';

/** What a table swap did, by route name, in table order. Routes in none of the lists were left alone. */
export interface RouteChanges {
  added: string[];
  /** Present before and after, with a different spec (LiveRoute.update ran). */
  changed: string[];
  /** Gone from the table (their LiveRoute was retired). */
  removed: string[];
}

/** True when a swap changed no route at all. */
export function noRouteChanged(c: RouteChanges): boolean {
  return c.added.length === 0 && c.changed.length === 0 && c.removed.length === 0;
}

/** Owns every LiveRoute; `update()` after each route-table change, `resolver` for the proxy. */
export class LiveRoutes {
  private live = new Map<string, LiveRoute>();
  private table: RouteTable | undefined;
  private snapshot: RouteResolver = { resolve: () => undefined };
  private readonly opts: LiveRoutesOptions;

  constructor(opts: LiveRoutesOptions) {
    this.opts = opts;
  }

  /**
   * Reconciles pools with the new table and swaps the resolver by reference. Only added and
   * changed routes are (re)built; the returned lists say which, for the owner to sync health
   * and the rest for those routes only.
   */
  update(table: RouteTable): RouteChanges {
    const changes: RouteChanges = { added: [], changed: [], removed: [] };
    const next = new Map<string, LiveRoute>();
    const oldOrigins = this.origins();
    const oldDocker = this.opts.onOriginsGone ? this.dockerMembersByOrigin() : undefined;
    for (const spec of table.routes()) {
      const existing = this.live.get(spec.name);
      if (existing) {
        if (existing.spec !== spec && !sameRouteSpec(existing.spec, spec)) {
          existing.update(spec);
          changes.changed.push(spec.name);
        }
        next.set(spec.name, existing);
      } else {
        next.set(spec.name, new LiveRoute(spec, this.opts));
        changes.added.push(spec.name);
      }
    }
    for (const [name, r] of this.live) {
      if (next.has(name)) continue;
      r.retire();
      changes.removed.push(name);
    }
    this.live = next;
    this.table = table;
    const routes = next;
    this.snapshot = {
      resolve(host: string): ProxyRoute | undefined {
        const spec = table.lookup(host);
        return spec ? routes.get(spec.name) : undefined;
      },
      named(alias: string): ProxyRoute | undefined {
        const r = routes.get(alias);
        if (r !== undefined) return r;
        const spec = table.lookup(alias);
        return spec ? routes.get(spec.name) : undefined;
      },
    };
    if (this.opts.onOriginsGone) {
      const now = this.origins();
      const gone = [...oldOrigins].filter((o) => !now.has(o));
      if (gone.length > 0) {
        // Dead: a Docker member at that origin now has no address or is not in the table at all
        // (stopped, died, removed). A member that merely moved to a new address may still answer
        // at the old one: its requests finish.
        const urls = new Map<string, string>();
        for (const r of next.values()) for (const m of r.spec.members) urls.set(m.id, m.url);
        const dead = new Set(gone.filter((o) => (oldDocker!.get(o) ?? []).some((id) => (urls.get(id) ?? '') === '')));
        this.opts.onOriginsGone(gone, dead);
      }
    }
    return changes;
  }

  /** Origin → ids of the Docker members at that origin. */
  private dockerMembersByOrigin(): Map<string, string[]> {
    const by = new Map<string, string[]>();
    for (const r of this.live.values()) {
      for (const m of r.spec.members) {
        if (m.url === '' || m.container === undefined) continue;
        const ids = by.get(m.url);
        if (ids) ids.push(m.id);
        else by.set(m.url, [m.id]);
      }
    }
    return by;
  }

  /** The current resolver; the proxy reads it once per request. */
  get resolver(): RouteResolver {
    return this.snapshot;
  }

  get current(): RouteTable | undefined {
    return this.table;
  }

  route(name: string): LiveRoute | undefined {
    return this.live.get(name);
  }

  all(): LiveRoute[] {
    return [...this.live.values()];
  }

  private origins(): Set<string> {
    const s = new Set<string>();
    for (const r of this.live.values()) for (const m of r.spec.members) if (m.url) s.add(m.url);
    return s;
  }
}
