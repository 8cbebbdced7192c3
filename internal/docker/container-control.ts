// Start/stop/pause containers for the wake module. Each call has a deadline, every failure is a
// DockerError with a stable code (a socket proxy's 403 becomes DOCKER_FORBIDDEN), and Docker's
// "already started/stopped" (304) counts as success because the wanted state holds.
import type Docker from 'dockerode';
import type { Readable } from 'node:stream';
import type { ContainerRecord } from './container-record.ts';
import { withTimeout } from './call-timeout.ts';
import type { DockerError} from './docker-error.ts';
import { toDockerError } from './docker-error.ts';
import { DEFAULT_DOCKER_HOST, dockerClientFor, parseDockerHost } from './docker-host.ts';
import { demuxDockerLogs, lastLines } from './log-demux.ts';
import { silentLogger, type Logger } from '../../pkg/log/index.ts';
import { toContainerRecord } from './to-container-record.ts';

export interface ContainerControlOptions {
  /** Docker host string; default unix:///var/run/docker.sock. */
  host?: string;
  /** A ready client (tests, or shared with the watcher); built from `host` otherwise. */
  docker?: Docker;
  /** Address of a remote host, copied into records from inspect(). Derived from `host` when omitted. */
  remoteAddress?: string;
  logger?: Logger;
  /** Deadline for each call (stop adds its grace period on top). Default 10 s. */
  callTimeoutMs?: number;
}

export interface StopOptions {
  /** Seconds Docker waits after the stop signal before SIGKILL (`docker stop -t`). Default: Docker's (10). */
  timeoutSec?: number;
  /** Stop signal, e.g. 'SIGINT' (API >= 1.42; older engines use the image's StopSignal). */
  signal?: string;
}

/** Container actions against one Docker host. */
export class ContainerControl {
  readonly host: string;
  private readonly docker: Docker;
  private readonly remoteAddress: string | undefined;
  private readonly logger: Logger;
  private readonly callTimeoutMs: number;

  constructor(opts: ContainerControlOptions = {}) {
    const target = parseDockerHost(opts.host ?? DEFAULT_DOCKER_HOST);
    this.host = target.host;
    this.docker = opts.docker ?? dockerClientFor(target);
    this.remoteAddress = opts.remoteAddress ?? target.remoteAddress;
    this.logger = opts.logger ?? silentLogger;
    this.callTimeoutMs = opts.callTimeoutMs ?? 10_000;
  }

  /** Starts a container; already running (304) is success. */
  async start(id: string): Promise<void> {
    await this.action('start', id, this.callTimeoutMs, (c, abortSignal) => c.start({ abortSignal }));
  }

  /** Stops a container (SIGTERM, then SIGKILL after timeoutSec); already stopped (304) is success. */
  async stop(id: string, opts: StopOptions = {}): Promise<void> {
    const query: Record<string, unknown> = {};
    if (opts.timeoutSec !== undefined) query['t'] = Math.max(0, Math.round(opts.timeoutSec));
    if (opts.signal !== undefined) query['signal'] = opts.signal;
    // Docker only answers after the grace period (and the kill) when the app ignores SIGTERM.
    const deadline = ((opts.timeoutSec ?? 10) * 1000) + this.callTimeoutMs;
    await this.action('stop', id, deadline, (c, abortSignal) => c.stop({ ...query, abortSignal }));
  }

  /** Sends a signal (default SIGKILL). A container that is not running answers DOCKER_CONFLICT. */
  async kill(id: string, signal?: string): Promise<void> {
    await this.action('kill', id, this.callTimeoutMs, (c, abortSignal) => c.kill(signal === undefined ? { abortSignal } : { signal, abortSignal }));
  }

  /** Freezes a container's processes; already paused is success. */
  async pause(id: string): Promise<void> {
    await this.action('pause', id, this.callTimeoutMs, (c, abortSignal) => c.pause({ abortSignal }), /is already paused/i);
  }

  /** Thaws a paused container; not paused is success. */
  async unpause(id: string): Promise<void> {
    await this.action('unpause', id, this.callTimeoutMs, (c, abortSignal) => c.unpause({ abortSignal }), /is not paused/i);
  }

  /** Fresh `docker inspect`, mapped to a ContainerRecord (wake re-checks state right before start). */
  async inspect(id: string): Promise<ContainerRecord> {
    const info = await this.call('inspect', id, this.callTimeoutMs, (abortSignal) => this.docker.getContainer(id).inspect({ abortSignal }));
    return toContainerRecord(info, this.host, this.remoteAddress);
  }

  /** The last `lines` lines of stdout+stderr, in order (for the wake failure page). */
  async logsTail(id: string, lines = 20): Promise<string> {
    const n = Math.max(1, Math.min(10_000, Math.floor(lines)));
    const raw = await this.call('logs', id, this.callTimeoutMs, (abortSignal) => this.readLogs(id, n, abortSignal));
    return lastLines(demuxDockerLogs(raw), n);
  }

  private async readLogs(id: string, tail: number, abortSignal: AbortSignal): Promise<Buffer> {
    // Through the modem as a stream: dockerode's buffered logs() JSON-parses the body, which
    // mangles a TTY container whose output happens to be JSON.
    const stream = await new Promise<Readable>((resolve, reject) => {
      this.docker.modem.dial(
        {
          path: `/containers/${encodeURIComponent(id)}/logs?`,
          method: 'GET',
          options: { stdout: true, stderr: true, tail, follow: false },
          isStream: true,
          abortSignal,
          statusCodes: { 200: true, 404: 'no such container', 500: 'server error' },
        },
        (err, data) => (err ? reject(err) : resolve(data as Readable)),
      );
    });
    return new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const onAbort = (): void => {
        stream.destroy();
      };
      abortSignal.addEventListener('abort', onAbort, { once: true });
      stream.on('data', (c: Buffer | string) => chunks.push(typeof c === 'string' ? Buffer.from(c) : c));
      stream.on('error', (err) => reject(err));
      stream.on('end', () => resolve(Buffer.concat(chunks)));
      stream.on('close', () => {
        abortSignal.removeEventListener('abort', onAbort);
        resolve(Buffer.concat(chunks));
      });
    });
  }

  private async action(op: string, id: string, ms: number, fn: (c: Docker.Container, abortSignal: AbortSignal) => Promise<unknown>, alreadyDone?: RegExp): Promise<void> {
    try {
      await withTimeout(ms, op, (abortSignal) => fn(this.docker.getContainer(id), abortSignal), id);
    } catch (err) {
      const derr = toDockerError(err, op, id);
      // Docker 27 answers "already paused" with 409 but "not paused" with 500: trust the message.
      if (derr.status === 304 || (alreadyDone && (derr.status === 409 || derr.status === 500) && alreadyDone.test(derr.message))) {
        this.logger.debug({ container: id, host: this.host, op }, `container already in the wanted state (${op})`);
        return;
      }
      this.report(derr);
      throw derr;
    }
    this.logger.info({ container: id, host: this.host, op }, `container ${op}`);
  }

  private async call<T>(op: string, id: string, ms: number, fn: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await withTimeout(ms, op, fn, id);
    } catch (err) {
      const derr = toDockerError(err, op, id);
      this.report(derr);
      throw derr;
    }
  }

  private report(err: DockerError): void {
    const fields = { container: err.containerId, host: this.host, op: err.op, code: err.code, status: err.status, err };
    if (err.code === 'DOCKER_NOT_FOUND') this.logger.warn(fields, `Docker ${err.op} failed: no such container`);
    else if (err.code === 'DOCKER_FORBIDDEN') this.logger.error(fields, `Docker refused ${err.op} (HTTP ${err.status ?? 403}); a socket proxy must allow it`);
    else this.logger.error(fields, `Docker ${err.op} failed`);
  }
}
