// One access log file, shared by every log that names it: lines are buffered in memory and
// appended by one asynchronous write at a time (never on a request's path), at least every
// second and whenever `buffer_size` bytes are waiting. Retention trims the file at start and
// every `rotate_interval`; a file moved or deleted under it (logrotate) is noticed within
// seconds and reopened at its path, as is every file on SIGHUP (docs/access-log.md).
import { dirname } from 'node:path';
import type { Logger } from '../../pkg/log/index.ts';
import type { RetentionSpec } from './access-log-spec.ts';
import { AccessLogError } from './access-log-errors.ts';
import { dropHead, retentionCut } from './retention.ts';

const { accessSync, closeSync, constants, fstatSync, openSync, statSync, write } = process.getBuiltinModule('node:fs');
const { open, stat } = process.getBuiltinModule('node:fs/promises');

/** Lines waiting beyond this (a stuck disk) are dropped and counted, never held without bound. */
export const MAX_PENDING_BYTES = 8 * 1024 * 1024;

export interface LogFileOptions {
  log: Logger;
  now: () => number;
  bufferSize: number;
  retention: RetentionSpec | undefined;
  rotateIntervalMs: number;
  /** How often the path is compared with the open file (moved, deleted); default 5 s. */
  moveCheckMs?: number | undefined;
  /** How often waiting lines are written at the latest; default 1 s. */
  flushMs?: number | undefined;
}

function writeFd(fd: number, buf: Buffer, off: number): Promise<number> {
  return new Promise((resolve, reject) => {
    write(fd, buf, off, buf.length - off, null, (err, n) => (err === null ? resolve(n) : reject(err)));
  });
}

/** Opens `path` for appending (created 0644 when missing); throws AccessLogError ACCESS_LOG_OPEN_FAILED. */
function openAppend(path: string): { fd: number; ino: number; dev: number } {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'a', 0o644);
    const st = fstatSync(fd);
    if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTFILE' });
    return { fd, ino: st.ino, dev: st.dev };
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'its directory does not exist' : code === 'EACCES' || code === 'EPERM' ? 'permission denied'
      : code === 'EISDIR' || code === 'ENOTFILE' ? 'it is not a regular file' : code ?? String(err);
    throw new AccessLogError('ACCESS_LOG_OPEN_FAILED', `access log ${path} cannot be opened for writing: ${why}`, { cause: err });
  }
}

export class LogFile {
  readonly path: string;
  /** Logs writing here; the file closes when the last one does. */
  refs = 0;
  /** Retention at open: settles with the bytes it removed (0 without retention). */
  readonly started: Promise<number>;
  /** Lines dropped (buffer over MAX_PENDING_BYTES, or a failed write) since the last report. */
  dropped = 0;
  private fd: number;
  private ino: number;
  private dev: number;
  private chunks: string[] = [];
  private pending = 0;
  private writing: Promise<void> | undefined;
  /** Retention is moving bytes: appends wait in memory until it settles. */
  private trimming: Promise<unknown> | undefined;
  private closed = false;
  private lastErrorLog = 0;
  private readonly opts: LogFileOptions;
  private readonly timers: NodeJS.Timeout[];

  constructor(path: string, opts: LogFileOptions) {
    this.path = path;
    this.opts = opts;
    const o = openAppend(path);
    this.fd = o.fd;
    this.ino = o.ino;
    this.dev = o.dev;
    const every = (ms: number, fn: () => Promise<unknown>): NodeJS.Timeout => {
      const t = setInterval(() => void fn().catch((err: unknown) => this.failed('access log maintenance failed', err)), ms);
      t.unref();
      return t;
    };
    this.timers = [
      every(opts.flushMs ?? 1000, () => this.flush()),
      every(opts.moveCheckMs ?? 5000, () => this.reopenIfMoved()),
      every(opts.rotateIntervalMs, () => this.applyRetention()),
    ];
    this.started = this.applyRetention().catch((err: unknown) => {
      this.failed('access log retention failed', err);
      return 0;
    });
  }

  /** Queues one line (with its newline). Never blocks; drops it when too much is waiting. */
  append(line: string): void {
    if (this.closed) return;
    if (this.pending > MAX_PENDING_BYTES) {
      this.dropped++;
      return;
    }
    this.chunks.push(line);
    this.pending += line.length;
    if (this.pending >= this.opts.bufferSize) this.kick();
  }

  private kick(): void {
    if (this.writing !== undefined || this.trimming !== undefined || this.chunks.length === 0) return;
    this.writing = this.writeLoop().finally(() => {
      this.writing = undefined;
    });
  }

  private async writeLoop(): Promise<void> {
    while (this.chunks.length > 0 && this.trimming === undefined) {
      const buf = Buffer.from(this.chunks.join(''), 'utf8');
      const lines = this.chunks.length;
      this.chunks = [];
      this.pending = 0;
      try {
        for (let off = 0; off < buf.length;) off += await writeFd(this.fd, buf, off);
      } catch (err) {
        this.dropped += lines;
        this.failed('access log write failed; lines dropped', err);
      }
    }
  }

  /** Writes everything waiting; resolves once it is on disk (in the OS's hands). */
  async flush(): Promise<void> {
    this.reportDrops();
    for (;;) {
      if (this.trimming !== undefined) await this.trimming.catch(() => undefined);
      this.kick();
      const w = this.writing;
      if (w === undefined && this.trimming === undefined) return;
      await w;
    }
  }

  private reportDrops(): void {
    if (this.dropped === 0) return;
    this.opts.log.warn({ code: 'ACCESS_LOG_DROPPED', path: this.path, lines: this.dropped }, 'access log lines dropped: the file could not keep up');
    this.dropped = 0;
  }

  private failed(msg: string, err: unknown): void {
    const now = Date.now();
    // one line a minute at most: a full disk must not flood the main log too
    if (now - this.lastErrorLog < 60_000) return;
    this.lastErrorLog = now;
    this.opts.log.error({ code: 'ACCESS_LOG_WRITE_FAILED', path: this.path, err }, msg);
  }

  /** Reopens the path (SIGHUP, or the file was moved): waiting lines go to the old file first. */
  async reopen(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    const o = openAppend(this.path);
    const old = this.fd;
    this.fd = o.fd;
    this.ino = o.ino;
    this.dev = o.dev;
    closeSync(old);
  }

  /** logrotate (create mode) renamed or deleted the file: write to a new one at the path. */
  async reopenIfMoved(): Promise<boolean> {
    if (this.closed) return false;
    let moved: boolean;
    try {
      const st = await stat(this.path);
      moved = st.ino !== this.ino || st.dev !== this.dev;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      moved = true;
    }
    if (!moved) return false;
    await this.reopen();
    this.opts.log.info({ module: 'access-log', path: this.path }, 'access log file was moved or deleted; reopened');
    return true;
  }

  /** Trims the file by `retention`; lines logged meanwhile wait in memory. Returns the bytes removed. */
  async applyRetention(): Promise<number> {
    const spec = this.opts.retention;
    if (spec === undefined || this.closed || this.trimming !== undefined) return 0;
    await this.flush();
    if (this.trimming !== undefined) return 0;
    const run = this.trim(spec);
    this.trimming = run;
    try {
      return await run;
    } finally {
      this.trimming = undefined;
      this.kick();
    }
  }

  private async trim(spec: RetentionSpec): Promise<number> {
    let fh;
    try {
      fh = await open(this.path, 'r+');
      const st = await fh.stat();
      if (st.ino !== this.ino) return 0;
      const cut = await retentionCut(fh, st.size, spec, this.opts.now());
      if (cut > 0) await dropHead(fh, st.size, cut);
      if (cut > 0) this.opts.log.info({ module: 'access-log', path: this.path, removed_bytes: cut, kept_bytes: st.size - cut }, 'access log retention applied');
      return cut;
    } finally {
      await fh?.close();
    }
  }

  /** Flushes and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    for (const t of this.timers) clearInterval(t);
    await this.flush();
    this.closed = true;
    closeSync(this.fd);
  }
}

/**
 * Would `path` open for appending? For `bellhop check`, which must not create files: the file
 * is writable, or it is missing and its directory is writable. Returns the problem, or undefined.
 */
export function probeLogPath(path: string): string | undefined {
  try {
    const st = statSync(path);
    if (!st.isFile()) return `access log ${path} is not a regular file`;
    accessSync(path, constants.W_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') return `access log ${path} cannot be opened for writing: ${code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code ?? String(err)}`;
  }
  const dir = dirname(path);
  try {
    if (!statSync(dir).isDirectory()) return `access log ${path} cannot be created: ${dir} is not a directory`;
    accessSync(dir, constants.W_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return `access log ${path} cannot be created: ${code === 'ENOENT' ? `its directory ${dir} does not exist` : code === 'EACCES' || code === 'EPERM' ? `no permission to write in ${dir}` : code ?? String(err)}`;
  }
}
