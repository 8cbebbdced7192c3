// Prometheus metrics (prom-client lives here only). Request counters are updated on the hot
// path; gauges that mirror state owned elsewhere (health, sync lag) are read at scrape time.
import { createRequire } from 'node:module';
import type PromClient from 'prom-client';
import type { Counter, Histogram } from 'prom-client';
import { leaveOut, type LeftOut } from '../../pkg/lean-require/index.ts';
import { RequestCounts, RouteHistogram } from './request-metrics.ts';

const require = createRequire(import.meta.url);

/**
 * prom-client's process CPU metric requires the OpenTelemetry API for exemplars, which Bellhop
 * does not enable: loaded without it (~5 MiB resident less).
 */
export function unusedPromClientParts(): LeftOut[] {
  const cpu = require.resolve('prom-client/lib/metrics/processCpuTotal');
  return [{ from: cpu, request: '@opentelemetry/api', what: "prom-client's OpenTelemetry exemplars" }];
}
leaveOut(unusedPromClientParts());
const { Counter: CounterClass, Gauge, Histogram: HistogramClass, Registry, collectDefaultMetrics } = require('prom-client') as typeof PromClient;

/** Read at scrape time: the modules that own the state answer. */
export interface MetricsSources {
  inFlight(): number;
  /** `asleep`: stopped by Bellhop after idle_timeout (or paused): not a health problem. */
  memberHealth(): { route: string; member: string; healthy: boolean; asleep?: boolean }[];
  dockerSyncLag(): { host: string; seconds: number }[];
  /** TCP/UDP stream routes' traffic (docs/streams.md); absent: none. */
  streams?(): { name: string; protocol: string; open: number; connections_total: number; bytes_in: number; bytes_out: number }[];
  /** Seconds until each certificate expires (negative: expired); absent without HTTPS. */
  certificateExpiry?(): { names: string; seconds: number }[];
}

export class Metrics {
  readonly registry = new Registry();
  /** bellhop_requests_total and bellhop_upstream_latency_seconds: counted outside prom-client (request-metrics.ts). */
  private readonly requests = new RequestCounts();
  private readonly latency: RouteHistogram;
  private readonly wakes: Counter<'container' | 'result'>;
  private readonly wakeDuration: Histogram;

  constructor(sources: MetricsSources, opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'bellhop_process_' });
    const requests = this.requests;
    new CounterClass({
      name: 'bellhop_requests_total',
      help: 'Requests answered, by route, status and member ("-" when no member was reached)',
      labelNames: ['route', 'status', 'member'],
      registers,
      collect() {
        requests.collectInto(this);
      },
    });
    this.latency = new RouteHistogram(
      'bellhop_upstream_latency_seconds',
      // Last attempt only, never gate holds (wake, recreate) or Bellhop's own answers: see
      // RequestDoneInfo.upstreamMs. Websockets: the time to the member's 101.
      'Time from dispatching the request to the member (last attempt) to the end of its response (websockets: to its 101)',
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    );
    this.registry.registerMetric(this.latency.asMetric());
    new Gauge({
      name: 'bellhop_in_flight_requests',
      help: 'Requests and websockets currently being proxied',
      registers,
      collect() {
        this.set(sources.inFlight());
      },
    });
    // A member asleep on purpose has no healthy series, so `bellhop_member_healthy == 0` alerts
    // mean trouble, not "someone's wiki is sleeping"; bellhop_member_asleep says which sleep.
    new Gauge({
      name: 'bellhop_member_healthy',
      help: '1 when the member takes traffic by health, 0 otherwise; absent while it sleeps (see bellhop_member_asleep)',
      labelNames: ['route', 'member'],
      registers,
      collect() {
        this.reset();
        for (const m of sources.memberHealth()) if (m.asleep !== true) this.set({ route: m.route, member: m.member }, m.healthy ? 1 : 0);
      },
    });
    new Gauge({
      name: 'bellhop_member_asleep',
      help: '1 while the member\'s container sleeps (idle_timeout), 0 otherwise',
      labelNames: ['route', 'member'],
      registers,
      collect() {
        this.reset();
        for (const m of sources.memberHealth()) this.set({ route: m.route, member: m.member }, m.asleep === true ? 1 : 0);
      },
    });
    // Stream traffic is counted by the listeners (internal/streams); these mirror it at scrape time.
    new CounterClass({
      name: 'bellhop_stream_connections_total',
      help: 'TCP connections accepted and UDP sessions opened by each stream route',
      labelNames: ['route', 'protocol'],
      registers,
      collect() {
        this.reset();
        for (const s of sources.streams?.() ?? []) this.inc({ route: s.name, protocol: s.protocol }, s.connections_total);
      },
    });
    new Gauge({
      name: 'bellhop_stream_open',
      help: 'Open TCP connections and UDP sessions of each stream route',
      labelNames: ['route', 'protocol'],
      registers,
      collect() {
        this.reset();
        for (const s of sources.streams?.() ?? []) this.set({ route: s.name, protocol: s.protocol }, s.open);
      },
    });
    new CounterClass({
      name: 'bellhop_stream_bytes_total',
      help: 'Bytes through each stream route: in = client to member, out = member to client (TCP: counted when a connection closes)',
      labelNames: ['route', 'protocol', 'direction'],
      registers,
      collect() {
        this.reset();
        for (const s of sources.streams?.() ?? []) {
          this.inc({ route: s.name, protocol: s.protocol, direction: 'in' }, s.bytes_in);
          this.inc({ route: s.name, protocol: s.protocol, direction: 'out' }, s.bytes_out);
        }
      },
    });
    new Gauge({
      name: 'bellhop_docker_sync_lag_seconds',
      help: 'Seconds since the last good sync with each Docker host',
      labelNames: ['host'],
      registers,
      collect() {
        this.reset();
        for (const h of sources.dockerSyncLag()) this.set({ host: h.host }, h.seconds);
      },
    });
    new Gauge({
      name: 'bellhop_certificate_expiry_seconds',
      help: 'Seconds until the certificate for these names expires (negative once expired)',
      labelNames: ['names'],
      registers,
      collect() {
        this.reset();
        for (const c of sources.certificateExpiry?.() ?? []) this.set({ names: c.names }, c.seconds);
      },
    });
    this.wakes = new CounterClass({
      name: 'bellhop_wakes_total',
      help: 'Container wakes, by container and result (ok, failed)',
      labelNames: ['container', 'result'],
      registers,
    });
    this.wakeDuration = new HistogramClass({
      name: 'bellhop_wake_duration_seconds',
      help: 'Time from the wake request to the container passing readiness',
      buckets: [0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300],
      registers,
    });
  }

  /**
   * One answered request: always counted; `upstreamSeconds` (undefined when no member was
   * reached or the client left first) feeds the upstream latency histogram.
   */
  requestDone(route: string, member: string, status: number, upstreamSeconds: number | undefined): void {
    this.requests.add(route, member, status);
    if (upstreamSeconds !== undefined) this.latency.observe(route, upstreamSeconds);
  }

  wakeDone(container: string, ok: boolean, seconds: number): void {
    this.wakes.inc({ container, result: ok ? 'ok' : 'failed' });
    if (ok) this.wakeDuration.observe(seconds);
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
