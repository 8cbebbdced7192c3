// One managed container as the wake module's collaborators share it (the slot table's rows):
// what discovery said about it, where its own wake or stop stands, and its progress events.
// What needs nothing but the slot itself (a state change that refreshes its routes' gates, the
// sleep settings it runs by, where its members are reachable now) is a method here; whatever
// talks to Docker or arms a timer belongs to the collaborator that owns that work.
import type { IdleSpec, MemberSpec } from '../routes/index.ts';
import type { ContainerActivity } from './activity-ledger.ts';
import { compileIdleIgnore } from './idle-ignore.ts';
import type { IdleIgnoreMatcher } from './idle-ignore.ts';
import type { FailureView } from './loading-page.ts';
import type { WakeInspect } from './wake-control.ts';
import type { WakeError } from './wake-error.ts';

/** What the admin API shows per container and route member. */
export type SleepState = 'asleep' | 'waking' | 'awake' | 'draining';

/**
 * A container as discovery knows it. `ContainerRecord` (internal/docker) and `MemberContainer`
 * (internal/routes) both fit.
 */
export interface WakeContainerInfo {
  id: string;
  name: string;
  dockerHost?: string | undefined;
  state: string;
  dockerHealth?: string | undefined;
  composeProject?: string | undefined;
  composeService?: string | undefined;
  /** Used for dependencies of dependencies that have no IdleSpec of their own. */
  composeDependsOn?: readonly string[] | undefined;
  idle?: IdleSpec | undefined;
  /**
   * A Docker Swarm task (or a service without one): the service it belongs to. Its tasks share
   * one slot, keyed by the service ID, which sleeps and wakes by scaling (ServiceWakeControl).
   */
  swarmService?: { id: string; name: string; global?: boolean | undefined } | undefined;
}

export interface WakeFailure {
  code: string;
  message: string;
  exitCode?: number | undefined;
  logs?: string | undefined;
  at: number; // ms since epoch
}

/** Per-container status for the admin API. */
export interface WakeContainerStatus {
  id: string;
  name: string;
  state: SleepState;
  dockerState: string;
  /** ms until the idle stop; `null` when not counting down (asleep, waking, no idle_timeout). */
  msUntilSleep: number | null;
  inFlight: number;
  lastWakeMs: number | null;
  lastError: WakeFailure | null;
  dependsOn: string[];
  members: string[];
  routes: string[];
}

/** Told once how a wake ended: `undefined` when the container is ready. */
export type Waiter = (err: WakeError | undefined) => void;

/** The one wake in progress for a container (single flight). */
export interface Flight {
  startedAt: number;
  waiters: Set<Waiter>;
  done: boolean;
  outcome: WakeError | undefined;
}

export interface ProgressEvent {
  type: 'waking' | 'dependency' | 'starting' | 'probing' | 'ready' | 'failed';
  container: string;
  message: string;
  at: number;
  error?: FailureView | undefined;
}

/** A route whose members all sleep: the request gate holds or wakes on its behalf. */
export interface RouteGate {
  name: string;
  /** Managed members only, in route order (a route with an unmanaged member is never gated). */
  slots: ContainerSlot[];
  awake: boolean;
}

const MAX_HISTORY = 50;

/** Sleep settings of a dependency that has none of its own and no dependent to borrow them from. */
const NO_IDLE: IdleSpec = { idleTimeoutMs: 0, wakeTimeoutMs: 180_000, stopTimeoutMs: 30_000, stopMethod: 'stop', noLoadingPage: false, dependsOn: [] };

function isIpLiteral(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.startsWith('[');
}

function isLoopback(host: string): boolean {
  return host.startsWith('127.') || host === '[::1]' || host === 'localhost';
}

export class ContainerSlot {
  readonly id: string;
  name = '';
  dockerHost: string | undefined;
  composeProject: string | undefined;
  composeService: string | undefined;
  dependsOnNames: readonly string[] = [];
  idle: IdleSpec | undefined;
  /** Compiled proxy.idle_ignore rules of this container's own labels (never inherited). */
  ignore: IdleIgnoreMatcher | undefined;
  /** The spec `ignore` was compiled from. */
  ignoreSpec: IdleSpec['ignore'];
  dockerState: string;
  dockerHealth: string | undefined;
  state: SleepState;
  members: MemberSpec[] = [];
  routes = new Set<RouteGate>();
  deps: ContainerSlot[] = [];
  dependents: ContainerSlot[] = [];
  /** Shared with the ledger: survives this slot (see activity-ledger.ts). */
  readonly activity: ContainerActivity;
  /** The idle clock's timer (IdleClock owns it). */
  timer: NodeJS.Timeout | undefined;
  flight: Flight | undefined;
  stopping: Promise<void> | undefined;
  /** Our own last transition; a sync snapshot older than this may contradict it. */
  settledAt = 0;
  /**
   * The newest snapshot a sync brought while our own operation was in flight or settling:
   * looked at again (with a fresh inspect) once the settle window ends, so a container that
   * died just after its wake does not stay "awake" until its idle timeout.
   */
  pendingSync: WakeContainerInfo | undefined;
  settleTimer: NodeJS.Timeout | undefined;
  /** Running but failed readiness: not awake, stopped after idle_timeout. */
  unready = false;
  host: string | undefined;
  /** Member URLs at the address Docker gave the last start (WakeInspect.urls). */
  readonly liveUrls = new Map<string, string>();
  /**
   * The member URL discovery listed when `liveUrls` was learnt: once discovery lists another
   * one it has caught up (or the container was restarted elsewhere) and its URL wins.
   */
  readonly listedUrls = new Map<string, string>();
  lastWakeMs: number | undefined;
  /** The member URL the last readiness check of a wake was made at. */
  readyUrl: string | undefined;
  lastError: WakeFailure | undefined;
  coolDownUntil = 0;
  history: ProgressEvent[] = [];
  readonly listeners = new Set<(e: ProgressEvent) => void>();
  gone = false;
  /** A swarm service (the slot of all its tasks): it sleeps at 0 replicas. */
  readonly service: boolean;

  /** A container first seen by a sync: awake if it runs, else asleep. */
  constructor(c: WakeContainerInfo, activity: ContainerActivity) {
    this.id = c.id;
    this.service = c.swarmService !== undefined;
    this.activity = activity;
    this.dockerState = c.state;
    this.dockerHealth = c.dockerHealth;
    this.state = c.state === 'running' ? 'awake' : 'asleep';
    this.update(c);
  }

  /** What a sync says about the container's identity and settings (not its state: see reconcile). */
  update(c: WakeContainerInfo): void {
    const idle = c.idle !== undefined && c.idle.idleTimeoutMs > 0 ? c.idle : undefined;
    this.name = c.name;
    this.dockerHost = c.dockerHost;
    this.composeProject = c.composeProject;
    this.composeService = c.composeService;
    this.dependsOnNames = c.idle?.dependsOn ?? c.composeDependsOn ?? [];
    this.idle = idle;
    if (this.ignoreSpec !== idle?.ignore) {
      this.ignoreSpec = idle?.ignore;
      this.ignore = compileIdleIgnore(idle?.ignore);
    }
  }

  /** Moves to `state` and refreshes every route gate the container serves. */
  setState(state: SleepState): void {
    if (this.state === state) return;
    this.state = state;
    for (const gate of this.routes) refreshGate(gate);
  }

  /**
   * The sleep settings this container runs by: its own, else (a dependency without sleep labels)
   * those of the app that depends on it, without the app's start endpoint.
   */
  effectiveIdle(): IdleSpec {
    if (this.idle !== undefined) return this.idle;
    for (const d of this.dependents) {
      const spec = d.effectiveIdle();
      return { ...spec, startEndpoint: undefined, noLoadingPage: spec.noLoadingPage, dependsOn: [] };
    }
    return NO_IDLE;
  }

  hasAwakeDependent(): boolean {
    return this.dependents.some((d) => d.state !== 'asleep');
  }

  /** Seconds until the cool-down after a failed wake ends (at least 1), for `Retry-After`. */
  retryAfterSec(): number {
    return Math.max(1, Math.ceil((this.coolDownUntil - Date.now()) / 1000));
  }

  /** Records the address Docker gave this start (readiness is probed and requests are sent there). */
  learnAddress(info: WakeInspect): void {
    if (info.host !== undefined && info.host !== '') this.host = info.host;
    if (info.urls === undefined) return;
    for (const m of this.members) {
      const url = info.urls[m.id];
      if (url === undefined || url === '') continue;
      this.liveUrls.set(m.id, url);
      this.listedUrls.set(m.id, m.url);
    }
  }

  /**
   * Where a member is reachable now: the URL learnt at the last start while discovery still
   * lists the old one, else the listed URL with the container's current IP. `undefined` when
   * neither is known (a stopped container is listed without an address). Never throws.
   */
  memberUrl(memberId: string, listed: string): URL | undefined {
    const live = this.liveUrls.get(memberId);
    try {
      if (live !== undefined) return new URL(live);
      if (listed === '') return undefined;
      const u = new URL(listed);
      const host = this.host;
      if (host !== undefined && u.hostname !== host && isIpLiteral(u.hostname) && !isLoopback(u.hostname)) u.hostname = host;
      return u;
    } catch {
      return undefined;
    }
  }

  /** Records a progress event and tells the open event streams. */
  emit(type: ProgressEvent['type'], message: string, error?: FailureView): void {
    const ev: ProgressEvent = { type, container: this.name, message, at: Date.now(), ...(error ? { error } : {}) };
    this.history.push(ev);
    if (this.history.length > MAX_HISTORY) this.history.shift();
    for (const l of [...this.listeners]) l(ev);
  }

  status(now: number): WakeContainerStatus {
    let msUntilSleep: number | null = null;
    if (this.state === 'awake' && this.idle !== undefined) {
      msUntilSleep = this.activity.inFlight > 0 ? this.idle.idleTimeoutMs : Math.max(0, this.activity.lastActivity + this.idle.idleTimeoutMs - now);
    }
    return {
      id: this.id,
      name: this.name,
      state: this.state,
      dockerState: this.dockerState,
      msUntilSleep,
      inFlight: this.activity.inFlight,
      lastWakeMs: this.lastWakeMs ?? null,
      lastError: this.lastError ?? null,
      dependsOn: this.deps.map((d) => d.name),
      members: this.members.map((m) => m.id),
      routes: [...this.routes].map((r) => r.name),
    };
  }
}

/** A route takes requests without the gate while any of its members is awake. */
export function refreshGate(gate: RouteGate): void {
  gate.awake = gate.slots.some((s) => s.state === 'awake');
}
