// A UDP stream listener with per-client sessions: the first datagram from a client address
// picks a member (waking it if it sleeps; datagrams meanwhile are queued, bounded) and opens a
// socket of its own toward it, so the member's replies can be told apart and sent back to that
// client from the listening port. A session ends after `idleTimeoutMs` without a datagram either
// way; it counts as activity for the member's idle clock while it lasts.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { normaliseIp } from '../../pkg/realip/index.ts';
import type { Logger } from '../../pkg/log/index.ts';
import type { StreamPool } from './stream-pool.ts';
import type { StreamCounters } from './stream-counters.ts';

export interface UdpStreamOptions {
  pool: () => StreamPool;
  log: Logger;
  idleTimeoutMs: number;
  counters: StreamCounters;
  /** Datagrams queued per session while its member wakes (default 64); later ones are dropped. */
  queueLimit?: number | undefined;
  now?: (() => number) | undefined;
}

interface Session {
  key: string;
  client: RemoteInfo;
  /** Connected toward the member: datagrams go straight through. */
  upstream?: Socket | undefined;
  /** Created, maybe not connected yet (closed with the session). */
  socket?: Socket | undefined;
  queue: Buffer[];
  lastActive: number;
  release?: (() => void) | undefined;
  abort: AbortController;
  closed: boolean;
}

export class UdpStream {
  readonly #opts: UdpStreamOptions;
  readonly #sessions = new Map<string, Session>();
  #socket: Socket | undefined;
  #sweep: NodeJS.Timeout | undefined;
  #closing = false;
  #idleMs: number;

  constructor(opts: UdpStreamOptions) {
    this.#opts = opts;
    this.#idleMs = opts.idleTimeoutMs;
  }

  /** A new session idle timeout (the route's udp_idle_timeout changed): applies to open sessions too. */
  setIdleTimeout(ms: number): void {
    if (ms === this.#idleMs) return;
    this.#idleMs = ms;
    if (this.#sweep !== undefined) this.#startSweep();
  }

  #startSweep(): void {
    if (this.#sweep !== undefined) clearInterval(this.#sweep);
    const every = Math.max(10, Math.min(5_000, Math.floor(this.#idleMs / 4)));
    this.#sweep = setInterval(() => this.sweep(), every);
    this.#sweep.unref();
  }

  #now(): number {
    return (this.#opts.now ?? Date.now)();
  }

  listen(port: number, host: string | undefined): Promise<number> {
    const socket = createSocket({ type: host !== undefined && isIPv6(host) ? 'udp6' : 'udp4' });
    this.#socket = socket;
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        socket.close();
        reject(err);
      };
      socket.once('error', onError);
      socket.bind({ port, address: host, exclusive: true }, () => {
        socket.off('error', onError);
        socket.on('error', (err) => this.#opts.log.warn({ err }, 'udp stream listener error'));
        socket.on('message', (msg, rinfo) => this.#onMessage(msg, rinfo));
        this.#startSweep();
        resolve(socket.address().port);
      });
    });
  }

  /** Open sessions. */
  get sessions(): number {
    return this.#sessions.size;
  }

  /** Ends sessions idle for idleTimeoutMs (run on a timer; exposed for fake-clock tests). */
  sweep(): void {
    const now = this.#now();
    for (const s of [...this.#sessions.values()]) if (now - s.lastActive >= this.#idleMs) this.#end(s);
  }

  close(): Promise<void> {
    this.#closing = true;
    if (this.#sweep !== undefined) clearInterval(this.#sweep);
    for (const s of [...this.#sessions.values()]) this.#end(s);
    const socket = this.#socket;
    if (socket === undefined) return Promise.resolve();
    return new Promise((resolve) => {
      try {
        socket.close(() => resolve());
      } catch {
        resolve(); // never bound
      }
    });
  }

  #onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.#closing) return;
    const key = `${rinfo.address}\u0000${String(rinfo.port)}`;
    const counters = this.#opts.counters;
    counters.bytesIn += msg.length;
    let s = this.#sessions.get(key);
    if (s !== undefined) {
      s.lastActive = this.#now();
      if (s.upstream !== undefined) s.upstream.send(msg);
      else if (s.queue.length < (this.#opts.queueLimit ?? 64)) s.queue.push(msg);
      return;
    }
    s = { key, client: rinfo, queue: [msg], lastActive: this.#now(), abort: new AbortController(), closed: false };
    this.#sessions.set(key, s);
    counters.accepted++;
    counters.open++;
    void this.#start(s);
  }

  async #start(s: Session): Promise<void> {
    const { log, counters } = this.#opts;
    const clientIp = normaliseIp(s.client.address) ?? s.client.address;
    const pool = this.#opts.pool();
    const got = await pool.acquire(clientIp, new Set(), s.abort.signal);
    if (s.closed) return;
    if (!('id' in got)) {
      counters.failed++;
      log.warn({ code: 'STREAM_NO_MEMBER', client: clientIp, reason: got.reason }, 'udp datagrams dropped: no usable member');
      this.#end(s);
      return;
    }
    const upstream = createSocket({ type: isIPv6(got.host) ? 'udp6' : 'udp4' });
    s.socket = upstream;
    s.release = pool.open(got.id);
    upstream.on('error', (err) => {
      log.debug({ err, member: got.name }, 'udp session to the member failed');
      this.#end(s);
    });
    upstream.on('message', (reply) => {
      if (s.closed) return;
      s.lastActive = this.#now();
      counters.bytesOut += reply.length;
      this.#socket?.send(reply, s.client.port, s.client.address);
    });
    upstream.connect(got.port, got.host, () => {
      if (s.closed) return;
      for (const m of s.queue) upstream.send(m);
      s.queue = [];
      s.upstream = upstream;
    });
  }

  #end(s: Session): void {
    if (s.closed) return;
    s.closed = true;
    s.abort.abort();
    this.#sessions.delete(s.key);
    this.#opts.counters.open--;
    try {
      s.socket?.close();
    } catch {
      // already closed
    }
    s.release?.();
  }
}
