// The single owner of per-container sleep state, and the one face the rest of Bellhop sees:
// discovery syncs it, the proxy gates and counts requests through it, the admin API reads it.
// It composes four collaborators that share one SlotTable (the managed containers, their
// dependency graph, their members and routes):
//   slot-table.ts   containers, dependencies, members and routes; Docker's view reconciled
//   waker.ts        single-flight wakes with dependencies, start and readiness
//   idle-clock.ts   the idle clock and drain-then-stop
//   wake-gate.ts    the request gate: loading page, held requests, progress events
//
// Every state transition is synchronous (no await between reading and writing a slot), so two
// requests in the same tick cannot both decide to start a container. Background work (a wake, a
// stop) is one promise per container that never rejects; requests only wait on it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { IdleClock } from './idle-clock.ts';
import { LogDisclosure } from './log-disclosure.ts';
import type { LogDisclosureOptions, ShowLogs } from './log-disclosure.ts';
import { SlotTable } from './slot-table.ts';
import type { WakeSyncInput } from './slot-table.ts';
import type { SleepState, WakeContainerStatus } from './container-slot.ts';
import { silentLogger, type Logger } from '../../pkg/log/index.ts';
import type { ServiceWakeControl, WakeControl } from './wake-control.ts';
import { unitControl } from './service-control.ts';
import { WakeGate } from './wake-gate.ts';
import type { GateResult, WakeGateContext } from './wake-gate.ts';
import { Waker } from './waker.ts';
import type { WakeOutcome, WakeRecord } from './waker.ts';

export type { SleepState, WakeContainerInfo, WakeContainerStatus, WakeFailure } from './container-slot.ts';
export type { WakeSyncInput } from './slot-table.ts';
export type { GateResult, WakeGateContext } from './wake-gate.ts';
export type { WakeOutcome, WakeRecord } from './waker.ts';

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

export interface WakeManagerOptions {
  control: WakeControl;
  /** Docker Swarm services: scale to 0 and back (docs/sleep-and-wake.md). Without it, a service's sleep or wake fails (logged). */
  services?: ServiceWakeControl | undefined;
  logger?: Logger | undefined;
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

const NOOP_RELEASE = (): void => undefined;

/**
 * Owns sleep state per container (keyed by container ID). See the module index for the contract.
 */
export class WakeManager {
  private readonly table: SlotTable;
  private readonly clock: IdleClock;
  private readonly waker: Waker;
  private readonly wakeGate: WakeGate;
  private readonly disclosure: LogDisclosure;

  constructor(opts: WakeManagerOptions) {
    // A swarm service's slot (keyed by its service ID) is scaled, a container's started and stopped.
    const control = unitControl(opts.control, opts.services, (id) => this.table.get(id)?.service === true);
    const log = opts.logger ?? silentLogger;
    // The table clocks what Docker says runs; the clock needs the table. The table is built
    // first, so it reaches the clock through these two calls.
    this.table = new SlotTable(control, log, { arm: (slot) => this.clock.arm(slot), clear: (slot) => this.clock.clear(slot) });
    this.clock = new IdleClock(this.table, control, log);
    this.waker = new Waker({ table: this.table, clock: this.clock, control, log, coolDownMs: opts.coolDownMs ?? 5000, logLines: opts.logLines ?? 20 });
    this.disclosure = new LogDisclosure({ showLogs: opts.showLogs, trustedProxies: opts.trustedProxies });
    this.wakeGate = new WakeGate({ table: this.table, waker: this.waker, disclosure: this.disclosure, heartbeatMs: opts.heartbeatMs ?? 15_000 });
  }

  /** Config reload: `wake.show_logs` and `entrypoint.trusted_proxies` (what is not given stays). */
  setLogDisclosure(opts: LogDisclosureOptions): void {
    this.disclosure.configure(opts);
  }

  /** Replaces the picture of routes and containers. Cheap enough to call on every table swap. */
  sync(input: WakeSyncInput): void {
    this.table.sync(input);
  }

  /**
   * Whether the proxy may pick this member now. Members of containers without sleep settings
   * are always usable as far as waking is concerned.
   */
  isUsable(memberId: string): boolean {
    const slot = this.table.ofMember(memberId);
    return slot === undefined || slot.state === 'awake';
  }

  /** Sleep state of a member's container, or `undefined` when it does not sleep. */
  stateOf(memberId: string): SleepState | undefined {
    return this.table.ofMember(memberId)?.state;
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
    const slot = this.table.ofMember(memberId);
    if (slot === undefined) return NOOP_RELEASE;
    if (req !== undefined && slot.ignore !== undefined && slot.ignore.matches(req, this.wakeGate.clientIpOf(req))) return NOOP_RELEASE;
    return this.clock.hold(slot.id);
  }

  /**
   * The URL to forward to for a member right after its wake: Docker may give the container a
   * new IP on start, and the route table catches up only when discovery re-syncs.
   */
  upstreamUrl(memberId: string, fallback: string): string {
    const slot = this.table.ofMember(memberId);
    if (slot === undefined) return fallback;
    // Hot path (every usability check of a sleeping route's member): nothing to rewrite.
    if (!slot.liveUrls.has(memberId) && (slot.host === undefined || fallback === '')) return fallback;
    const live = slot.memberUrl(memberId, fallback);
    return live === undefined ? fallback : live.href.replace(/\/$/, '');
  }

  /**
   * Called by the proxy for every request (and upgrade: pass the socket as `res`) after route
   * lookup and before picking a member. Synchronous 'proceed' when the route has an awake
   * member; otherwise serves the loading page, holds the request until the wake ends, or
   * answers 403/503 itself ('handled'). The returned promise never rejects.
   */
  gate(req: IncomingMessage, res: ServerResponse | Duplex, ctx: WakeGateContext): GateResult | Promise<GateResult> {
    return this.wakeGate.pass(req, res, ctx);
  }

  /**
   * Wakes the member's container (and its dependencies) if needed and resolves when it is
   * ready, or with the failure. The wake goes on if `signal` aborts; only this wait ends.
   */
  ensureAwake(memberId: string, signal?: AbortSignal): Promise<WakeOutcome> {
    const slot = this.table.ofMember(memberId);
    if (slot === undefined || slot.state === 'awake') return Promise.resolve({ ok: true });
    return this.waker.ensureAwake(slot, signal);
  }

  /**
   * Wakes the managed container `name` now (the dashboard's "wake now"); resolves when it is
   * ready or failed. `undefined`: no managed container has that name.
   */
  wakeNow(name: string): Promise<WakeOutcome> | undefined {
    const slot = this.table.byName(name);
    if (slot === undefined) return undefined;
    if (slot.state === 'awake') return Promise.resolve({ ok: true });
    return this.waker.ensureAwake(slot);
  }

  /**
   * Puts the managed container `name` to sleep now with its stop_method (the dashboard's "sleep
   * now"). `undefined`: no such container; `false`: it cannot sleep now (no idle settings, not
   * awake, or a request, tunnel, wake or stop is open on it).
   */
  sleepNow(name: string): boolean | undefined {
    const slot = this.table.byName(name);
    if (slot === undefined) return undefined;
    return this.clock.sleepOnRequest(slot);
  }

  /** Per-container status for the admin API, sorted by name. */
  status(): WakeContainerStatus[] {
    return this.table.status();
  }

  /** Counters for /metrics. */
  metrics(): WakeMetrics {
    return {
      wakesTotal: this.waker.wakesTotal,
      wakeFailuresTotal: this.waker.wakeFailuresTotal,
      stopsTotal: this.clock.stopsTotal,
      held: this.waker.held,
      eventStreams: this.wakeGate.eventStreams,
    };
  }

  /** Calls `listener` after every wake attempt (for a wake-duration histogram). Returns an unsubscribe. */
  onWake(listener: (record: WakeRecord) => void): () => void {
    return this.waker.onWake(listener);
  }

  /** Stops all clocks, fails held requests with 503 and ends progress streams. Stops no container. */
  close(): void {
    if (this.table.closed) return;
    this.table.close();
    this.waker.close();
  }
}
