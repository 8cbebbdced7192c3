// Every access log of one Bellhop (docs/access-log.md): `entrypoint.access_log` and each route's.
// A request's hook only queues (the exchange and its status, no object of its own); the queue is
// turned into lines after the current I/O (setImmediate), when Bellhop's own answer has been
// written too, and the lines go to shared, buffered files (log-file.ts) and standard output.
import { resolve } from 'node:path';
import type { Logger } from '../../pkg/log/index.ts';
import { resolveClient, type TrustedProxies } from '../../pkg/realip/index.ts';
import type { LoggedRequest, RequestLogHook } from '../proxy/index.ts';
import type { AccessLogSpec } from './access-log-spec.ts';
import { combinedLine, commonLine, jsonLine, type LineFacts } from './format-line.ts';
import { LogFile } from './log-file.ts';
import { compileFilters, type RequestFilter } from './request-filter.ts';

export interface AccessLogsOptions {
  log: Logger;
  /** The current `entrypoint.trusted_proxies`, for requests that ended before the proxy worked out the client. */
  trusted: () => TrustedProxies;
  /** Clock for retention (default Date.now). */
  now?: (() => number) | undefined;
  /** Where `stdout: true` writes (default process.stdout). */
  stdout?: { write(s: string): unknown } | undefined;
  /** Relative paths resolve against this (default the working directory). */
  cwd?: string | undefined;
  moveCheckMs?: number | undefined;
  flushMs?: number | undefined;
}

/** One open access log. */
export interface AccessLogHandle {
  /** For the proxy (ProxyRoute.accessLog, ProxyServer.setRequestLog). */
  readonly hook: RequestLogHook;
  /** The file's path, resolved; undefined for stdout only. */
  readonly path: string | undefined;
  /** Settles once retention has run at open. */
  readonly started: Promise<unknown>;
  /** Stops logging; the file closes when no other log uses it. */
  close(): Promise<void>;
}

interface Sink {
  filter: RequestFilter | undefined;
  format: (f: LineFacts) => string;
  file: LogFile | undefined;
  stdout: boolean;
  open: boolean;
}

type Socketish = { remoteAddress?: string | undefined; encrypted?: boolean };

/** Reads the socket's peer address while the connection is open (node:net caches it for later). */
function peerAddressSeen(socket: Socketish): boolean {
  return socket.remoteAddress !== undefined;
}

/** The response's Content-Type and, for Bellhop's own answers, Content-Length, from what node:http wrote. */
function writtenHeader(res: LoggedRequest['res'], name: 'content-type' | 'content-length'): string {
  const head = (res as { _header?: unknown })._header;
  if (typeof head === 'string') {
    const at = head.toLowerCase().indexOf(`\r\n${name}:`);
    if (at === -1) return '';
    const end = head.indexOf('\r\n', at + 2);
    return head.slice(at + name.length + 3, end === -1 ? undefined : end).trim();
  }
  // HTTP/2 compatibility responses keep their headers readable
  const v = (res as { getHeader?: (n: string) => unknown }).getHeader?.(name);
  return typeof v === 'string' || typeof v === 'number' ? String(v) : '';
}

export class AccessLogs {
  private readonly opts: AccessLogsOptions;
  private readonly files = new Map<string, LogFile>();
  /** [sink, exchange, status, …] waiting for the next turn. */
  private queue: unknown[] = [];
  private scheduled = false;
  private stdoutLines: string[] = [];

  constructor(opts: AccessLogsOptions) {
    this.opts = opts;
  }

  /**
   * Opens a log: its file is created if missing (0644) and shared with every other log naming
   * the same path (the first one's retention, rotate_interval and buffer_size apply). Throws
   * AccessLogError ACCESS_LOG_OPEN_FAILED when the file cannot be opened for writing.
   */
  open(spec: AccessLogSpec): AccessLogHandle {
    let file: LogFile | undefined;
    let path: string | undefined;
    if (spec.path !== undefined) {
      path = resolve(this.opts.cwd ?? process.cwd(), spec.path);
      file = this.files.get(path);
      if (file === undefined) {
        file = new LogFile(path, {
          log: this.opts.log, now: this.opts.now ?? Date.now, bufferSize: spec.bufferSize, retention: spec.retention,
          rotateIntervalMs: spec.rotateIntervalMs, moveCheckMs: this.opts.moveCheckMs, flushMs: this.opts.flushMs,
        });
        this.files.set(path, file);
      }
      file.refs++;
    }
    const fields = spec.fields;
    const format = spec.format === 'json' ? (f: LineFacts) => jsonLine(f, fields)
      : spec.format === 'common' ? (f: LineFacts) => commonLine(f, fields.query)
        : (f: LineFacts) => combinedLine(f, fields.query);
    const sink: Sink = { filter: compileFilters(spec.filters), format, file, stdout: spec.stdout, open: true };
    const hook: RequestLogHook = (done, status) => {
      // No client IP worked out (no route, refused early): the line falls back to the socket's
      // peer. Node remembers it once read; read after the connection closed, it is gone.
      if (done.clientIp === '') peerAddressSeen(done.socket);
      this.queue.push(sink, done, status);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.drain);
      }
    };
    return {
      hook,
      path,
      started: file?.started ?? Promise.resolve(0),
      close: async () => {
        if (!sink.open) return;
        this.drain();
        sink.open = false;
        if (file !== undefined && --file.refs === 0) {
          this.files.delete(file.path);
          await file.close();
        }
      },
    };
  }

  private readonly drain = (): void => {
    this.scheduled = false;
    const q = this.queue;
    if (q.length === 0) return;
    this.queue = [];
    let facts: LineFacts | undefined;
    let factsOf: unknown;
    for (let i = 0; i + 2 < q.length; i += 3) {
      const sink = q[i] as Sink;
      if (!sink.open) continue;
      const done = q[i + 1] as LoggedRequest;
      // the entrypoint's and the route's log of one request share its facts
      if (factsOf !== done) {
        facts = this.factsOf(done, q[i + 2] as number);
        factsOf = done;
      }
      if (sink.filter !== undefined && !sink.filter(facts!)) continue;
      let line: string;
      try {
        line = `${sink.format(facts!)}\n`;
      } catch (err) {
        this.opts.log.error({ module: 'access-log', err }, 'access log line could not be built (bug)');
        continue;
      }
      sink.file?.append(line);
      if (sink.stdout) this.stdoutLines.push(line);
    }
    if (this.stdoutLines.length > 0) {
      const out = this.stdoutLines.join('');
      this.stdoutLines = [];
      try {
        (this.opts.stdout ?? process.stdout).write(out);
      } catch (err) {
        this.opts.log.error({ module: 'access-log', err }, 'access log lines could not be written to stdout');
      }
    }
  };

  private factsOf(done: LoggedRequest, status: number): LineFacts {
    const req = done.req;
    const socket = done.socket as LoggedRequest['socket'] & Socketish;
    let clientIp = done.clientIp;
    if (clientIp === '') {
      clientIp = resolveClient(socket.remoteAddress, req.headers['x-forwarded-for'], this.opts.trusted())?.clientIp ?? '';
    }
    let bytes = done.bytes;
    if (bytes === 0 && !done.responded && req.method !== 'HEAD' && status !== 204 && status !== 304) {
      // Bellhop's own answer (404, 503, the loading page): its length as written
      bytes = Number(writtenHeader(done.res, 'content-length')) || 0;
    }
    return {
      timeMs: performance.timeOrigin + done.start,
      clientIp,
      method: req.method ?? '-',
      target: req.url ?? '/',
      protocol: `HTTP/${req.httpVersion}`,
      host: req.headers.host ?? '',
      routingHost: done.host,
      status,
      bytes,
      secure: socket.encrypted === true,
      contentType: writtenHeader(done.res, 'content-type'),
      rawHeaders: req.rawHeaders,
    };
  }

  /** Reopens every file at its path (SIGHUP after logrotate). */
  async reopen(): Promise<void> {
    for (const f of this.files.values()) {
      try {
        await f.reopen();
      } catch (err) {
        this.opts.log.error({ module: 'access-log', code: 'ACCESS_LOG_OPEN_FAILED', path: f.path, err }, 'access log could not be reopened; still writing to the old file');
      }
    }
  }

  /** Writes every queued line to its file. */
  async flush(): Promise<void> {
    this.drain();
    await Promise.all([...this.files.values()].map((f) => f.flush()));
  }

  /** Flushes and closes every file (shutdown, after the proxy drained). */
  async close(): Promise<void> {
    this.drain();
    const files = [...this.files.values()];
    this.files.clear();
    await Promise.all(files.map((f) => f.close()));
  }
}
