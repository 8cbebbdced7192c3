// The reconciler: turns the current picture (Docker's containers after docker.label_filter,
// the config file's routes, compose routes in their recreate grace) into a new route table and
// applies it to the live state: pools (LiveRoutes), health targets and the wake module. It runs
// on every Docker change, config reload and grace expiry (docs/discovery.md).
//
// Every run rebuilds every spec from scratch (labels and routes are pure), but only the routes
// whose spec changed are applied: LiveRoutes.update compares content and reports what it added,
// changed and removed. An event that changes no route leaves pools and health alone; health's
// sync takes the whole membership, so it runs when some route changed, and it keeps the state
// of members whose address and check are the same.
import { defaultHealthcheck, defaultLoadBalance, staticRoutes, staticStreams, type Config } from '../config/index.ts';
import type { ContainerRecord, SelfInfo } from '../docker/index.ts';
import type { DockerHealth, PoolMembers } from '../health/index.ts';
import { parseContainers, type ParseOptions } from '../labels/index.ts';
import { noRouteChanged, RecreateGrace, type LiveRoutes, type RouteChanges } from '../pools/index.ts';
import { buildRouteTable, mergeStreamRoutes, type RouteError, type RouteSpec, type StreamRouteSpec } from '../routes/index.ts';
import type { WakeRecord, WakeSyncInput } from '../wake/index.ts';
import { matchesLabelFilter } from './label-filter.ts';

/** What the reconciler needs of the health monitor (internal/health's HealthMonitor fits). */
export interface ReconcileHealth {
  /** The whole membership; members with the same id, url and check keep their state. */
  sync(pools: readonly PoolMembers[]): void;
  markReady(memberId: string): void;
  setDockerHealth(memberId: string, health: DockerHealth | undefined): void;
}

/** What the reconciler needs of the wake module (internal/wake's WakeManager fits). */
export interface ReconcileWake {
  sync(input: WakeSyncInput): void;
  stateOf(memberId: string): string | undefined;
  upstreamUrl(memberId: string, fallback: string): string;
}

/** What the reconciler needs of the stream listeners (internal/streams' StreamManager fits). */
export interface ReconcileStreams {
  update(routes: readonly StreamRouteSpec[]): void;
}

/** pino-compatible: object first, message second. */
export interface ReconcileLogger {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface ReconcilerOptions {
  /** The running config (read on every run: a hot reload takes effect on the next one). */
  config: () => Config;
  /** Bellhop's own networks (known once discovery started). */
  self: () => SelfInfo;
  /** Every container of every Docker host, before docker.label_filter. */
  records: () => readonly ContainerRecord[];
  live: LiveRoutes;
  health: ReconcileHealth;
  wake: ReconcileWake;
  /** TCP/UDP stream routes (docs/streams.md); absent: labels' streams are parsed but not served. */
  streams?: ReconcileStreams | undefined;
  logger: ReconcileLogger;
  /** How long a vanished compose route is kept without members (default RECREATE_GRACE_MS). */
  recreateGraceMs?: number | undefined;
  now?: (() => number) | undefined;
}

function dockerHealthOf(v: string | undefined): DockerHealth | undefined {
  return v === 'starting' || v === 'healthy' || v === 'unhealthy' ? v : undefined;
}

export class Reconciler {
  readonly #opts: ReconcilerOptions;
  readonly #grace: RecreateGrace;
  #errors: RouteError[] = [];
  #warnings: RouteError[] = [];
  #lastErrorKey = '';
  /** The stream routes of the last run, and their content (a run that changed none of them skips them). */
  #streams: readonly StreamRouteSpec[] = [];
  #streamsKey = '';
  /**
   * Members the wake found ready at this URL, until discovery lists that URL. Discovery lists a
   * stopped container without an address; when it re-syncs with the address the wake already
   * probed, the health monitor would otherwise start that member over as 'starting' (a new
   * target) and turn requests away until its next probe.
   */
  readonly #readyAt = new Map<string, string>();
  /**
   * The same for swarm services, by URL: a woken service is probed at one task's address, and
   * discovery then lists that task as a new member (its own id), which would start as 'starting'.
   * Task URL → service ID, until a task member is listed there.
   */
  readonly #readyServiceUrls = new Map<string, string>();

  constructor(opts: ReconcilerOptions) {
    this.#opts = opts;
    // A compose service whose last container vanished keeps its route (no members) for a
    // while: a recreate gap gets held requests or 503, never 404 (docs/discovery.md).
    this.#grace = new RecreateGrace({ graceMs: opts.recreateGraceMs, now: opts.now, onExpire: () => this.recompute() });
  }

  /** The containers Bellhop sees: every Docker host's, narrowed by docker.label_filter. */
  visible(): readonly ContainerRecord[] {
    const filter = this.#opts.config().docker.labelFilter;
    const all = this.#opts.records();
    return filter.length === 0 ? all : all.filter((r) => matchesLabelFilter(r.labels, filter));
  }

  /** Label parser options from the running config (also used to re-parse a fresh inspect for wake). */
  parseOptions(): ParseOptions {
    const config = this.#opts.config();
    return {
      exposeAll: config.docker.exposeAll,
      self: this.#opts.self(),
      defaults: {
        healthcheck: defaultHealthcheck(config),
        // All of defaults.load_balance (mode, sticky, sticky_max_age): labels override each.
        loadBalance: defaultLoadBalance(config),
      },
    };
  }

  /** Label and route-table problems of the last run (the admin API lists them). */
  get errors(): readonly RouteError[] {
    return this.#errors;
  }

  /** Ignored labels and similar from the last run: reported, never blocking. */
  get warnings(): readonly RouteError[] {
    return this.#warnings;
  }

  /** Builds the table from the current picture and applies what changed. Returns the changes. */
  recompute(): RouteChanges {
    const { live, health, wake, logger } = this.#opts;
    const config = this.#opts.config();
    const records = this.visible();
    const parsed = parseContainers(records, this.parseOptions());
    const fileRoutes = staticRoutes(config);
    const dockerRoutes = this.#grace.retain(parsed.routes, fileRoutes);
    const built = buildRouteTable([...fileRoutes, ...dockerRoutes], { matchDomains: config.matchDomains });
    // the config file's streams first: a label stream wanting their name or port is an error
    const merged = mergeStreamRoutes(staticStreams(config), parsed.streams);
    this.#errors = [...parsed.errors, ...built.errors, ...merged.errors];
    this.#warnings = parsed.warnings;
    const key = JSON.stringify(this.#errors);
    if (key !== this.#lastErrorKey) {
      this.#lastErrorKey = key;
      for (const e of this.#errors) logger.warn({ module: 'labels', container: e.source, label: e.key, code: e.code }, e.message);
    }

    const changes = live.update(built.table);
    const streamsKey = JSON.stringify(merged.streams);
    const streamsChanged = streamsKey !== this.#streamsKey;
    if (streamsChanged) {
      this.#streamsKey = streamsKey;
      this.#streams = merged.streams;
      this.#opts.streams?.update(merged.streams);
    }
    const anyChanged = !noRouteChanged(changes);
    // Unchanged routes hand health the member objects it already has.
    if (anyChanged || streamsChanged) health.sync([...live.all().map((r) => ({ name: r.name, members: r.spec.members })), ...this.#streamPools()]);
    this.#settleReadyAt();
    if (anyChanged) {
      for (const name of [...changes.added, ...changes.changed]) {
        for (const m of live.route(name)?.spec.members ?? []) if (m.container) health.setDockerHealth(m.id, dockerHealthOf(m.container.dockerHealth));
      }
    }
    if (streamsChanged) for (const m of this.#streams.flatMap((r) => r.members)) if (m.container) health.setDockerHealth(m.id, dockerHealthOf(m.container.dockerHealth));
    // Stream members are one more kind of requester for wake: their routes are listed after the
    // HTTP ones, so a container's HTTP member stays the one its readiness is checked on.
    wake.sync({ routes: [...built.table.routes(), ...this.#streamPools()], containers: records });
    logger.debug(
      { module: 'routes', routes: live.all().length, errors: this.#errors.length, added: changes.added.length, changed: changes.changed.length, removed: changes.removed.length },
      'route table swapped',
    );
    return changes;
  }

  /**
   * A wake finished. One that passed readiness (health path, Docker health or TCP) is a
   * successful probe: its members take traffic at once, so held requests are not turned away
   * while the health monitor catches up, and the address it was probed at is remembered until
   * discovery lists it.
   */
  wakeDone(record: WakeRecord): void {
    if (!record.ok) return;
    const { health, wake } = this.#opts;
    const tasks = new Set(this.visible().filter((r) => r.swarmService?.id === record.containerId).map((r) => r.id));
    for (const m of this.#allMembers()) {
      const id = m.container?.id;
      if (id !== record.containerId) continue; // a swarm task: by the URL probed, below
      const url = wake.upstreamUrl(m.id, '');
      health.markReady(m.id);
      if (url !== '') this.#readyAt.set(m.id, url);
    }
    // A swarm service: the task probed is ready wherever (and whenever) discovery lists it.
    if (tasks.size > 0 && record.url !== undefined) this.#readyServiceUrls.set(record.url, record.containerId);
    // A swarm service: the task the wake probed may already be listed.
    if (tasks.size > 0) this.#settleReadyAt();
  }

  /** Stream routes as pools for health and wake, named apart from HTTP routes (`stream:<name>`). */
  #streamPools(): RouteSpec[] {
    return this.#streams.map((r) => ({ ...r, name: `stream:${r.name}` }));
  }

  /** Every member of every route, HTTP and stream. */
  #allMembers(): RouteSpec['members'] {
    return [...this.#opts.live.all().flatMap((r) => r.spec.members), ...this.#streams.flatMap((r) => r.members)];
  }

  /** Stops the recreate-grace timer. */
  close(): void {
    this.#grace.close();
  }

  /**
   * Discovery now lists a member the wake found ready: at the probed URL (and still awake) it
   * keeps its readiness, which a re-listing with a new address would have reset; at any other
   * address the wake's verdict no longer applies. Either way the member is no longer waited for.
   */
  #settleReadyAt(): void {
    if (this.#readyAt.size === 0 && this.#readyServiceUrls.size === 0) return;
    const { health, wake } = this.#opts;
    for (const m of this.#allMembers()) {
      if (m.url !== '' && this.#readyServiceUrls.has(m.url) && wake.stateOf(m.id) === 'awake') {
        health.markReady(m.id);
        this.#readyServiceUrls.delete(m.url);
      }
      const url = this.#readyAt.get(m.id);
      if (url === undefined) continue;
      if (m.url === url && wake.stateOf(m.id) === 'awake') health.markReady(m.id);
      if (m.url !== '') this.#readyAt.delete(m.id);
    }
  }
}
