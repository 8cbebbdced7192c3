// Owns every stream route's listener (docs/streams.md). `update(routes)` follows the route
// table: a new route opens its listener, a changed one keeps it (its pool takes the new
// members) unless its protocol, port or address changed, a gone one stops accepting and ends
// its open connections in order. A listener that cannot open (port in use, no permission) is an
// error listed with the route errors and retried; nothing here ever throws to the caller.
import type { Logger } from '../../pkg/log/index.ts';
import type { RouteError, StreamRouteSpec } from '../routes/index.ts';
import { newCounters, type StreamCounters } from './stream-counters.ts';
import { StreamPool, type StreamHealth, type StreamWake } from './stream-pool.ts';
import { TcpStream } from './tcp-stream.ts';
import { UdpStream } from './udp-stream.ts';

export interface StreamManagerOptions {
  health: StreamHealth;
  wake?: StreamWake | undefined;
  logger: Logger;
  /** entrypoint.timeouts.upstream_connect (default 5 s). */
  connectTimeoutMs?: number | undefined;
  /** UDP session idle timeout (default 5 min, as GoDoxy). */
  udpIdleTimeoutMs?: number | undefined;
  /** Client bytes held per TCP connection while its member wakes (default 64 KiB). */
  holdBytes?: number | undefined;
  /** How long a connection waits for a member that is starting (default 5 s). */
  holdMs?: number | undefined;
  /** Retry delay of a listener that could not open (default 10 s). */
  retryListenMs?: number | undefined;
  /** Grace for open connections of a removed route before they are cut (default 5 s). */
  closeGraceMs?: number | undefined;
}

/** One stream route as /api/routes shows it. */
export interface StreamView {
  name: string;
  protocol: 'tcp' | 'udp';
  /** `0.0.0.0:2222`, with the real port when the label asked for any free one. */
  listen: string;
  listening: boolean;
  mode: string;
  /** Open TCP connections or UDP sessions. */
  open: number;
  connections_total: number;
  failed_total: number;
  bytes_in: number;
  bytes_out: number;
  members: Array<{ id: string; name: string; url: string; container_id: string | undefined; in_flight: number; configured_weight: number | undefined; normalised_weight: number }>;
  error?: string | undefined;
}

interface Runtime {
  spec: StreamRouteSpec;
  pool: StreamPool;
  counters: StreamCounters;
  listener: TcpStream | UdpStream | undefined;
  port: number | undefined;
  error: RouteError | undefined;
  retry: NodeJS.Timeout | undefined;
  /** Bumped whenever the listener is replaced: a late listen result for an old one is dropped. */
  generation: number;
}

function listenKey(s: StreamRouteSpec): string {
  return `${s.stream.protocol}|${s.stream.bind ?? ''}|${String(s.stream.port)}`;
}

/** The logger with the route's fields on every line (pkg/log's Logger has no child()). */
function bound(log: Logger, fields: object): Logger {
  return {
    debug: (o, m) => log.debug({ ...fields, ...o }, m),
    info: (o, m) => log.info({ ...fields, ...o }, m),
    warn: (o, m) => log.warn({ ...fields, ...o }, m),
    error: (o, m) => log.error({ ...fields, ...o }, m),
  };
}

function sources(s: StreamRouteSpec): string {
  const names = [...new Set(s.members.map((m) => m.container?.name ?? m.name))];
  return names.length > 0 ? names.join(', ') : `stream ${s.name}`;
}

export class StreamManager {
  readonly #opts: StreamManagerOptions;
  readonly #log: Logger;
  #routes = new Map<string, Runtime>();
  #closed = false;

  constructor(opts: StreamManagerOptions) {
    this.#opts = opts;
    this.#log = opts.logger;
  }

  /** Applies the current stream routes. Cheap when nothing changed. */
  update(routes: readonly StreamRouteSpec[]): void {
    if (this.#closed) return;
    const next = new Map<string, Runtime>();
    for (const spec of routes) {
      const rt = this.#routes.get(spec.name);
      if (rt !== undefined && listenKey(rt.spec) === listenKey(spec)) {
        rt.spec = spec;
        rt.pool.update(spec);
        if (rt.listener instanceof UdpStream) rt.listener.setIdleTimeout(this.#udpIdleMs(spec));
        next.set(spec.name, rt);
        continue;
      }
      if (rt !== undefined) void this.#retire(rt);
      const fresh: Runtime = {
        spec,
        pool: new StreamPool(spec, this.#opts.health, this.#opts.wake, this.#opts.holdMs ?? 5_000),
        counters: newCounters(),
        listener: undefined,
        port: undefined,
        error: undefined,
        retry: undefined,
        generation: 0,
      };
      next.set(spec.name, fresh);
      this.#open(fresh);
    }
    for (const [name, rt] of this.#routes) if (!next.has(name)) void this.#retire(rt);
    this.#routes = next;
  }

  /** Listeners that could not open (admin API `errors`, `bellhop check`). */
  errors(): RouteError[] {
    return [...this.#routes.values()].flatMap((r) => (r.error === undefined ? [] : [r.error]));
  }

  /** Every stream route, sorted by name. */
  views(): StreamView[] {
    return [...this.#routes.values()].sort((a, b) => (a.spec.name < b.spec.name ? -1 : 1)).map((r) => {
      const weights = new Map(r.pool.pool.describe().map((d) => [d.id, d]));
      return {
        name: r.spec.name,
        protocol: r.spec.stream.protocol,
        listen: `${r.spec.stream.bind ?? '0.0.0.0'}:${String(r.port ?? r.spec.stream.port)}`,
        listening: r.port !== undefined,
        mode: r.spec.loadBalance.mode,
        open: r.counters.open,
        connections_total: r.counters.accepted,
        failed_total: r.counters.failed,
        bytes_in: r.counters.bytesIn,
        bytes_out: r.counters.bytesOut,
        members: r.spec.members.map((m) => ({
          id: m.id,
          name: m.name,
          url: m.url,
          container_id: m.container?.id,
          in_flight: r.pool.inFlight(m.id),
          configured_weight: m.weight,
          normalised_weight: weights.get(m.id)?.normalisedWeight ?? 0,
        })),
        ...(r.error !== undefined ? { error: r.error.message } : {}),
      };
    });
  }

  /** The port a stream route listens on (undefined while it does not). */
  portOf(name: string): number | undefined {
    return this.#routes.get(name)?.port;
  }

  /** Closes every listener; open connections get `closeGraceMs` to end. */
  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#routes.values()];
    this.#routes.clear();
    await Promise.all(all.map((r) => this.#retire(r)));
  }

  #open(rt: Runtime): void {
    const gen = ++rt.generation;
    const spec = rt.spec;
    const log = bound(this.#log, { module: 'streams', route: spec.name, protocol: spec.stream.protocol });
    const pool = (): StreamPool => rt.pool;
    const listener = spec.stream.protocol === 'tcp'
      ? new TcpStream({ pool, log, connectTimeoutMs: this.#opts.connectTimeoutMs ?? 5_000, holdBytes: this.#opts.holdBytes ?? 64 * 1024, counters: rt.counters })
      : new UdpStream({ pool, log, idleTimeoutMs: this.#udpIdleMs(spec), counters: rt.counters });
    rt.listener = listener;
    listener.listen(spec.stream.port, spec.stream.bind).then(
      (port) => {
        if (rt.generation !== gen) return;
        rt.port = port;
        if (rt.error !== undefined) log.info({ port }, 'stream listener open after all');
        rt.error = undefined;
        log.info({ listen: `${spec.stream.bind ?? '0.0.0.0'}:${String(port)}`, members: spec.members.length }, 'stream route listening');
      },
      (err: NodeJS.ErrnoException) => {
        if (rt.generation !== gen) return;
        rt.listener = undefined;
        const where = `${spec.stream.protocol} ${spec.stream.bind ?? ''}:${String(spec.stream.port)}`;
        const why = err.code === 'EADDRINUSE' ? 'the port is in use (another stream, Bellhop\'s own entrypoint or another program)' : err.code === 'EACCES' ? 'no permission (ports below 1024 need root or CAP_NET_BIND_SERVICE)' : err.code ?? err.message;
        const message = `stream "${spec.name}" cannot listen on ${where}: ${why}; retrying every ${String(Math.round((this.#opts.retryListenMs ?? 10_000) / 1000))} s`;
        const first = rt.error === undefined || rt.error.message !== message;
        rt.error = { code: 'STREAM_LISTEN_FAILED', source: sources(spec), key: spec.source === 'file' ? `routes.${spec.name}` : `proxy.${spec.name}.port`, message };
        if (first) log.error({ code: 'STREAM_LISTEN_FAILED', err }, message);
        void listener.close(0).catch(() => undefined);
        rt.retry = setTimeout(() => {
          rt.retry = undefined;
          if (rt.generation === gen && this.#routes.get(spec.name) === rt) this.#open(rt);
        }, this.#opts.retryListenMs ?? 10_000);
        rt.retry.unref();
      },
    );
  }

  /** The route's `udp_idle_timeout`, else the manager's (5 min, GoDoxy's figure). */
  #udpIdleMs(spec: StreamRouteSpec): number {
    return spec.stream.udpIdleTimeoutMs ?? this.#opts.udpIdleTimeoutMs ?? 300_000;
  }

  #retire(rt: Runtime): Promise<void> {
    rt.generation++;
    if (rt.retry !== undefined) clearTimeout(rt.retry);
    rt.pool.retire();
    const l = rt.listener;
    rt.listener = undefined;
    rt.port = undefined;
    if (l === undefined) return Promise.resolve();
    this.#log.info({ module: 'streams', route: rt.spec.name }, 'stream route closed');
    return (l instanceof TcpStream ? l.close(this.#opts.closeGraceMs ?? 5_000) : l.close()).catch(() => undefined);
  }
}
