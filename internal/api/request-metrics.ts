// The two metrics every proxied request updates (bellhop_requests_total and
// bellhop_upstream_latency_seconds), counted in plain objects on the hot path and handed to
// prom-client at scrape time. prom-client resolves its label object to a series on every
// inc()/observe(), even through a cached labels() child (it hashes and validates the labels
// each call): under wrk that was ~6 % of the proxy's busy time, the largest single piece of
// Bellhop's own code per request. Here a request costs three Map lookups with strings whose
// hash V8 has already cached (route and member names are the route table's own strings) and a
// few additions; a scrape pays the label work once per series.
import type { Counter, Metric } from 'prom-client';

type RequestLabels = 'route' | 'status' | 'member';

interface RequestSeries {
  readonly labels: Record<RequestLabels, string>;
  /** Requests since the last scrape. */
  pending: number;
}

/** bellhop_requests_total by route, member and status; `collectInto` runs in the Counter's collect(). */
export class RequestCounts {
  readonly #byRoute = new Map<string, Map<string, Map<number, RequestSeries>>>();
  /** Every series in first-seen order (prom-client keeps that order in its exposition too). */
  readonly #all: RequestSeries[] = [];

  add(route: string, member: string, status: number): void {
    let byMember = this.#byRoute.get(route);
    if (byMember === undefined) this.#byRoute.set(route, byMember = new Map<string, Map<number, RequestSeries>>());
    let byStatus = byMember.get(member);
    if (byStatus === undefined) byMember.set(member, byStatus = new Map<number, RequestSeries>());
    const s = byStatus.get(status);
    if (s !== undefined) {
      s.pending++;
      return;
    }
    const series: RequestSeries = { labels: { route, status: String(status), member }, pending: 1 };
    byStatus.set(status, series);
    this.#all.push(series);
  }

  /** Adds the requests counted since the last call to `counter`. */
  collectInto(counter: Counter<RequestLabels>): void {
    for (const s of this.#all) {
      if (s.pending === 0) continue;
      counter.inc(s.labels, s.pending);
      s.pending = 0;
    }
  }
}

interface LatencySeries {
  /** Observations per bucket (not cumulative); the last one counts those above every bound. */
  readonly counts: number[];
  sum: number;
  count: number;
}

/** One exposition line's value, as prom-client's own histograms give them to the registry. */
interface ExportedValue {
  labels: Record<string, string | number>;
  sharedLabels: Record<string, string>;
  value: number;
  metricName: string;
}

/**
 * A histogram with one label, `route`, exposed exactly as prom-client's Histogram exposes
 * itself (same lines, labels and order: the registry formats both from get()).
 */
export class RouteHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #bounds: readonly number[];
  readonly #series = new Map<string, LatencySeries>();

  constructor(name: string, help: string, bounds: readonly number[]) {
    this.name = name;
    this.help = help;
    this.#bounds = [...bounds].sort((a, b) => a - b);
  }

  observe(route: string, value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${String(value)}`);
    let s = this.#series.get(route);
    if (s === undefined) this.#series.set(route, s = { counts: new Array<number>(this.#bounds.length + 1).fill(0), sum: 0, count: 0 });
    const b = this.#bounds;
    let i = 0;
    while (i < b.length && value > b[i]!) i++;
    s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  /** What prom-client's Registry reads (metrics(), getMetricsAsJSON()). */
  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: ExportedValue[] }> {
    const values: ExportedValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const [route, s] of this.#series) {
      const shared = { route };
      let acc = 0;
      for (let i = 0; i < this.#bounds.length; i++) {
        acc += s.counts[i]!;
        values.push({ labels: { le: this.#bounds[i]! }, sharedLabels: shared, value: acc, metricName: bucket });
      }
      values.push(
        { labels: { le: '+Inf' }, sharedLabels: shared, value: s.count, metricName: bucket },
        { labels: {}, sharedLabels: shared, value: s.sum, metricName: `${this.name}_sum` },
        { labels: {}, sharedLabels: shared, value: s.count, metricName: `${this.name}_count` },
      );
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  /** Registry.resetMetrics(). */
  reset(): void {
    this.#series.clear();
  }

  /** For Registry.registerMetric, which is typed for prom-client's own classes only. */
  asMetric(): Metric {
    return this as unknown as Metric;
  }
}
