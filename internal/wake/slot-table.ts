// The managed picture the WakeManager's collaborators share: which containers sleep (every
// container with an idle_timeout, plus what it depends on, transitively), the dependency graph
// between them, which members and routes they serve, and each one's state kept in line with
// Docker's view (reconcile), except while our own start or stop is in flight or just settled.
import type { RouteSpec } from '../routes/index.ts';
import { ActivityLedger } from './activity-ledger.ts';
import { ContainerSlot, refreshGate } from './container-slot.ts';
import type { RouteGate, WakeContainerInfo, WakeContainerStatus } from './container-slot.ts';
import type { Logger } from '../../pkg/log/index.ts';
import type { WakeControl } from './wake-control.ts';
import { WakeError } from './wake-error.ts';

/** Input of `sync`: the whole current picture, as often as it changes. */
export interface WakeSyncInput {
  routes: readonly RouteSpec[];
  /** Every known container (so dependencies without routes can be found by name/service). */
  containers?: readonly WakeContainerInfo[] | undefined;
}

/**
 * Docker Swarm: a service's tasks come and go with every scale and rolling update, so they are
 * not managed one by one. Their entries in `known` are replaced by one per service, keyed by the
 * service ID and named after it, running while any task runs; the service sleeps and wakes as a
 * whole. Returns task ID → service ID, for the members. A global service (one task per node)
 * cannot scale to 0: its idle_timeout is ignored, with a warning.
 */
function foldServices(known: Map<string, WakeContainerInfo>, warnOnce: (key: string, obj: object, msg: string) => void): Map<string, string> {
  const unitOf = new Map<string, string>();
  const units = new Map<string, WakeContainerInfo>();
  for (const [id, c] of known) {
    const svc = c.swarmService;
    if (svc === undefined) continue;
    known.delete(id);
    unitOf.set(id, svc.id);
    const prev = units.get(svc.id);
    units.set(svc.id, {
      id: svc.id,
      name: svc.name,
      dockerHost: c.dockerHost,
      state: prev?.state === 'running' || c.state === 'running' ? 'running' : c.state,
      composeProject: c.composeProject,
      composeService: c.composeService,
      composeDependsOn: [],
      idle: prev?.idle ?? c.idle,
      swarmService: svc,
    });
  }
  for (const [id, u] of units) {
    if (u.swarmService?.global === true && u.idle !== undefined && u.idle.idleTimeoutMs > 0) {
      warnOnce(`global\0${id}`, { module: 'wake', container: u.name }, 'proxy.idle_timeout on a global swarm service is ignored: only a replicated service can be scaled to 0');
      u.idle = undefined;
    }
    known.set(id, u);
  }
  return unitOf;
}

/** What the table needs of the idle clock: a container that runs is clocked, one that stopped is not. */
export interface IdleTimers {
  arm(slot: ContainerSlot): void;
  clear(slot: ContainerSlot): void;
}

// A sync snapshot taken just before our own start/stop can arrive just after it; within this
// window our own observed state wins (the watcher's next event corrects anything else).
const SETTLE_MS = 2000;

export class SlotTable {
  /** Set once by close(): no wake, clock or settle check starts after it. */
  closed = false;
  /** What is open on each container; outlives the slots (see activity-ledger.ts). */
  readonly activity = new ActivityLedger();
  private slots = new Map<string, ContainerSlot>();
  private memberSlots = new Map<string, ContainerSlot>();
  private routeGates = new Map<string, RouteGate>();
  /** Routes with a sleeping member that has idle_ignore rules (gated or mixed pools). */
  private ignoringRoutes = new Set<string>();
  /** Dependency warnings of the last sync: each is logged when it appears, not on every sync. */
  private depWarnings = new Set<string>();
  private readonly control: WakeControl;
  private readonly log: Logger;
  private readonly idle: IdleTimers;

  constructor(control: WakeControl, log: Logger, idle: IdleTimers) {
    this.control = control;
    this.log = log;
    this.idle = idle;
  }

  /** The managed container with this ID. */
  get(id: string): ContainerSlot | undefined {
    return this.slots.get(id);
  }

  /** The managed container named `name` (the dashboard's wake/sleep actions). */
  byName(name: string): ContainerSlot | undefined {
    for (const s of this.slots.values()) if (s.name === name) return s;
    return undefined;
  }

  /** The managed container of a route member; `undefined` when the member's container does not sleep. */
  ofMember(memberId: string): ContainerSlot | undefined {
    return this.memberSlots.get(memberId);
  }

  /** The gate of a route whose members all sleep; `undefined` for any other route. */
  gateOf(route: string): RouteGate | undefined {
    return this.routeGates.get(route);
  }

  /** Whether a member of `route` has idle_ignore rules (the gate then keeps the client IP). */
  hasIgnoreRules(route: string): boolean {
    return this.ignoringRoutes.has(route);
  }

  /** Per-container status for the admin API, sorted by name. */
  status(): WakeContainerStatus[] {
    const now = Date.now();
    return [...this.slots.values()].map((s) => s.status(now)).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Replaces the picture of routes and containers. Cheap enough to call on every table swap. */
  sync(input: WakeSyncInput): void {
    if (this.closed) return;
    const known = new Map<string, WakeContainerInfo>();
    for (const c of input.containers ?? []) known.set(c.id, c);
    for (const r of input.routes) {
      for (const m of r.members) {
        const c = m.container;
        if (c === undefined) continue;
        const prev = known.get(c.id);
        known.set(c.id, prev === undefined ? c : { ...prev, ...c, composeDependsOn: prev.composeDependsOn });
      }
    }

    const warnings = new Set<string>();
    const warnOnce = (key: string, obj: object, msg: string): void => {
      warnings.add(key);
      if (!this.depWarnings.has(key)) this.log.warn(obj, msg);
    };
    const unitOf = foldServices(known, warnOnce);

    // Managed: every container with an IdleSpec, plus everything it depends on (transitively).
    const next = new Map<string, ContainerSlot>();
    const queue: WakeContainerInfo[] = [];
    for (const c of known.values()) if (c.idle !== undefined && c.idle.idleTimeoutMs > 0) queue.push(c);
    while (queue.length > 0) {
      const c = queue.shift()!;
      if (next.has(c.id)) continue;
      const slot = this.upsertSlot(c);
      next.set(c.id, slot);
      slot.deps = [];
      slot.dependents = [];
      for (const name of slot.dependsOnNames) {
        const dep = this.resolveDependency(c, name, known);
        if (dep === undefined) {
          warnOnce(`missing\0${c.id}\0${name}`, { module: 'wake', container: c.name, dependency: name }, 'dependency not found; waking without it');
          continue;
        }
        if (dep.id !== c.id) queue.push(dep);
      }
    }
    for (const slot of next.values()) {
      for (const name of slot.dependsOnNames) {
        const info = this.resolveDependency(known.get(slot.id)!, name, known);
        const dep = info === undefined ? undefined : next.get(info.id);
        if (dep === undefined || dep === slot || slot.deps.includes(dep)) continue;
        if (this.reaches(dep, slot)) {
          warnOnce(`cycle\0${slot.id}\0${dep.id}`, { module: 'wake', container: slot.name, dependency: dep.name }, 'dependency cycle; ignoring this edge');
          continue;
        }
        slot.deps.push(dep);
        dep.dependents.push(slot);
      }
    }
    this.depWarnings = warnings;
    for (const [id, slot] of this.slots) if (!next.has(id)) this.dispose(slot, 'WAKE_CONTAINER_GONE', 'the container was removed');
    this.slots = next;

    // Members and routes.
    const memberSlots = new Map<string, ContainerSlot>();
    const routeGates = new Map<string, RouteGate>();
    const ignoringRoutes = new Set<string>();
    for (const slot of next.values()) {
      slot.members = [];
      slot.routes = new Set();
    }
    for (const r of input.routes) {
      const slots: ContainerSlot[] = [];
      let unmanaged = false;
      for (const m of r.members) {
        const slot = m.container === undefined ? undefined : next.get(unitOf.get(m.container.id) ?? m.container.id);
        if (slot === undefined) {
          unmanaged = true;
          continue;
        }
        memberSlots.set(m.id, slot);
        slot.members.push(m);
        if (slot.liveUrls.has(m.id) && slot.listedUrls.get(m.id) !== m.url) {
          slot.liveUrls.delete(m.id);
          slot.listedUrls.delete(m.id);
        }
        slots.push(slot);
      }
      // A mixed pool (some members never sleep) has no gate, yet its sleeping members' idle_ignore
      // `from` rules need the client IP in begin().
      if (slots.some((sl) => sl.ignore !== undefined)) ignoringRoutes.add(r.name);
      if (slots.length === 0 || unmanaged) continue;
      const gate: RouteGate = { name: r.name, slots, awake: false };
      for (const s of slots) s.routes.add(gate);
      routeGates.set(r.name, gate);
    }
    this.memberSlots = memberSlots;
    this.routeGates = routeGates;
    this.ignoringRoutes = ignoringRoutes;
    for (const slot of next.values()) this.reconcile(slot, known.get(slot.id)!);
    for (const gate of routeGates.values()) refreshGate(gate);
  }

  /**
   * Our own start or stop just ended: Docker's view from before it is not trusted for SETTLE_MS,
   * and a sync skipped meanwhile is looked at again when that window ends.
   */
  settled(slot: ContainerSlot, at = Date.now()): void {
    slot.settledAt = at;
    if (slot.settleTimer !== undefined) clearTimeout(slot.settleTimer);
    slot.settleTimer = undefined;
    this.armSettle(slot);
  }

  /** Stops all settle checks and fails every wake in flight. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const slot of this.slots.values()) this.dispose(slot, 'WAKE_SHUTDOWN', 'Bellhop is shutting down');
  }

  private upsertSlot(c: WakeContainerInfo): ContainerSlot {
    const existing = this.slots.get(c.id);
    if (existing === undefined) return new ContainerSlot(c, this.activity.of(c.id));
    existing.update(c);
    return existing;
  }

  private resolveDependency(from: WakeContainerInfo, name: string, known: Map<string, WakeContainerInfo>): WakeContainerInfo | undefined {
    const clean = name.replace(/^\//, '').split(':')[0]!.trim();
    let byName: WakeContainerInfo | undefined;
    for (const c of known.values()) {
      if (c.dockerHost !== from.dockerHost) continue;
      if (from.composeProject !== undefined && c.composeProject === from.composeProject && c.composeService === clean) return c;
      if (c.name === clean) byName = c;
    }
    return byName;
  }

  private reaches(from: ContainerSlot, target: ContainerSlot): boolean {
    const seen = new Set<ContainerSlot>();
    const stack = [from];
    while (stack.length > 0) {
      const s = stack.pop()!;
      if (s === target) return true;
      if (seen.has(s)) continue;
      seen.add(s);
      stack.push(...s.deps);
    }
    return false;
  }

  /** Brings a slot in line with Docker's view, unless our own operation is in flight or fresher. */
  private reconcile(slot: ContainerSlot, c: WakeContainerInfo): void {
    if (slot.flight !== undefined || slot.stopping !== undefined || Date.now() - slot.settledAt < SETTLE_MS) {
      // Not now, but not forgotten: the end of the wake or stop (settled) or the settle timer look again.
      slot.pendingSync = c;
      this.armSettle(slot);
      return;
    }
    slot.pendingSync = undefined;
    if (c.state !== slot.dockerState) slot.unready = false;
    slot.dockerState = c.state;
    slot.dockerHealth = c.dockerHealth;
    if (c.state === 'running') {
      if (slot.state === 'asleep' && !slot.unready) {
        // Started outside Bellhop (or running at Bellhop's startup): awake, and its clock runs.
        slot.activity.lastActivity = Date.now();
        slot.setState('awake');
      }
      if (slot.state === 'awake') this.idle.arm(slot);
    } else if (slot.state === 'awake') {
      this.idle.clear(slot);
      slot.setState('asleep');
    }
  }

  /** Arms the end-of-settle check for a skipped sync (only while no own operation runs). */
  private armSettle(slot: ContainerSlot): void {
    if (this.closed || slot.gone || slot.settleTimer !== undefined || slot.pendingSync === undefined) return;
    if (slot.flight !== undefined || slot.stopping !== undefined) return; // settled() re-arms
    slot.settleTimer = setTimeout(() => this.onSettled(slot), Math.max(0, slot.settledAt + SETTLE_MS - Date.now()));
    slot.settleTimer.unref();
  }

  /**
   * The settle window ended with a sync skipped inside it. That snapshot may predate our own
   * start/stop, so Docker is asked afresh and its answer reconciled (the snapshot itself only
   * if the inspect fails).
   */
  private onSettled(slot: ContainerSlot): void {
    slot.settleTimer = undefined;
    const pending = slot.pendingSync;
    if (pending === undefined || this.closed || slot.gone) return;
    if (slot.flight !== undefined || slot.stopping !== undefined) return;
    if (Date.now() - slot.settledAt < SETTLE_MS) {
      this.armSettle(slot);
      return;
    }
    if (pending.state === slot.dockerState) {
      this.reconcile(slot, pending); // agrees with what we saw ourselves: no need to ask
      return;
    }
    const settledAt = slot.settledAt;
    void this.control.inspect(slot.id).then(
      (info) => ({ ...pending, state: info.state, dockerHealth: info.dockerHealth }),
      () => pending,
    ).then((info) => {
      // Something newer happened meanwhile (a sync, our own wake or stop): it decides.
      if (this.closed || slot.gone || slot.pendingSync !== pending || slot.settledAt !== settledAt) return;
      this.reconcile(slot, info);
    });
  }

  private dispose(slot: ContainerSlot, code: 'WAKE_CONTAINER_GONE' | 'WAKE_SHUTDOWN', message: string): void {
    slot.gone = true;
    this.idle.clear(slot);
    this.activity.forget(slot.id); // kept while something is open: a later slot counts it
    if (slot.settleTimer !== undefined) clearTimeout(slot.settleTimer);
    slot.settleTimer = undefined;
    const err = new WakeError(code, message, { container: slot.name });
    if (slot.flight !== undefined) {
      const waiters = [...slot.flight.waiters];
      slot.flight.waiters.clear();
      for (const w of waiters) w(err);
    }
    const ev = { type: 'failed' as const, container: slot.name, message, at: Date.now(), error: { code, message } };
    for (const l of [...slot.listeners]) l(ev);
  }
}
