// A TCP stream listener: each client connection gets a member from the pool (waking it if it
// sleeps) and is spliced to a fresh connection to it, both directions with backpressure and
// half-close (SSH and friends close one side first). Bytes the client sends before the member
// is connected are held, up to a bound; past it the client is paused and TCP flow control holds
// the rest in the kernel.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { normaliseIp } from '../../pkg/realip/index.ts';
import type { Logger } from '../../pkg/log/index.ts';
import type { StreamPool, StreamTarget } from './stream-pool.ts';
import type { StreamCounters } from './stream-counters.ts';

export interface TcpStreamOptions {
  pool: () => StreamPool;
  log: Logger;
  connectTimeoutMs: number;
  /** Client bytes held while no member is connected yet (default 64 KiB). */
  holdBytes: number;
  counters: StreamCounters;
}

interface Open {
  client: Socket;
  upstream?: Socket | undefined;
}

export class TcpStream {
  readonly #server: Server;
  readonly #opts: TcpStreamOptions;
  readonly #open = new Set<Open>();
  #closing = false;

  constructor(opts: TcpStreamOptions) {
    this.#opts = opts;
    this.#server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      void this.#handle(socket);
    });
    this.#server.on('error', (err) => opts.log.error({ err }, 'stream listener error'));
  }

  /** Resolves with the port once listening; rejects with the listen error (EADDRINUSE, EACCES). */
  listen(port: number, host: string | undefined): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.#server.once('error', onError);
      this.#server.listen({ port, host, exclusive: true }, () => {
        this.#server.off('error', onError);
        const a = this.#server.address();
        resolve(typeof a === 'object' && a !== null ? a.port : port);
      });
    });
  }

  get connections(): number {
    return this.#open.size;
  }

  /**
   * Stops accepting. Open connections get an orderly end (FIN both ways) and are destroyed after
   * `graceMs` if they linger; resolves when all are gone.
   */
  close(graceMs: number): Promise<void> {
    this.#closing = true;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const o of this.#open) {
      o.client.end();
      o.upstream?.end();
      setTimeout(() => {
        o.client.destroy();
        o.upstream?.destroy();
      }, graceMs).unref();
    }
    return closed;
  }

  async #handle(client: Socket): Promise<void> {
    const { log, counters } = this.#opts;
    const entry: Open = { client };
    this.#open.add(entry);
    counters.accepted++;
    const gone = new AbortController();
    const held: Buffer[] = [];
    let heldBytes = 0;
    let clientEnded = false;
    const hold = (d: Buffer): void => {
      held.push(d);
      heldBytes += d.length;
      if (heldBytes >= this.#opts.holdBytes) client.pause();
    };
    const onEnd = (): void => {
      clientEnded = true;
    };
    client.on('data', hold);
    client.on('end', onEnd);
    client.on('error', () => undefined); // a reset client: 'close' follows
    client.once('close', () => {
      gone.abort();
      this.#open.delete(entry);
      entry.upstream?.destroy();
    });
    if (this.#closing) {
      client.destroy();
      return;
    }
    const clientIp = normaliseIp(client.remoteAddress ?? '') ?? client.remoteAddress ?? '';
    const tried = new Set<string>();
    for (;;) {
      const pool = this.#opts.pool();
      const got = await pool.acquire(clientIp, tried, gone.signal);
      if (gone.signal.aborted) return;
      if (!('id' in got)) {
        counters.failed++;
        log.warn({ code: 'STREAM_NO_MEMBER', client: clientIp, reason: got.reason }, 'stream connection closed: no usable member');
        client.destroy();
        return;
      }
      const upstream = await this.#connect(got, gone.signal);
      if (gone.signal.aborted) {
        upstream.socket?.destroy();
        return;
      }
      if (upstream.socket === undefined) {
        pool.report(got.id, false, upstream.error);
        tried.add(got.id);
        if (tried.size < pool.spec.members.length) continue;
        counters.failed++;
        log.warn({ code: 'STREAM_UPSTREAM_CONNECT', client: clientIp, member: got.name, err: upstream.error }, 'stream connection closed: no member accepted it');
        client.destroy();
        return;
      }
      pool.report(got.id, true);
      this.#splice(entry, upstream.socket, got, pool, held, clientEnded);
      client.off('data', hold);
      client.off('end', onEnd);
      return;
    }
  }

  #connect(t: StreamTarget, signal: AbortSignal): Promise<{ socket?: Socket; error?: string }> {
    return new Promise((resolve) => {
      const socket = connect({ host: t.host, port: t.port, allowHalfOpen: true, noDelay: true });
      const finish = (r: { socket?: Socket; error?: string }): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        socket.off('connect', onConnect);
        socket.off('error', onError);
        resolve(r);
      };
      const onConnect = (): void => finish({ socket });
      const onError = (err: NodeJS.ErrnoException): void => {
        socket.destroy();
        finish({ error: err.code ?? err.message });
      };
      const onAbort = (): void => {
        socket.destroy();
        finish({ error: 'client gone' });
      };
      const timer = setTimeout(() => {
        socket.destroy();
        finish({ error: 'connect timeout' });
      }, this.#opts.connectTimeoutMs);
      timer.unref();
      socket.once('connect', onConnect);
      socket.once('error', onError);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Joins client and member; releases the member when both sides are closed. */
  #splice(entry: Open, upstream: Socket, t: StreamTarget, pool: StreamPool, held: Buffer[], clientEnded: boolean): void {
    const { client } = entry;
    const counters = this.#opts.counters;
    entry.upstream = upstream;
    const release = pool.open(t.id);
    counters.open++;
    let closed = 0;
    const onClose = (): void => {
      if (++closed < 2) return;
      counters.open--;
      counters.bytesIn += client.bytesRead;
      counters.bytesOut += client.bytesWritten;
      release();
    };
    // An error (reset) on one side resets the other; an orderly close travels as FIN through the
    // pipes (each side's end() flushes what is still buffered for it).
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    upstream.once('close', (hadError) => {
      if (hadError) client.destroy();
      onClose();
    });
    client.once('close', () => {
      upstream.destroy();
      onClose();
    });
    if (this.#closing) {
      client.destroy();
      return;
    }
    for (const chunk of held) upstream.write(chunk);
    held.length = 0;
    upstream.pipe(client);
    if (clientEnded) upstream.end();
    else client.pipe(upstream);
    client.resume();
  }
}
