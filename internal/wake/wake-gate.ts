// The gate the proxy calls for every request after route lookup, before picking a member: on a
// route whose members all sleep it wakes one (the member the balancer would pick), shows a
// browser the loading page, holds everything else until the wake ends, and serves the reserved
// /.bellhop/wake/ paths (progress events over SSE, status JSON). docs/sleep-and-wake.md, "What a
// visitor sees while it wakes" and "Reserved paths".
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ContainerSlot, Flight, ProgressEvent, RouteGate, SleepState } from './container-slot.ts';
import { WAKE_EVENTS_PATH, WAKE_PATH_PREFIX, WAKE_STATUS_PATH } from './loading-page.ts';
import type { FailureView } from './loading-page.ts';
import { failureView, shownFailure } from './log-disclosure.ts';
import type { LogDisclosure } from './log-disclosure.ts';
import { isBrowserNavigation, requestPath } from './request-kind.ts';
import type { SlotTable } from './slot-table.ts';
import { isHttpResponse, writeAnswer, writeAsleep, writeFailure, writePage } from './wake-answers.ts';
import { WakeError } from './wake-error.ts';
import type { Waker } from './waker.ts';

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

type RouteStatus = { route: string; state: SleepState; container: string; message: string; error?: FailureView };

export interface WakeGateOptions {
  table: SlotTable;
  waker: Waker;
  disclosure: LogDisclosure;
  heartbeatMs: number;
}

export class WakeGate {
  /** Open progress-event streams. */
  eventStreams = 0;
  private readonly table: SlotTable;
  private readonly waker: Waker;
  private readonly disclosure: LogDisclosure;
  private readonly heartbeatMs: number;
  /**
   * Client IP of each request the gate let through on a route with idle_ignore rules, so
   * begin() can judge the same request (proxy.idle_ignore.from). Weak: dies with the request.
   */
  private readonly ignoreIps = new WeakMap<IncomingMessage, string>();

  constructor(opts: WakeGateOptions) {
    this.table = opts.table;
    this.waker = opts.waker;
    this.disclosure = opts.disclosure;
    this.heartbeatMs = opts.heartbeatMs;
  }

  /** See WakeManager.gate. */
  pass(req: IncomingMessage, res: ServerResponse | Duplex, ctx: WakeGateContext): GateResult | Promise<GateResult> {
    if (ctx.clientIp !== undefined && this.table.hasIgnoreRules(ctx.route)) this.ignoreIps.set(req, ctx.clientIp);
    const gate = this.table.gateOf(ctx.route);
    if (gate === undefined) return 'proceed';
    if (req.url !== undefined && req.url.startsWith(WAKE_PATH_PREFIX)) return this.serveReserved(gate, req, res, ctx);
    if (gate.awake) return 'proceed';
    return this.gateAsleep(gate, req, res, ctx);
  }

  /** The client IP the gate saw with this request (only on routes with idle_ignore rules). */
  clientIpOf(req: IncomingMessage): string | undefined {
    return this.ignoreIps.get(req);
  }

  private gateAsleep(gate: RouteGate, req: IncomingMessage, res: ServerResponse | Duplex, ctx: WakeGateContext): GateResult | Promise<GateResult> {
    const slot = this.targetSlot(gate, ctx.preferMember);
    if (slot.ignore !== undefined && slot.ignore.matches(req, ctx.clientIp)) {
      // An uptime monitor never wakes it: asleep (or stopping) → a small 503 saying so. While
      // someone else's wake runs it waits like an API client (never the loading page) and is
      // then proxied; begin() still does not count it.
      if (slot.flight === undefined) {
        writeAsleep(req, res, slot);
        return 'handled';
      }
      return this.hold(slot, slot.flight, req, res);
    }
    const spec = slot.effectiveIdle();
    const navigation = !spec.noLoadingPage && isBrowserNavigation(req) && isHttpResponse(res);
    if (slot.flight === undefined && spec.startEndpoint !== undefined && requestPath(req.url) !== spec.startEndpoint) {
      writeAnswer(req, res, 'WAKE_START_FORBIDDEN');
      return 'handled';
    }
    const flight = this.waker.request(slot);
    if (flight instanceof WakeError) {
      if (navigation) writePage(gate, slot, res, flight, this.disclosure.allows(req, ctx.clientIp));
      else writeFailure(req, res, flight, slot);
      return 'handled';
    }
    if (navigation) {
      writePage(gate, slot, res, undefined, false);
      return 'handled';
    }
    return this.hold(slot, flight, req, res);
  }

  /**
   * In a pool: the member already waking, else the one the balancer would pick (if it is not
   * cooling down after a failure), else the first one not cooling down, else the first.
   */
  private targetSlot(gate: RouteGate, preferMember?: () => string | undefined): ContainerSlot {
    let fallback: ContainerSlot | undefined;
    const now = Date.now();
    for (const s of gate.slots) if (s.flight !== undefined) return s;
    const preferredId = preferMember?.();
    const preferred = preferredId === undefined ? undefined : this.table.ofMember(preferredId);
    if (preferred !== undefined && gate.slots.includes(preferred) && preferred.coolDownUntil <= now) return preferred;
    for (const s of gate.slots) {
      if (s.coolDownUntil <= now) return s;
      fallback ??= s;
    }
    return fallback ?? gate.slots[0]!;
  }

  /** Holds the request until the wake ends: then 'proceed', or the failure answered here. */
  private hold(slot: ContainerSlot, flight: Flight, req: IncomingMessage, res: ServerResponse | Duplex): Promise<GateResult> {
    if (res.destroyed) return Promise.resolve('handled');
    return new Promise<GateResult>((resolve) => {
      const onClose = (): void => {
        if (leave()) resolve('handled');
      };
      const leave = this.waker.join(flight, (err) => {
        res.off('close', onClose);
        if (err === undefined && !res.destroyed) {
          resolve('proceed');
          return;
        }
        if (err !== undefined) writeFailure(req, res, err, slot);
        resolve('handled');
      });
      res.on('close', onClose);
    });
  }

  private serveReserved(gate: RouteGate, req: IncomingMessage, res: ServerResponse | Duplex, ctx: WakeGateContext): GateResult {
    if (!isHttpResponse(res)) {
      res.destroy();
      return 'handled';
    }
    const path = requestPath(req.url);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      writeAnswer(req, res, 'WAKE_METHOD_NOT_ALLOWED', { headers: ['Allow', 'GET, HEAD'] });
    } else if (path === WAKE_EVENTS_PATH) {
      this.serveEvents(gate, res, ctx.preferMember, this.disclosure.allows(req, ctx.clientIp));
    } else if (path === WAKE_STATUS_PATH) {
      const body = JSON.stringify(this.routeStatus(gate, ctx.preferMember, this.disclosure.allows(req, ctx.clientIp)));
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    } else {
      writeAnswer(req, res, 'WAKE_PATH_NOT_FOUND');
    }
    return 'handled';
  }

  /**
   * Which member the loading page follows in a pool: the visitor's own (preferMember) while it
   * wakes, else any member waking, else the visitor's own failure, else the latest failure,
   * else the one a request would wake.
   */
  private followSlot(gate: RouteGate, preferMember: (() => string | undefined) | undefined): ContainerSlot {
    const preferredId = preferMember?.();
    const found = preferredId === undefined ? undefined : this.table.ofMember(preferredId);
    const preferred = found !== undefined && gate.slots.includes(found) ? found : undefined;
    if (preferred?.flight !== undefined) return preferred;
    for (const s of gate.slots) if (s.flight !== undefined) return s;
    if (preferred?.lastError !== undefined) return preferred;
    let latest: ContainerSlot | undefined;
    for (const s of gate.slots) if (s.lastError !== undefined && (latest === undefined || s.lastError.at > latest.lastError!.at)) latest = s;
    return latest ?? preferred ?? this.targetSlot(gate);
  }

  private routeStatus(gate: RouteGate, preferMember: (() => string | undefined) | undefined, showLogs: boolean): RouteStatus {
    const slot = this.followSlot(gate, preferMember);
    const state = gate.awake ? 'awake' : slot.state;
    const last = slot.history[slot.history.length - 1];
    const out: RouteStatus = {
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
}
