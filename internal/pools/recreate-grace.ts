// docs/discovery.md: a container being recreated (same compose service, new ID) keeps its
// route; requests in the gap wait briefly or get 503 with Retry-After, never 404. `docker
// compose up` removes the old container before (or while) the new one appears, and for that
// moment the labels yield no route at all. This keeps such a route as a placeholder without
// members for a grace period, so the proxy still resolves the host, holds the request
// (LiveRoute's recreate hold) and answers 503 + Retry-After if nothing comes back in time.
import type { RouteSpec } from '../routes/index.ts';

export interface RecreateGraceOptions {
  /** How long a vanished compose route is kept without members (default 60 s). */
  graceMs?: number | undefined;
  /** Called when a placeholder expires, so the owner rebuilds the table without it. */
  onExpire?: (() => void) | undefined;
  now?: (() => number) | undefined;
}

interface Retained {
  placeholder: RouteSpec;
  services: Set<string>;
  expiresAt: number;
}

function composeServices(spec: RouteSpec): Set<string> {
  const s = new Set<string>();
  for (const m of spec.members) {
    const c = m.container;
    if (c?.composeProject !== undefined && c.composeService !== undefined) s.add(`${c.composeProject}/${c.composeService}`);
  }
  return s;
}

/** Default grace for a vanished compose service's route. */
export const RECREATE_GRACE_MS = 60_000;

/**
 * Remembers Docker routes that belong to compose services and, when one vanishes from the
 * parsed routes, keeps it (no members) until the service reappears, another route claims one
 * of its aliases, or the grace period ends. Only compose services are kept: a plain container
 * that is removed is gone for good, and its host answers 404 at once.
 */
export class RecreateGrace {
  private readonly graceMs: number;
  private readonly onExpire: (() => void) | undefined;
  private readonly now: () => number;
  private last = new Map<string, RouteSpec>();
  private retained = new Map<string, Retained>();
  private timer: NodeJS.Timeout | undefined;

  constructor(opts: RecreateGraceOptions = {}) {
    this.graceMs = opts.graceMs ?? RECREATE_GRACE_MS;
    this.onExpire = opts.onExpire;
    this.now = opts.now ?? Date.now;
  }

  /**
   * The Docker routes to build the table from: `dockerRoutes` plus a placeholder for every
   * compose route that vanished within the grace period and whose aliases nobody else claims
   * (`otherRoutes`: e.g. file routes, which would otherwise report a spurious conflict).
   */
  retain(dockerRoutes: readonly RouteSpec[], otherRoutes: readonly RouteSpec[] = []): RouteSpec[] {
    const now = this.now();
    const present = new Map(dockerRoutes.map((r) => [r.name, r]));
    const claimed = new Set<string>();
    const liveServices = new Set<string>();
    for (const r of [...dockerRoutes, ...otherRoutes]) {
      claimed.add(r.name);
      for (const a of r.aliases) claimed.add(a);
    }
    for (const r of dockerRoutes) for (const s of composeServices(r)) liveServices.add(s);

    for (const [name, spec] of this.last) {
      if (present.has(name) || this.retained.has(name)) continue;
      const services = composeServices(spec);
      if (services.size === 0) continue;
      this.retained.set(name, { placeholder: { ...spec, members: [] }, services, expiresAt: now + this.graceMs });
    }
    const out = [...dockerRoutes];
    for (const [name, r] of this.retained) {
      const back = [...r.services].some((s) => liveServices.has(s));
      const taken = claimed.has(name) || r.placeholder.aliases.some((a) => claimed.has(a));
      if (back || taken || r.expiresAt <= now) {
        this.retained.delete(name);
        continue;
      }
      out.push(r.placeholder);
    }
    // Only real routes are remembered: a placeholder is never retained twice.
    this.last = new Map(dockerRoutes.filter((r) => composeServices(r).size > 0).map((r) => [r.name, r]));
    for (const name of this.retained.keys()) this.last.delete(name);
    this.schedule(now);
    return out;
  }

  /** Names of the routes currently kept as placeholders. */
  retainedNames(): string[] {
    return [...this.retained.keys()].sort();
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(now: number): void {
    this.close();
    if (this.retained.size === 0 || !this.onExpire) return;
    const next = Math.min(...[...this.retained.values()].map((r) => r.expiresAt));
    const cb = this.onExpire;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      cb();
    }, Math.max(0, next - now) + 5);
    this.timer.unref();
  }
}
