// The dashboard's live feed (`GET /api/events`, server-sent events): every second a `state`
// event with the whole picture (routes, containers, Docker hosts, certificates, errors, request
// rates, recent events). The same tick compares the picture with the previous one and writes what
// changed (route added/removed, member ejected/back, container slept, Docker host state,
// certificate renewed/failed) into a ring of recent events; wakes come from wake.onWake
// (`wakeDone`) with their outcome. The tick runs with or without a dashboard open, so the
// events are there when one opens. docs/dashboard: README "Dashboard".
import type { ServerResponse } from 'node:http';
import { RequestRates, type RateSeries } from './request-rates.ts';

/** The parts of /api/routes and /api/certs the dashboard shows and the tick compares. */
export interface DashboardSnapshot {
  routes: {
    alias: string;
    hosts: readonly string[];
    members: readonly { name: string; health: string; state: string; reason: string }[];
  }[];
  containers: unknown;
  docker: readonly { host: string; state: string }[];
  errors: readonly { code: string; key: string; message: string; source?: string }[];
  warnings: readonly unknown[];
  certs: readonly { names: readonly string[]; state: string; not_after: string | null; last_error: string | null }[];
}

export interface DashboardEvent {
  at: number;
  kind: 'route' | 'member' | 'container' | 'docker' | 'certificate' | 'config';
  level: 'info' | 'warn';
  text: string;
}

const EVENTS_MAX = 100;
const TICK_MS = 1000;

interface ContainerState {
  name: string;
  state: string;
}

function containersOf(v: unknown): ContainerState[] {
  return Array.isArray(v) ? (v as ContainerState[]).filter((c) => typeof c.name === 'string') : [];
}

export class DashboardFeed {
  readonly rates: RequestRates;
  private readonly events: DashboardEvent[] = [];
  private readonly clients = new Set<ServerResponse>();
  private readonly snapshot: () => DashboardSnapshot;
  private prev: DashboardSnapshot | undefined;
  private last: DashboardSnapshot | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(snapshot: () => DashboardSnapshot, opts: { tickMs?: number } = {}) {
    this.snapshot = snapshot;
    this.rates = new RequestRates();
    this.timer = setInterval(() => this.tick(), opts.tickMs ?? TICK_MS);
    this.timer.unref();
  }

  /** One wake attempt ended (wake.onWake). */
  wakeDone(r: { container: string; ok: boolean; durationMs: number; error?: { message: string } | undefined }): void {
    if (r.ok) this.record('container', 'info', `${r.container} woke (${(r.durationMs / 1000).toFixed(1)} s)`);
    else this.record('container', 'warn', `${r.container} failed to wake${r.error ? `: ${r.error.message}` : ''}`);
  }

  /** Something done from the dashboard (wake now, sleep now). */
  record(kind: DashboardEvent['kind'], level: DashboardEvent['level'], text: string): void {
    this.events.push({ at: Date.now(), kind, level, text });
    if (this.events.length > EVENTS_MAX) this.events.shift();
  }

  /** The page's whole picture (also the first message of every stream). */
  state(): unknown {
    const snap = this.last ?? this.snapshot();
    return { at: Date.now(), ...snap, rates: this.rates.series() satisfies RateSeries, events: [...this.events].reverse() };
  }

  /** Answers `GET /api/events`: the stream stays open until the client leaves. */
  attach(res: ServerResponse): void {
    res.on('error', () => this.clients.delete(res));
    res.on('close', () => this.clients.delete(res));
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    res.write('retry: 2000\n\n');
    this.clients.add(res);
    this.send(res, this.state());
  }

  get streams(): number {
    return this.clients.size;
  }

  private send(res: ServerResponse, value: unknown): void {
    if (res.destroyed || res.writableEnded) return;
    res.write(`event: state\ndata: ${JSON.stringify(value)}\n\n`);
  }

  /** Builds the picture, records what changed, pushes it to every open stream. */
  tick(): void {
    let snap: DashboardSnapshot;
    try {
      snap = this.snapshot();
    } catch {
      return; // the admin API's /api/routes reports the same failure with its cause
    }
    if (this.prev !== undefined) this.compare(this.prev, snap);
    this.prev = snap;
    this.last = snap;
    if (this.clients.size === 0) return;
    const state = this.state();
    for (const res of this.clients) this.send(res, state);
  }

  private compare(a: DashboardSnapshot, b: DashboardSnapshot): void {
    const before = new Map(a.routes.map((r) => [r.alias, r]));
    const after = new Map(b.routes.map((r) => [r.alias, r]));
    for (const [alias, r] of after) if (!before.has(alias)) this.record('route', 'info', `route ${alias} added (${r.hosts.join(', ')})`);
    for (const alias of before.keys()) if (!after.has(alias)) this.record('route', 'info', `route ${alias} removed`);
    for (const [alias, r] of after) {
      const old = before.get(alias);
      if (old === undefined) continue;
      const oldMembers = new Map(old.members.map((m) => [m.name, m]));
      for (const m of r.members) {
        const o = oldMembers.get(m.name);
        if (o === undefined || m.state !== 'awake' || o.state !== 'awake') continue;
        if (o.health === 'healthy' && m.health === 'unhealthy') this.record('member', 'warn', `${alias}/${m.name} ejected${m.reason ? `: ${m.reason}` : ''}`);
        else if (o.health !== 'healthy' && o.health !== 'starting' && m.health === 'healthy') this.record('member', 'info', `${alias}/${m.name} back in the pool`);
      }
    }
    const oldContainers = new Map(containersOf(a.containers).map((c) => [c.name, c.state]));
    for (const c of containersOf(b.containers)) {
      const was = oldContainers.get(c.name);
      if (was !== undefined && was !== 'asleep' && c.state === 'asleep') this.record('container', 'info', `${c.name} went to sleep`);
    }
    const oldDocker = new Map(a.docker.map((d) => [d.host, d.state]));
    for (const d of b.docker) {
      const was = oldDocker.get(d.host);
      if (was !== undefined && was !== d.state) this.record('docker', d.state === 'synced' || d.state === 'connecting' ? 'info' : 'warn', `Docker ${d.host}: ${was} → ${d.state}`);
    }
    const oldCerts = new Map(a.certs.map((c) => [c.names.join(','), c]));
    for (const c of b.certs) {
      const o = oldCerts.get(c.names.join(','));
      if (o === undefined) continue;
      if (c.not_after !== null && o.not_after !== c.not_after) this.record('certificate', 'info', `certificate ${c.names.join(', ')} renewed (until ${c.not_after})`);
      if (c.state === 'failed' && (o.state !== 'failed' || o.last_error !== c.last_error)) this.record('certificate', 'warn', `certificate ${c.names.join(', ')} failed: ${c.last_error ?? 'unknown error'}`);
    }
    const oldErrors = new Set(a.errors.map((e) => `${e.code}\u0000${e.key}\u0000${e.message}`));
    for (const e of b.errors) {
      if (!oldErrors.has(`${e.code}\u0000${e.key}\u0000${e.message}`)) this.record('config', 'warn', `${e.code} ${e.source ?? ''} ${e.key}: ${e.message}`.replace(/\s+/g, ' '));
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.rates.close();
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}
