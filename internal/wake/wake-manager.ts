// The single owner of per-container sleep state: idle clocks, single-flight wakes with
// dependencies, drain-then-stop, and the gate the proxy calls before picking a member.
//
// Every state transition is synchronous (no await between reading and writing a slot), so two
// requests in the same tick cannot both decide to start a container. Background work (a wake, a
// stop) is one promise per container that never rejects; requests only wait on it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { IdleSpec, MemberSpec, RouteSpec } from '../routes/route-spec.ts';
import { silentLogger } from './wake-control.ts';
import type { WakeControl, WakeInspect, WakeLogger } from './wake-control.ts';
import { WakeError } from './wake-error.ts';
import { probeHttp, probeTcp } from './readiness-probe.ts';
import { isBrowserNavigation, requestPath, wantsJson } from './request-kind.ts';
import { compileIdleIgnore } from './idle-ignore.ts';
import { ActivityLedger } from './activity-ledger.ts';
import type { ContainerActivity } from './activity-ledger.ts';
import type { IdleIgnoreMatcher } from './idle-ignore.ts';
import { renderLoadingPage, WAKE_EVENTS_PATH, WAKE_PATH_PREFIX, WAKE_STATUS_PATH } from './loading-page.ts';
import type { FailureView } from './loading-page.ts';
import { LogDisclosure } from './log-disclosure.ts';
import type { LogDisclosureOptions, ShowLogs } from './log-disclosure.ts';

/** What the admin API shows per container and route member. */
export type SleepState = 'asleep' | 'waking' | 'awake' | 'draining';

/** What the gate tells the proxy: go on and pick a member, or the response is already dealt with. */
export type GateResult = 'proceed' | 'handled';

/** Identifies the route a request matched; `route` is `RouteSpec.name`. */
export interface WakeGateContext {
  readonly route: string;
  /**
   * In a pool: the member the balancer would pick for this request if every member were awake
   * (sticky cookie, iphash); asked only when the route is asleep, so it costs nothing otherwise.
   */
  readonly preferMember?: (() => string | undefined) | undefined;
  /**
   * The real client IP (trusted-proxy aware), for `proxy.idle_ignore.from`. Without it only the
   * User-Agent and path rules can match.
   */
  readonly clientIp?: string | undefined;
}

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
}

/** Input of `sync`: the whole current picture, as often as it changes. */
export interface WakeSyncInput {
  routes: readonly RouteSpec[];
  /** Every known container (so dependencies without routes can be found by name/service). */
  containers?: readonly WakeContainerInfo[] | undefined;
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

/** Counters for /metrics (the composition root turns them into prom-client metrics). */
export interface WakeMetrics {
  wakesTotal: number;
  wakeFailuresTotal: number;
  stopsTotal: number;
  /** Requests currently held waiting for a wake (should return to 0). */
  held: number;
  /** Open progress-event streams. */
  eventStreams: number;
}

/** Reported once per finished wake attempt (success or failure): feed a histogram with it. */
export interface WakeRecord {
  containerId: string;
  container: string;
  ok: boolean;
  durationMs: number;
  code?: string | undefined;
}

/** The outcome of `ensureAwake`; never a rejection. */
export type WakeOutcome = { ok: true } | { ok: false; error: WakeError; retryAfterSec: number };

export interface WakeManagerOptions {
  control: WakeControl;
  logger?: WakeLogger | undefined;
  /** Pause between a failed wake and the next start attempt (default 5s). */
  coolDownMs?: number | undefined;
  /** Log lines shown with a failure (default 20). */
  logLines?: number | undefined;
  /** Progress-stream heartbeat (default 15s). */
  heartbeatMs?: number | undefined;
  /**
   * `wake.show_logs`: who sees a failed wake's log lines on the loading page and in its events
   * and status (default `private`: loopback, private networks, the trusted proxies' networks).
   */
  showLogs?: ShowLogs | undefined;
  /** `entrypoint.trusted_proxies`, for `showLogs: 'private'`. */
  trustedProxies?: LogDisclosureOptions['trustedProxies'];
}

type Waiter = (err: WakeError | undefined) => void;

interface Flight {
  startedAt: number;
  waiters: Set<Waiter>;
  done: boolean;
  outcome: WakeError | undefined;
}

interface ProgressEvent {
  type: 'waking' | 'dependency' | 'starting' | 'probing' | 'ready' | 'failed';
  container: string;
  message: string;
  at: number;
  error?: FailureView | undefined;
}

interface Slot {
  id: string;
  name: string;
  dockerHost: string | undefined;
  composeProject: string | undefined;
  composeService: string | undefined;
  dependsOnNames: readonly string[];
  idle: IdleSpec | undefined;
  /** Compiled proxy.idle_ignore rules of this container's own labels (never inherited). */
  ignore: IdleIgnoreMatcher | undefined;
  /** The spec `ignore` was compiled from. */
  ignoreSpec: IdleSpec['ignore'];
  dockerState: string;
  dockerHealth: string | undefined;
  state: SleepState;
  members: MemberSpec[];
  routes: Set<RouteGate>;
  deps: Slot[];
  dependents: Slot[];
  /** Shared with the ledger: survives this slot (see activity-ledger.ts). */
  activity: ContainerActivity;
  timer: NodeJS.Timeout | undefined;
  flight: Flight | undefined;
  stopping: Promise<void> | undefined;
  /** Our own last transition; a sync snapshot older than this may contradict it. */
  settledAt: number;
  /**
   * The newest snapshot a sync brought while our own operation was in flight or settling:
   * looked at again (with a fresh inspect) once the settle window ends, so a container that
   * died just after its wake does not stay "awake" until its idle timeout.
   */
  pendingSync: WakeContainerInfo | undefined;
  settleTimer: NodeJS.Timeout | undefined;
  /** Running but failed readiness: not awake, stopped after idle_timeout. */
  unready: boolean;
  host: string | undefined;
  /** Member URLs at the address Docker gave the last start (WakeInspect.urls). */
  liveUrls: Map<string, string>;
  /**
   * The member URL discovery listed when `liveUrls` was learnt: once discovery lists another
   * one it has caught up (or the container was restarted elsewhere) and its URL wins.
   */
  listedUrls: Map<string, string>;
  lastWakeMs: number | undefined;
  lastError: WakeFailure | undefined;
  coolDownUntil: number;
  history: ProgressEvent[];
  listeners: Set<(e: ProgressEvent) => void>;
  gone: boolean;
}

interface RouteGate {
  name: string;
  /** Managed members only, in route order (a route with an unmanaged member is never gated). */
  slots: Slot[];
  awake: boolean;
}

const NOOP_RELEASE = (): void => undefined;
// What an ignored request (an uptime monitor) is told while the container sleeps. Nothing
// changes on its own sooner than a real visitor arrives: no reason to invite a quick retry.
const ASLEEP_RETRY_AFTER_SEC = 60;
// A sync snapshot taken just before our own start/stop can arrive just after it; within this
// window our own observed state wins (the watcher's next event corrects anything else).
const SETTLE_MS = 2000;
const MAX_HISTORY = 50;
// Node's timers overflow past 2^31-1 ms (~24.8 days) and fire after 1 ms instead; longer
// durations (idle_timeout 30d) arm this much and re-arm when it fires early.
const MAX_TIMER_MS = 2 ** 31 - 1;

function isIpLiteral(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.startsWith('[');
}

function isLoopback(host: string): boolean {
  return host.startsWith('127.') || host === '[::1]' || host === 'localhost';
}

/**
 * Owns sleep state per container (keyed by container ID). See the module index for the contract.
 */
export class WakeManager {
  private readonly control: WakeControl;
  private readonly log: WakeLogger;
  private readonly coolDownMs: number;
  private readonly logLines: number;
  private readonly heartbeatMs: number;
  private readonly disclosure: LogDisclosure;
  private slots = new Map<string, Slot>();
  private readonly activity = new ActivityLedger();
  private memberSlots = new Map<string, Slot>();
  private routeGates = new Map<string, RouteGate>();
  /** Routes with a sleeping member that has idle_ignore rules (gated or mixed pools). */
  private ignoringRoutes = new Set<string>();
  /**
   * Client IP of each request the gate let through on a route with idle_ignore rules, so
   * begin() can judge the same request (proxy.idle_ignore.from). Weak: dies with the request.
   */
  private readonly ignoreIps = new WeakMap<IncomingMessage, string>();
  private readonly wakeListeners = new Set<(r: WakeRecord) => void>();
  /** Dependency warnings of the last sync: each is logged when it appears, not on every sync. */
  private depWarnings = new Set<string>();
  private closed = false;
  private held = 0;
  private eventStreams = 0;
  private wakesTotal = 0;
  private wakeFailuresTotal = 0;
  private stopsTotal = 0;

  constructor(opts: WakeManagerOptions) {
    this.control = opts.control;
    this.log = opts.logger ?? silentLogger;
    this.coolDownMs = opts.coolDownMs ?? 5000;
    this.logLines = opts.logLines ?? 20;
    this.heartbeatMs = opts.heartbeatMs ?? 15_000;
    this.disclosure = new LogDisclosure({ showLogs: opts.showLogs, trustedProxies: opts.trustedProxies });
  }

  /** Config reload: `wake.show_logs` and `entrypoint.trusted_proxies` (what is not given stays). */
  setLogDisclosure(opts: LogDisclosureOptions): void {
    this.disclosure.configure(opts);
  }

  // ---------------------------------------------------------------- discovery

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

    // Managed: every container with an IdleSpec, plus everything it depends on (transitively).
    const next = new Map<string, Slot>();
    const warnings = new Set<string>();
    const warnOnce = (key: string, obj: object, msg: string): void => {
      warnings.add(key);
      if (!this.depWarnings.has(key)) this.log.warn(obj, msg);
    };
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
    const memberSlots = new Map<string, Slot>();
    const routeGates = new Map<string, RouteGate>();
    const ignoringRoutes = new Set<string>();
    for (const slot of next.values()) {
      slot.members = [];
      slot.routes = new Set();
    }
    for (const r of input.routes) {
      const slots: Slot[] = [];
      let unmanaged = false;
      for (const m of r.members) {
        const slot = m.container === undefined ? undefined : next.get(m.container.id);
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
    for (const gate of routeGates.values()) this.refreshGate(gate);
  }

  private upsertSlot(c: WakeContainerInfo): Slot {
    const idle = c.idle !== undefined && c.idle.idleTimeoutMs > 0 ? c.idle : undefined;
    const existing = this.slots.get(c.id);
    const dependsOn = c.idle?.dependsOn ?? c.composeDependsOn ?? [];
    if (existing !== undefined) {
      existing.name = c.name;
      existing.dockerHost = c.dockerHost;
      existing.composeProject = c.composeProject;
      existing.composeService = c.composeService;
      existing.dependsOnNames = dependsOn;
      existing.idle = idle;
      if (existing.ignoreSpec !== idle?.ignore) {
        existing.ignoreSpec = idle?.ignore;
        existing.ignore = compileIdleIgnore(idle?.ignore);
      }
      return existing;
    }
    const running = c.state === 'running';
    return {
      id: c.id,
      name: c.name,
      dockerHost: c.dockerHost,
      composeProject: c.composeProject,
      composeService: c.composeService,
      dependsOnNames: dependsOn,
      idle,
      ignore: compileIdleIgnore(idle?.ignore),
      ignoreSpec: idle?.ignore,
      dockerState: c.state,
      dockerHealth: c.dockerHealth,
      state: running ? 'awake' : 'asleep',
      members: [],
      routes: new Set(),
      deps: [],
      dependents: [],
      activity: this.activity.of(c.id),
      timer: undefined,
      flight: undefined,
      stopping: undefined,
      settledAt: 0,
      pendingSync: undefined,
      settleTimer: undefined,
      unready: false,
      host: undefined,
      liveUrls: new Map(),
      listedUrls: new Map(),
      lastWakeMs: undefined,
      lastError: undefined,
      coolDownUntil: 0,
      history: [],
      listeners: new Set(),
      gone: false,
    };
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

  private reaches(from: Slot, target: Slot): boolean {
    const seen = new Set<Slot>();
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
  private reconcile(slot: Slot, c: WakeContainerInfo): void {
    if (slot.flight !== undefined || slot.stopping !== undefined || Date.now() - slot.settledAt < SETTLE_MS) {
      // Not now, but not forgotten: finishWake/afterStop or the settle timer look again.
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
        this.setState(slot, 'awake');
      }
      if (slot.state === 'awake') this.armIdle(slot);
    } else if (slot.state === 'awake') {
      this.clearIdle(slot);
      this.setState(slot, 'asleep');
    }
  }

  /** Arms the end-of-settle check for a skipped sync (only while no own operation runs). */
  private armSettle(slot: Slot): void {
    if (this.closed || slot.gone || slot.settleTimer !== undefined || slot.pendingSync === undefined) return;
    if (slot.flight !== undefined || slot.stopping !== undefined) return; // finishWake/afterStop re-arm
    slot.settleTimer = setTimeout(() => this.onSettled(slot), Math.max(0, slot.settledAt + SETTLE_MS - Date.now()));
    slot.settleTimer.unref();
  }

  /**
   * The settle window ended with a sync skipped inside it. That snapshot may predate our own
   * start/stop, so Docker is asked afresh and its answer reconciled (the snapshot itself only
   * if the inspect fails).
   */
  private onSettled(slot: Slot): void {
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

  private dispose(slot: Slot, code: 'WAKE_CONTAINER_GONE' | 'WAKE_SHUTDOWN', message: string): void {
    slot.gone = true;
    this.clearIdle(slot);
    this.activity.forget(slot.id); // kept while something is open: a later slot counts it
    if (slot.settleTimer !== undefined) clearTimeout(slot.settleTimer);
    slot.settleTimer = undefined;
    const err = new WakeError(code, message, { container: slot.name });
    if (slot.flight !== undefined) {
      const waiters = [...slot.flight.waiters];
      slot.flight.waiters.clear();
      for (const w of waiters) w(err);
    }
    const ev: ProgressEvent = { type: 'failed', container: slot.name, message, at: Date.now(), error: { code, message } };
    for (const l of [...slot.listeners]) l(ev);
  }

  // ---------------------------------------------------------------- hot path

  /**
   * Whether the proxy may pick this member now. Members of containers without sleep settings
   * are always usable as far as waking is concerned.
   */
  isUsable(memberId: string): boolean {
    const slot = this.memberSlots.get(memberId);
    return slot === undefined || slot.state === 'awake';
  }

  /** Sleep state of a member's container, or `undefined` when it does not sleep. */
  stateOf(memberId: string): SleepState | undefined {
    return this.memberSlots.get(memberId)?.state;
  }

  /**
   * Marks the start of a proxied request or websocket to `memberId`; call the returned function
   * once when it ends (response finished or either side closed). Open requests keep the
   * container awake; arrival and end both reset the idle clock. Health probes must not call it.
   * For a websocket, call it before the upgrade request is sent and release it only once the
   * tunnel has closed: one hold from the request to the end of the tunnel, with no gap at the 101.
   * Pass the request that went through `gate()`: one that the container's `proxy.idle_ignore`
   * rules match (an uptime monitor) is proxied but neither arrives nor stays in flight.
   */
  begin(memberId: string, req?: IncomingMessage): (outcome?: unknown) => void {
    const slot = this.memberSlots.get(memberId);
    if (slot === undefined) return NOOP_RELEASE;
    if (req !== undefined && slot.ignore !== undefined && slot.ignore.matches(req, this.ignoreIps.get(req))) return NOOP_RELEASE;
    // Counted on the container's ledger record, not on this slot: a later sync may replace the
    // slot while the request or tunnel is still open, and the new one must see it.
    const id = slot.id;
    return this.activity.hold(id, () => {
      const current = this.slots.get(id);
      if (current !== undefined) this.armIdle(current);
      else this.activity.forget(id); // no longer managed: nothing to clock
    });
  }

  /**
   * The URL to forward to for a member right after its wake: Docker may give the container a
   * new IP on start, and the route table catches up only when discovery re-syncs.
   */
  upstreamUrl(memberId: string, fallback: string): string {
    const slot = this.memberSlots.get(memberId);
    if (slot === undefined) return fallback;
    // Hot path (every usability check of a sleeping route's member): nothing to rewrite.
    if (!slot.liveUrls.has(memberId) && (slot.host === undefined || fallback === '')) return fallback;
    const live = this.memberUrl(slot, memberId, fallback);
    return live === undefined ? fallback : live.href.replace(/\/$/, '');
  }

  /**
   * Where a member is reachable now: the URL learnt at the last start while discovery still
   * lists the old one, else the listed URL with the container's current IP. `undefined` when
   * neither is known (a stopped container is listed without an address). Never throws.
   */
  private memberUrl(slot: Slot, memberId: string, listed: string): URL | undefined {
    const live = slot.liveUrls.get(memberId);
    try {
      if (live !== undefined) return new URL(live);
      if (listed === '') return undefined;
      const u = new URL(listed);
      const host = slot.host;
      if (host !== undefined && u.hostname !== host && isIpLiteral(u.hostname) && !isLoopback(u.hostname)) u.hostname = host;
      return u;
    } catch {
      return undefined;
    }
  }

  /**
   * Called by the proxy for every request (and upgrade: pass the socket as `res`) after route
   * lookup and before picking a member. Synchronous 'proceed' when the route has an awake
   * member; otherwise serves the loading page, holds the request until the wake ends, or
   * answers 403/503 itself ('handled'). The returned promise never rejects.
   */
  gate(req: IncomingMessage, res: ServerResponse | Duplex, ctx: WakeGateContext): GateResult | Promise<GateResult> {
    if (ctx.clientIp !== undefined && this.ignoringRoutes.has(ctx.route)) this.ignoreIps.set(req, ctx.clientIp);
    const gate = this.routeGates.get(ctx.route);
    if (gate === undefined) return 'proceed';
    if (req.url !== undefined && req.url.startsWith(WAKE_PATH_PREFIX)) return this.serveReserved(gate, req, res, ctx);
    if (gate.awake) return 'proceed';
    return this.gateAsleep(gate, req, res, ctx);
  }

  // ---------------------------------------------------------------- gate, asleep

  private gateAsleep(gate: RouteGate, req: IncomingMessage, res: ServerResponse | Duplex, ctx: WakeGateContext): GateResult | Promise<GateResult> {
    const slot = this.targetSlot(gate, ctx.preferMember);
    if (slot.ignore !== undefined && slot.ignore.matches(req, ctx.clientIp)) {
      // An uptime monitor never wakes it: asleep (or stopping) → a small 503 saying so. While
      // someone else's wake runs it waits like an API client (never the loading page) and is
      // then proxied; begin() still does not count it.
      if (slot.flight === undefined) {
        this.writeAsleep(req, res, slot);
        return 'handled';
      }
      return this.hold(slot, slot.flight, req, res);
    }
    const spec = this.effectiveIdle(slot);
    const navigation = !spec.noLoadingPage && isBrowserNavigation(req) && isHttpResponse(res);
    if (slot.flight === undefined && spec.startEndpoint !== undefined && requestPath(req.url) !== spec.startEndpoint) {
      this.writePlain(res, 403, 'Forbidden: this service is asleep and can only be started via its start endpoint.\n', undefined);
      return 'handled';
    }
    const flight = this.requestWake(slot);
    if (flight instanceof WakeError) {
      if (navigation) this.writePage(gate, slot, res, flight, this.disclosure.allows(req, ctx.clientIp));
      else this.writeFailure(req, res, flight, slot);
      return 'handled';
    }
    if (navigation) {
      this.writePage(gate, slot, res, undefined, false);
      return 'handled';
    }
    return this.hold(slot, flight, req, res);
  }

  /**
   * In a pool: the member already waking, else the one the balancer would pick (if it is not
   * cooling down after a failure), else the first one not cooling down, else the first.
   */
  private targetSlot(gate: RouteGate, preferMember?: () => string | undefined): Slot {
    let fallback: Slot | undefined;
    const now = Date.now();
    for (const s of gate.slots) if (s.flight !== undefined) return s;
    const preferredId = preferMember?.();
    const preferred = preferredId === undefined ? undefined : this.memberSlots.get(preferredId);
    if (preferred !== undefined && gate.slots.includes(preferred) && preferred.coolDownUntil <= now) return preferred;
    for (const s of gate.slots) {
      if (s.coolDownUntil <= now) return s;
      fallback ??= s;
    }
    return fallback ?? gate.slots[0]!;
  }

  private hold(slot: Slot, flight: Flight, req: IncomingMessage, res: ServerResponse | Duplex): Promise<GateResult> {
    if (res.destroyed) return Promise.resolve('handled');
    return new Promise<GateResult>((resolve) => {
      const onClose = (): void => {
        if (!flight.waiters.delete(waiter)) return;
        this.held--;
        resolve('handled');
      };
      const waiter: Waiter = (err) => {
        res.off('close', onClose);
        this.held--;
        if (err === undefined && !res.destroyed) {
          resolve('proceed');
          return;
        }
        if (err !== undefined) this.writeFailure(req, res, err, slot);
        resolve('handled');
      };
      flight.waiters.add(waiter);
      this.held++;
      res.on('close', onClose);
    });
  }

  /**
   * Wakes the member's container (and its dependencies) if needed and resolves when it is
   * ready, or with the failure. The wake goes on if `signal` aborts; only this wait ends.
   */
  ensureAwake(memberId: string, signal?: AbortSignal): Promise<WakeOutcome> {
    const slot = this.memberSlots.get(memberId);
    if (slot === undefined || slot.state === 'awake') return Promise.resolve({ ok: true });
    const flight = this.requestWake(slot);
    if (flight instanceof WakeError) return Promise.resolve(this.failureOutcome(flight, slot));
    return new Promise<WakeOutcome>((resolve) => {
      const aborted = (): WakeOutcome =>
        this.failureOutcome(new WakeError('WAKE_TIMEOUT', 'the caller stopped waiting', { container: slot.name }), slot);
      if (signal?.aborted) {
        resolve(aborted());
        return;
      }
      const onAbort = (): void => {
        if (!flight.waiters.delete(waiter)) return;
        this.held--;
        resolve(aborted());
      };
      const waiter: Waiter = (err) => {
        signal?.removeEventListener('abort', onAbort);
        this.held--;
        resolve(err === undefined ? { ok: true } : this.failureOutcome(err, slot));
      };
      flight.waiters.add(waiter);
      this.held++;
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private failureOutcome(error: WakeError, slot: Slot): WakeOutcome {
    return { ok: false, error, retryAfterSec: this.retryAfterSec(slot) };
  }

  private retryAfterSec(slot: Slot): number {
    return Math.max(1, Math.ceil((slot.coolDownUntil - Date.now()) / 1000));
  }

  // ---------------------------------------------------------------- wake

  /** The running flight, a new one, or the cool-down error. Synchronous: single-flight. */
  private requestWake(slot: Slot): Flight | WakeError {
    if (slot.flight !== undefined) return slot.flight;
    if (this.closed || slot.gone) return new WakeError('WAKE_SHUTDOWN', 'not accepting wakes', { container: slot.name });
    if (slot.lastError !== undefined && Date.now() < slot.coolDownUntil) {
      const e = slot.lastError;
      return new WakeError('WAKE_COOLING_DOWN', `${slot.name} failed to start recently: ${e.message}`, {
        container: slot.name,
        exitCode: e.exitCode,
        logs: e.logs,
      });
    }
    const flight: Flight = { startedAt: Date.now(), waiters: new Set(), done: false, outcome: undefined };
    slot.flight = flight;
    slot.history = [];
    this.clearIdle(slot);
    this.setState(slot, 'waking');
    this.emit(slot, 'waking', `Waking ${slot.name}`);
    this.log.info({ module: 'wake', container: slot.name }, 'waking container');
    void this.runWake(slot)
      .then(
        () => this.finishWake(slot, flight, undefined),
        (err: unknown) => this.finishWake(slot, flight, this.asWakeError(err, slot)),
      )
      .catch((err: unknown) => this.log.error({ module: 'wake', container: slot.name, err }, 'wake bookkeeping failed'));
    return flight;
  }

  private waitFlight(flight: Flight): Promise<WakeError | undefined> {
    if (flight.done) return Promise.resolve(flight.outcome);
    return new Promise((resolve) => flight.waiters.add(resolve));
  }

  private async runWake(slot: Slot): Promise<void> {
    if (slot.stopping !== undefined) {
      this.emit(slot, 'waking', `Waiting for ${slot.name} to finish stopping`);
      await slot.stopping;
    }
    for (const dep of slot.deps) {
      if (dep.state === 'awake') continue;
      this.emit(slot, 'dependency', `Waking dependency ${dep.name}`);
      const flight = this.requestWake(dep);
      const err = flight instanceof WakeError ? flight : await this.waitFlight(flight);
      if (err !== undefined) {
        throw new WakeError('WAKE_DEPENDENCY_FAILED', `dependency ${dep.name} did not start: ${err.message}`, {
          container: slot.name,
          exitCode: err.exitCode,
          logs: err.logs,
          cause: err,
        });
      }
    }
    const deadline = Date.now() + this.effectiveIdle(slot).wakeTimeoutMs;
    this.emit(slot, 'starting', `Starting ${slot.name}`);
    await this.startContainer(slot, deadline);
    this.emit(slot, 'probing', `Waiting for ${slot.name} to be ready`);
    await this.waitReady(slot, deadline);
  }

  private async startContainer(slot: Slot, deadline: number): Promise<void> {
    const info = await this.withDeadline(this.control.inspect(slot.id), deadline, slot);
    slot.dockerState = info.state;
    if (info.state === 'running' || info.state === 'restarting') return;
    try {
      if (info.state === 'paused') await this.withDeadline(this.control.unpause(slot.id), deadline, slot);
      else await this.withDeadline(this.control.start(slot.id), deadline, slot);
    } catch (err) {
      if (err instanceof WakeError) throw err;
      // Someone else may have started it in between ("already started"): look before failing.
      const again = await this.withDeadline(this.control.inspect(slot.id), deadline, slot).catch(() => undefined);
      if (again?.state === 'running') return;
      throw new WakeError('WAKE_START_FAILED', `Docker could not start ${slot.name}: ${(err as Error).message}`, {
        container: slot.name,
        cause: err,
      });
    }
  }

  private async waitReady(slot: Slot, deadline: number): Promise<void> {
    const member = slot.members[0];
    // Poll fast at first (most apps listen within a few hundred ms of start), then back off:
    // every ms here is added to the first request's latency.
    let delay = 10;
    let inspectErr: unknown;
    for (;;) {
      if (this.closed || slot.gone) throw new WakeError('WAKE_SHUTDOWN', 'stopped waiting: shutting down', { container: slot.name });
      let info: WakeInspect | undefined;
      try {
        info = await this.withDeadline(this.control.inspect(slot.id), deadline, slot);
      } catch (err) {
        if (err instanceof WakeError) throw err;
        // A blip (dockerd restarting with live-restore, a dropped SSH tunnel): the container
        // was started, so keep polling until wake_timeout rather than failing the wake.
        if (inspectErr === undefined) this.log.warn({ module: 'wake', container: slot.name, err }, 'inspect failed while waiting for readiness; retrying');
        inspectErr = err;
      }
      if (info === undefined) {
        if (Date.now() + delay >= deadline) {
          const ms = this.effectiveIdle(slot).wakeTimeoutMs;
          throw new WakeError('WAKE_TIMEOUT', `${slot.name} was not ready within wake_timeout (${ms} ms); Docker inspect failed: ${(inspectErr as Error)?.message ?? String(inspectErr)}`, {
            container: slot.name,
            cause: inspectErr,
          });
        }
        await new Promise<void>((r) => setTimeout(r, delay));
        delay = Math.min(Math.ceil(delay * 1.5), 200);
        continue;
      }
      slot.dockerState = info.state;
      slot.dockerHealth = info.dockerHealth;
      if (info.host !== undefined && info.host !== '') slot.host = info.host;
      if (info.urls !== undefined) {
        for (const m of slot.members) {
          const url = info.urls[m.id];
          if (url === undefined || url === '') continue;
          slot.liveUrls.set(m.id, url);
          slot.listedUrls.set(m.id, m.url);
        }
      }
      if (info.state === 'exited' || info.state === 'dead') {
        const code = info.exitCode;
        throw new WakeError('WAKE_EXITED', `${slot.name} exited${code === undefined ? '' : ` with code ${code}`} before it was ready`, {
          container: slot.name,
          exitCode: code,
          logs: await this.logsOf(slot),
        });
      }
      if (info.state === 'running' && (await this.probeOnce(slot, member, info, deadline))) return;
      if (Date.now() + delay >= deadline) {
        const ms = this.effectiveIdle(slot).wakeTimeoutMs;
        const addressless = member !== undefined && this.memberUrl(slot, member.id, member.url) === undefined;
        const why = addressless ? '; Docker gave it no address on the network Bellhop routes to' : '';
        throw new WakeError('WAKE_TIMEOUT', `${slot.name} was not ready within wake_timeout (${ms} ms)${why}`, {
          container: slot.name,
          logs: await this.logsOf(slot),
        });
      }
      await new Promise<void>((r) => setTimeout(r, delay));
      delay = Math.min(Math.ceil(delay * 1.5), 200);
    }
  }

  private async probeOnce(slot: Slot, member: MemberSpec | undefined, info: WakeInspect, deadline: number): Promise<boolean> {
    const remaining = Math.max(1, deadline - Date.now());
    if (member === undefined) return info.dockerHealth === undefined || info.dockerHealth === 'healthy';
    const hc = member.healthcheck;
    const base = this.memberUrl(slot, member.id, member.url);
    if (base === undefined) return false; // no address yet: look again (wake_timeout bounds it)
    if (hc.path !== undefined && !hc.disable) {
      return probeHttp({
        url: `${base.origin}${hc.path.startsWith('/') ? '' : '/'}${hc.path}`,
        method: hc.useGet ? 'GET' : 'HEAD',
        timeoutMs: Math.min(hc.timeoutMs > 0 ? hc.timeoutMs : 5000, remaining),
        noTlsVerify: member.noTlsVerify,
        healthyStatus: hc.status,
      });
    }
    if (info.dockerHealth !== undefined) return info.dockerHealth === 'healthy';
    const port = base.port !== '' ? Number(base.port) : base.protocol === 'https:' ? 443 : 80;
    return probeTcp(base.hostname.replace(/^\[|\]$/g, ''), port, Math.min(2000, remaining));
  }

  private async logsOf(slot: Slot): Promise<string | undefined> {
    try {
      const text = await this.control.logsTail(slot.id, this.logLines);
      return text.trimEnd() === '' ? undefined : text.trimEnd();
    } catch (err) {
      this.log.warn({ module: 'wake', container: slot.name, err }, 'could not read container logs');
      return undefined;
    }
  }

  private async withDeadline<T>(p: Promise<T>, deadline: number, slot: Slot): Promise<T> {
    p.catch(() => undefined); // a late rejection after the deadline must not go unhandled
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      const arm = (): void => {
        const ms = deadline - Date.now();
        if (ms > 0) {
          timer = setTimeout(arm, Math.min(MAX_TIMER_MS, ms)); // re-arms past the timer limit
          return;
        }
        const wake = this.effectiveIdle(slot).wakeTimeoutMs;
        reject(new WakeError('WAKE_TIMEOUT', `${slot.name} was not ready within wake_timeout (${wake} ms)`, { container: slot.name }));
      };
      const ms = deadline - Date.now();
      timer = setTimeout(arm, Math.min(MAX_TIMER_MS, Math.max(0, ms)));
    });
    try {
      return await Promise.race([p, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private asWakeError(err: unknown, slot: Slot): WakeError {
    if (err instanceof WakeError) return err;
    return new WakeError('WAKE_START_FAILED', `waking ${slot.name} failed: ${(err as Error)?.message ?? String(err)}`, {
      container: slot.name,
      cause: err,
    });
  }

  private finishWake(slot: Slot, flight: Flight, err: WakeError | undefined): void {
    flight.done = true;
    flight.outcome = err;
    if (slot.flight === flight) slot.flight = undefined;
    const now = Date.now();
    const durationMs = now - flight.startedAt;
    slot.settledAt = now;
    this.restartSettle(slot);
    if (err === undefined) {
      this.wakesTotal++;
      slot.lastWakeMs = durationMs;
      slot.lastError = undefined;
      slot.unready = false;
      slot.activity.lastActivity = now;
      this.setState(slot, 'awake');
      this.emit(slot, 'ready', `${slot.name} is ready`);
      this.log.info({ module: 'wake', container: slot.name, ms: durationMs }, 'container is awake');
      this.armIdle(slot);
    } else {
      this.wakeFailuresTotal++;
      slot.lastError = { code: err.code, message: err.message, exitCode: err.exitCode, logs: err.logs, at: now };
      slot.coolDownUntil = now + this.coolDownMs;
      slot.unready = slot.dockerState === 'running';
      slot.activity.lastActivity = now;
      this.setState(slot, 'asleep');
      this.emit(slot, 'failed', err.message, { code: err.code, message: err.message, exitCode: err.exitCode, logs: err.logs });
      this.log.error({ module: 'wake', container: slot.name, code: err.code, exitCode: err.exitCode, err }, 'wake failed');
      if (slot.unready) this.armIdle(slot); // a running-but-broken container still goes back to sleep
    }
    const record: WakeRecord = { containerId: slot.id, container: slot.name, ok: err === undefined, durationMs, code: err?.code };
    for (const l of this.wakeListeners) {
      try {
        l(record);
      } catch (e) {
        this.log.error({ module: 'wake', err: e }, 'wake listener threw');
      }
    }
    const waiters = [...flight.waiters];
    flight.waiters.clear();
    for (const w of waiters) w(err);
  }

  // ---------------------------------------------------------------- idle and stop

  private effectiveIdle(slot: Slot): IdleSpec {
    if (slot.idle !== undefined) return slot.idle;
    for (const d of slot.dependents) {
      const spec = this.effectiveIdle(d);
      return { ...spec, startEndpoint: undefined, noLoadingPage: spec.noLoadingPage, dependsOn: [] };
    }
    return { idleTimeoutMs: 0, wakeTimeoutMs: 180_000, stopTimeoutMs: 30_000, stopMethod: 'stop', noLoadingPage: false, dependsOn: [] };
  }

  private armIdle(slot: Slot): void {
    if (this.closed || slot.gone || slot.timer !== undefined || slot.idle === undefined || slot.activity.inFlight > 0) return;
    const due = slot.activity.lastActivity + slot.idle.idleTimeoutMs;
    slot.timer = setTimeout(() => this.onIdle(slot), Math.min(MAX_TIMER_MS, Math.max(0, due - Date.now())));
    slot.timer.unref();
  }

  private clearIdle(slot: Slot): void {
    if (slot.timer === undefined) return;
    clearTimeout(slot.timer);
    slot.timer = undefined;
  }

  private onIdle(slot: Slot): void {
    slot.timer = undefined;
    if (this.closed || slot.gone || slot.idle === undefined || slot.activity.inFlight > 0) return;
    const brokenButRunning = slot.state === 'asleep' && slot.unready && slot.dockerState === 'running';
    if (slot.state !== 'awake' && !brokenButRunning) return;
    if (Date.now() < slot.activity.lastActivity + slot.idle.idleTimeoutMs) {
      this.armIdle(slot);
      return;
    }
    if (this.hasAwakeDependent(slot)) return; // the last dependent to sleep brings us along
    this.sleepNow(slot);
  }

  private hasAwakeDependent(slot: Slot): boolean {
    return slot.dependents.some((d) => d.state !== 'asleep');
  }

  private sleepNow(slot: Slot): void {
    // Whoever asks (the idle clock, the last dependent going to sleep): anything open on the
    // container (a request, a websocket, a stream) vetoes the stop, decided here, in the same
    // tick as the Docker call below. Its release re-arms the clock.
    if (slot.flight !== undefined || slot.stopping !== undefined || slot.activity.inFlight > 0) return;
    this.clearIdle(slot);
    const spec = this.effectiveIdle(slot);
    // Draining: takes no new picks from here on. Nothing is in flight (checked just above), so
    // the stop follows at once.
    this.setState(slot, 'draining');
    this.log.info({ module: 'wake', container: slot.name, method: spec.stopMethod }, 'idle: stopping container');
    slot.stopping = this.stopContainer(slot, spec).then(() => this.afterStop(slot));
  }

  private async stopContainer(slot: Slot, spec: IdleSpec): Promise<void> {
    // Docker's own grace is stop_timeout; give the API call a little longer before giving up.
    const deadline = Date.now() + spec.stopTimeoutMs + 15_000;
    try {
      if (spec.stopMethod === 'pause') {
        await this.withDeadline(this.control.pause(slot.id), deadline, slot);
        slot.dockerState = 'paused';
      } else if (spec.stopMethod === 'kill') {
        await this.withDeadline(this.control.kill(slot.id, spec.stopSignal), deadline, slot);
        // A graceful signal (SIGTERM, SIGINT…) only asks: the app may take a while to exit.
        slot.dockerState = await this.waitExited(slot, Date.now() + spec.stopTimeoutMs);
      } else {
        const timeoutSec = Math.max(0, Math.ceil(spec.stopTimeoutMs / 1000));
        await this.withDeadline(this.control.stop(slot.id, { timeoutSec, signal: spec.stopSignal }), deadline, slot);
        slot.dockerState = 'exited';
      }
      this.stopsTotal++;
    } catch (err) {
      this.log.error({ module: 'wake', container: slot.name, err }, 'stopping the idle container failed');
      try {
        slot.dockerState = (await this.control.inspect(slot.id)).state;
      } catch {
        // keep what we had; the next sync corrects it
      }
    }
  }

  /**
   * Polls inspect after a kill until the container no longer runs, for at most stop_timeout
   * (after that it is Docker's business; a container still running counts as a failed stop).
   * Returns the last state seen ('exited' when Docker could not be asked).
   */
  private async waitExited(slot: Slot, until: number): Promise<string> {
    let state: string | undefined;
    let delay = 20;
    for (;;) {
      try {
        state = (await this.control.inspect(slot.id)).state;
      } catch {
        // look again until the bound; the next sync corrects anything we miss
      }
      if (state !== undefined && state !== 'running' && state !== 'restarting') return state;
      if (this.closed || slot.gone || Date.now() + delay >= until) break;
      await new Promise<void>((r) => setTimeout(r, delay));
      delay = Math.min(Math.ceil(delay * 1.5), 250);
    }
    if (state === 'running') this.log.warn({ module: 'wake', container: slot.name }, 'container still running after kill and stop_timeout');
    return state ?? 'exited';
  }

  private afterStop(slot: Slot): void {
    slot.stopping = undefined;
    slot.settledAt = Date.now();
    this.restartSettle(slot);
    if (slot.flight !== undefined) return; // a request arrived while stopping: the wake carries on
    if (slot.dockerState === 'running') {
      // The stop failed: stay awake and try again after another idle period.
      slot.activity.lastActivity = Date.now();
      this.setState(slot, 'awake');
      this.armIdle(slot);
      return;
    }
    slot.unready = false;
    this.setState(slot, 'asleep');
    this.log.info({ module: 'wake', container: slot.name }, 'container is asleep');
    for (const dep of slot.deps) this.maybeStopDependency(dep);
  }

  /** Our own transition just happened: a pending check waits for the new window's end. */
  private restartSettle(slot: Slot): void {
    if (slot.settleTimer !== undefined) clearTimeout(slot.settleTimer);
    slot.settleTimer = undefined;
    this.armSettle(slot);
  }

  private maybeStopDependency(dep: Slot): void {
    if (dep.gone || dep.flight !== undefined || dep.stopping !== undefined || dep.state !== 'awake') return;
    if (this.hasAwakeDependent(dep)) return;
    if (dep.idle !== undefined) {
      this.armIdle(dep); // its own clock decides (fires at once if already idle long enough)
      return;
    }
    // A container that serves routes of its own without sleep settings is not ours to stop.
    if (dep.members.length > 0) return;
    this.sleepNow(dep);
  }

  private setState(slot: Slot, state: SleepState): void {
    if (slot.state === state) return;
    slot.state = state;
    for (const gate of slot.routes) this.refreshGate(gate);
  }

  private refreshGate(gate: RouteGate): void {
    gate.awake = gate.slots.some((s) => s.state === 'awake');
  }

  // ---------------------------------------------------------------- progress and pages

  private emit(slot: Slot, type: ProgressEvent['type'], message: string, error?: FailureView): void {
    const ev: ProgressEvent = { type, container: slot.name, message, at: Date.now(), ...(error ? { error } : {}) };
    slot.history.push(ev);
    if (slot.history.length > MAX_HISTORY) slot.history.shift();
    for (const l of [...slot.listeners]) l(ev);
  }

  private serveReserved(gate: RouteGate, req: IncomingMessage, res: ServerResponse | Duplex, ctx: WakeGateContext): GateResult {
    if (!isHttpResponse(res)) {
      res.destroy();
      return 'handled';
    }
    const path = requestPath(req.url);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      this.writePlain(res, 405, 'Method Not Allowed\n', undefined);
    } else if (path === WAKE_EVENTS_PATH) {
      this.serveEvents(gate, res, ctx.preferMember, this.disclosure.allows(req, ctx.clientIp));
    } else if (path === WAKE_STATUS_PATH) {
      const body = JSON.stringify(this.routeStatus(gate, ctx.preferMember, this.disclosure.allows(req, ctx.clientIp)));
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    } else {
      this.writePlain(res, 404, 'Not Found\n', undefined);
    }
    return 'handled';
  }

  /**
   * Which member the loading page follows in a pool: the visitor's own (preferMember) while it
   * wakes, else any member waking, else the visitor's own failure, else the latest failure,
   * else the one a request would wake.
   */
  private followSlot(gate: RouteGate, preferMember: (() => string | undefined) | undefined): Slot {
    const preferredId = preferMember?.();
    const found = preferredId === undefined ? undefined : this.memberSlots.get(preferredId);
    const preferred = found !== undefined && gate.slots.includes(found) ? found : undefined;
    if (preferred?.flight !== undefined) return preferred;
    for (const s of gate.slots) if (s.flight !== undefined) return s;
    if (preferred?.lastError !== undefined) return preferred;
    let latest: Slot | undefined;
    for (const s of gate.slots) if (s.lastError !== undefined && (latest === undefined || s.lastError.at > latest.lastError!.at)) latest = s;
    return latest ?? preferred ?? this.targetSlot(gate);
  }

  private routeStatus(gate: RouteGate, preferMember: (() => string | undefined) | undefined, showLogs: boolean): { route: string; state: SleepState; container: string; message: string; error?: FailureView } {
    const slot = this.followSlot(gate, preferMember);
    const state = gate.awake ? 'awake' : slot.state;
    const last = slot.history[slot.history.length - 1];
    const out: { route: string; state: SleepState; container: string; message: string; error?: FailureView } = {
      route: gate.name,
      state,
      container: slot.name,
      message: state === 'awake' ? 'ready' : (last?.message ?? `${slot.name} is ${state}`),
    };
    if (state !== 'awake' && slot.flight === undefined && slot.lastError !== undefined) out.error = failureView(slot.lastError, showLogs);
    return out;
  }

  private serveEvents(gate: RouteGate, res: ServerResponse, preferMember: (() => string | undefined) | undefined, showLogs: boolean): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    const send = (data: object): void => {
      if (!res.destroyed) res.write(`data: ${JSON.stringify(data)}\n\n`);
    };
    res.write('retry: 2000\n\n');
    if (gate.awake) {
      send({ type: 'ready', state: 'awake', message: 'ready' });
      res.end();
      return;
    }
    const slot = this.followSlot(gate, preferMember);
    if (slot.flight === undefined && slot.lastError !== undefined) {
      send({ type: 'failed', state: slot.state, container: slot.name, message: slot.lastError.message, error: failureView(slot.lastError, showLogs) });
      res.end();
      return;
    }
    if (slot.flight === undefined) {
      // Nothing is waking (it woke and went down again, or no request woke it): no event would
      // ever come, so say where it stands and end rather than hold the stream open.
      send({ type: 'asleep', state: slot.state, container: slot.name, message: `${slot.name} is ${slot.state}`, at: Date.now() });
      res.end();
      return;
    }
    // A 'failed' event carries the failure; its log lines only for a client allowed to see them.
    const sendEvent = (ev: ProgressEvent): void => send({ ...ev, state: slot.state, ...(ev.error ? { error: shownFailure(ev.error, showLogs) } : {}) });
    for (const ev of slot.history) sendEvent(ev);
    this.eventStreams++;
    const heartbeat = setInterval(() => {
      if (!res.destroyed) res.write(': keep-alive\n\n');
    }, this.heartbeatMs);
    heartbeat.unref();
    const listener = (ev: ProgressEvent): void => {
      sendEvent(ev);
      if (ev.type === 'ready' || ev.type === 'failed') res.end();
    };
    slot.listeners.add(listener);
    res.on('close', () => {
      clearInterval(heartbeat);
      slot.listeners.delete(listener);
      this.eventStreams--;
    });
  }

  private writePage(gate: RouteGate, slot: Slot, res: ServerResponse, err: WakeError | undefined, showLogs: boolean): void {
    const failure = err === undefined ? undefined : shownFailure({ code: err.code, message: err.message, exitCode: err.exitCode, logs: err.logs }, showLogs);
    const html = renderLoadingPage({ title: gate.name, container: slot.name, message: `Waking ${slot.name}…`, failure });
    const headers: Record<string, string | number> = {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-length': Buffer.byteLength(html),
    };
    if (err !== undefined) headers['retry-after'] = this.retryAfterSec(slot);
    res.writeHead(err === undefined ? 200 : 503, headers);
    res.end(html);
  }

  private writeFailure(req: IncomingMessage, res: ServerResponse | Duplex, err: WakeError, slot: Slot): void {
    const retryAfter = this.retryAfterSec(slot);
    if (!isHttpResponse(res)) {
      if (!res.destroyed) res.end(`HTTP/1.1 503 Service Unavailable\r\nRetry-After: ${retryAfter}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      return;
    }
    if (wantsJson(req)) {
      const body = JSON.stringify({ error: err.code, message: err.message, exit_code: err.exitCode ?? null, container: slot.name });
      this.writeBody(res, 503, 'application/json', body, retryAfter);
    } else {
      this.writePlain(res, 503, `Service Unavailable: ${err.message}\n`, retryAfter);
    }
  }

  /** 503 for an ignored request while asleep: `X-Bellhop-State: asleep`, no page, no wake. */
  private writeAsleep(req: IncomingMessage, res: ServerResponse | Duplex, slot: Slot): void {
    const message = `${slot.name} is asleep; requests matched by proxy.idle_ignore do not wake it`;
    if (!isHttpResponse(res)) {
      if (!res.destroyed) {
        res.end(`HTTP/1.1 503 Service Unavailable\r\nRetry-After: ${ASLEEP_RETRY_AFTER_SEC}\r\nX-Bellhop-State: asleep\r\nCache-Control: no-store\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      }
      return;
    }
    if (res.headersSent || res.destroyed) return;
    const json = wantsJson(req);
    const body = json ? JSON.stringify({ error: 'WAKE_ASLEEP', message, container: slot.name }) : `Service Unavailable: ${message}\n`;
    res.writeHead(503, {
      'content-type': json ? 'application/json' : 'text/plain; charset=utf-8',
      'cache-control': 'no-store',
      'retry-after': String(ASLEEP_RETRY_AFTER_SEC),
      'x-bellhop-state': 'asleep',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  }

  private writePlain(res: ServerResponse | Duplex, status: number, text: string, retryAfter: number | undefined): void {
    if (!isHttpResponse(res)) {
      const reason = status === 403 ? 'Forbidden' : 'Service Unavailable';
      if (!res.destroyed) res.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      return;
    }
    this.writeBody(res, status, 'text/plain; charset=utf-8', text, retryAfter);
  }

  private writeBody(res: ServerResponse, status: number, type: string, body: string, retryAfter: number | undefined): void {
    if (res.headersSent || res.destroyed) return;
    const headers: Record<string, string | number> = { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) };
    if (retryAfter !== undefined) headers['retry-after'] = retryAfter;
    res.writeHead(status, headers);
    res.end(body);
  }

  // ---------------------------------------------------------------- status and lifecycle

  /** Per-container status for the admin API, sorted by name. */
  status(): WakeContainerStatus[] {
    const now = Date.now();
    return [...this.slots.values()]
      .map((s) => {
        let msUntilSleep: number | null = null;
        if (s.state === 'awake' && s.idle !== undefined) {
          msUntilSleep = s.activity.inFlight > 0 ? s.idle.idleTimeoutMs : Math.max(0, s.activity.lastActivity + s.idle.idleTimeoutMs - now);
        }
        return {
          id: s.id,
          name: s.name,
          state: s.state,
          dockerState: s.dockerState,
          msUntilSleep,
          inFlight: s.activity.inFlight,
          lastWakeMs: s.lastWakeMs ?? null,
          lastError: s.lastError ?? null,
          dependsOn: s.deps.map((d) => d.name),
          members: s.members.map((m) => m.id),
          routes: [...s.routes].map((r) => r.name),
        };
      })
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Counters for /metrics. */
  metrics(): WakeMetrics {
    return {
      wakesTotal: this.wakesTotal,
      wakeFailuresTotal: this.wakeFailuresTotal,
      stopsTotal: this.stopsTotal,
      held: this.held,
      eventStreams: this.eventStreams,
    };
  }

  /** Calls `listener` after every wake attempt (for a wake-duration histogram). Returns an unsubscribe. */
  onWake(listener: (record: WakeRecord) => void): () => void {
    this.wakeListeners.add(listener);
    return () => this.wakeListeners.delete(listener);
  }

  /** Stops all clocks, fails held requests with 503 and ends progress streams. Stops no container. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const slot of this.slots.values()) this.dispose(slot, 'WAKE_SHUTDOWN', 'Bellhop is shutting down');
  }
}

function isHttpResponse(res: ServerResponse | Duplex): res is ServerResponse {
  return typeof (res as Partial<ServerResponse>).writeHead === 'function';
}

function failureView(f: WakeFailure, showLogs: boolean): FailureView {
  return shownFailure({ code: f.code, message: f.message, exitCode: f.exitCode, logs: f.logs }, showLogs);
}

/**
 * A failure as one client may see it (wake.show_logs): the code, the message and the exit code
 * for everyone; the log lines only where allowed, otherwise `logsHidden` says there were some.
 * The exit code stays: a small number, already part of the message ("exited with code 3"),
 * that tells a visitor what to report without revealing what the app printed.
 */
function shownFailure(f: FailureView, showLogs: boolean): FailureView {
  if (showLogs || f.logs === undefined) return f;
  return { code: f.code, message: f.message, exitCode: f.exitCode, logsHidden: true };
}
