// Scale-to-zero for Docker Swarm services (docs/sleep-and-wake.md, "Swarm services"): the
// service variant of ContainerControl. A service sleeps at 0 replicas; the count it had is
// written into the service's own labels (`bellhop.replicas`) in the same update that scales it
// down, so it survives a Bellhop restart, a move to another manager and a lost volume, and
// `docker service inspect` shows why the service is at 0. Waking scales back to that count
// (else to the previous spec's count, else 1) and removes the label again.
//
// The Engine API has no "scale" call: `docker service scale` reads the service and posts its
// whole spec back with another replica count (POST /services/{id}/update?version=N), and so
// does this. Nothing else in the spec is touched, so no task is restarted by it.
import type Docker from 'dockerode';
import type { Readable } from 'node:stream';
import { withTimeout } from './call-timeout.ts';
import { toDockerError, type DockerError } from './docker-error.ts';
import { demuxDockerLogs, lastLines } from './log-demux.ts';
import type { SwarmServiceJson, SwarmTaskJson } from './swarm-records.ts';
import { silentLogger, type Logger } from '../../pkg/log/index.ts';

/** Service label holding the replica count a sleeping service goes back to. */
export const REPLICAS_LABEL = 'bellhop.replicas';

/** GET /services/{id}: what scaling needs (the spec is posted back whole). */
export interface SwarmServiceInspect extends SwarmServiceJson {
  Version?: { Index?: number };
  Spec?: SwarmServiceJson['Spec'] & Record<string, unknown>;
  PreviousSpec?: { Mode?: { Replicated?: { Replicas?: number } } };
}

/** A service and its tasks (desired running, or shutting down but still running). */
export interface ServiceSnapshot {
  service: SwarmServiceInspect;
  tasks: SwarmTaskJson[];
}

export interface SwarmServiceControlOptions {
  host: string;
  docker: Docker;
  logger?: Logger | undefined;
  /** Deadline for each call. Default 10 s. */
  callTimeoutMs?: number | undefined;
  /** Pause between two looks while waiting for tasks to stop. Default 250 ms. */
  pollMs?: number | undefined;
}

/** The replica count a sleeping service wakes to: the label, else the previous spec's, else 1. */
export function wakeReplicas(service: SwarmServiceInspect): number {
  const label = Number(service.Spec?.Labels?.[REPLICAS_LABEL]);
  if (Number.isInteger(label) && label > 0) return label;
  const previous = service.PreviousSpec?.Mode?.Replicated?.Replicas;
  return previous !== undefined && previous > 0 ? previous : 1;
}

/** Scale down, scale up, inspect and logs of swarm services on one (manager) engine. */
export class SwarmServiceControl {
  readonly host: string;
  private readonly docker: Docker;
  private readonly logger: Logger;
  private readonly callTimeoutMs: number;
  private readonly pollMs: number;

  constructor(opts: SwarmServiceControlOptions) {
    this.host = opts.host;
    this.docker = opts.docker;
    this.logger = opts.logger ?? silentLogger;
    this.callTimeoutMs = opts.callTimeoutMs ?? 10_000;
    this.pollMs = opts.pollMs ?? 250;
  }

  /** The service and its running (or still running) tasks. */
  async inspect(id: string): Promise<ServiceSnapshot> {
    const [service, tasks] = await Promise.all([
      this.call('service-inspect', id, (abortSignal) => this.docker.getService(id).inspect({ abortSignal }) as Promise<SwarmServiceInspect>),
      this.tasks(id),
    ]);
    return { service, tasks };
  }

  /**
   * Scales to 0, remembering the current count in the `bellhop.replicas` label, then waits (at
   * most `waitMs`) until none of its tasks runs any more: the service's own stop_grace_period
   * and stop signal apply. Already at 0: nothing to do. A global service cannot be scaled.
   */
  async scaleDown(id: string, opts: { waitMs: number }): Promise<void> {
    await this.update(id, 'scale-down', (spec, service) => {
      const replicated = replicatedOf(spec, service);
      const current = replicated.Replicas ?? 1;
      if (current === 0) return false;
      spec.Labels = { ...(spec.Labels ?? {}), [REPLICAS_LABEL]: String(current) };
      replicated.Replicas = 0;
      return true;
    });
    const until = Date.now() + opts.waitMs;
    for (;;) {
      const running = (await this.tasks(id)).filter((t) => t.Status?.State === 'running');
      if (running.length === 0) return;
      if (Date.now() + this.pollMs >= until) {
        this.logger.warn({ service: id, host: this.host, running: running.length }, 'swarm service scaled to 0, but tasks still run');
        return;
      }
      await new Promise<void>((r) => setTimeout(r, this.pollMs));
    }
  }

  /** Scales back to the remembered count (see wakeReplicas) and drops the label. Already scaled up: nothing to do. */
  async scaleUp(id: string): Promise<void> {
    await this.update(id, 'scale-up', (spec, service) => {
      const replicated = replicatedOf(spec, service);
      if ((replicated.Replicas ?? 0) > 0) return false;
      replicated.Replicas = wakeReplicas(service);
      const labels = { ...(spec.Labels ?? {}) };
      delete labels[REPLICAS_LABEL];
      spec.Labels = labels;
      return true;
    });
  }

  /** The last `lines` lines of the service's logs (all its tasks), for the wake failure page. */
  async logsTail(id: string, lines = 20): Promise<string> {
    const n = Math.max(1, Math.min(10_000, Math.floor(lines)));
    const raw = await this.call('service-logs', id, (abortSignal) => this.readLogs(id, n, abortSignal));
    return lastLines(demuxDockerLogs(raw), n);
  }

  private tasks(id: string): Promise<SwarmTaskJson[]> {
    return this.call('tasks', id, (abortSignal) => this.docker.listTasks({ filters: { service: [id], 'desired-state': ['running', 'shutdown'] }, abortSignal }) as Promise<SwarmTaskJson[]>);
  }

  /**
   * Reads the service, lets `change` edit its spec (false: nothing to change) and posts it back
   * at the version read. Another update in between ("update out of sequence") is retried once
   * on a fresh read.
   */
  private async update(id: string, op: string, change: (spec: NonNullable<SwarmServiceInspect['Spec']>, service: SwarmServiceInspect) => boolean): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const service = await this.call('service-inspect', id, (abortSignal) => this.docker.getService(id).inspect({ abortSignal }) as Promise<SwarmServiceInspect>);
      const spec = structuredClone(service.Spec ?? {});
      if (!change(spec, service)) return;
      const version = service.Version?.Index ?? 0;
      try {
        await this.call(op, id, (abortSignal) => this.post(id, version, spec, abortSignal));
        const replicas = spec.Mode?.Replicated?.Replicas;
        this.logger.info({ service: spec.Name ?? id, host: this.host, op, replicas }, `swarm service ${op === 'scale-up' ? 'scaled up' : 'scaled to 0'}`);
        return;
      } catch (err) {
        if (attempt < 2 && /out of sequence/i.test((err as Error).message)) continue;
        throw err;
      }
    }
  }

  private post(id: string, version: number, spec: object, abortSignal: AbortSignal): Promise<unknown> {
    // Through the modem: dockerode's update() would copy the whole spec into the query string.
    return new Promise((resolve, reject) => {
      this.docker.modem.dial(
        {
          path: `/services/${encodeURIComponent(id)}/update?`,
          method: 'POST',
          options: { _query: { version }, _body: spec },
          abortSignal,
          statusCodes: { 200: true, 400: 'bad parameter', 404: 'no such service', 500: 'server error', 503: 'node is not part of a swarm' },
        },
        (err, data) => (err ? reject(err) : resolve(data)),
      );
    });
  }

  private async readLogs(id: string, tail: number, abortSignal: AbortSignal): Promise<Buffer> {
    const stream = await new Promise<Readable>((resolve, reject) => {
      this.docker.modem.dial(
        {
          path: `/services/${encodeURIComponent(id)}/logs?`,
          method: 'GET',
          options: { stdout: true, stderr: true, tail, follow: false },
          isStream: true,
          abortSignal,
          statusCodes: { 200: true, 404: 'no such service', 500: 'server error', 503: 'node is not part of a swarm' },
        },
        (err, data) => (err ? reject(err) : resolve(data as Readable)),
      );
    });
    return new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer | string) => chunks.push(typeof c === 'string' ? Buffer.from(c) : c));
      stream.on('error', reject);
      stream.on('end', () => resolve(Buffer.concat(chunks)));
      stream.on('close', () => resolve(Buffer.concat(chunks)));
    });
  }

  private async call<T>(op: string, id: string, fn: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await withTimeout(this.callTimeoutMs, op, fn, id);
    } catch (err) {
      const derr: DockerError = toDockerError(err, op, id);
      const fields = { service: id, host: this.host, op, code: derr.code, status: derr.status, err: derr };
      if (derr.code === 'DOCKER_FORBIDDEN') this.logger.error(fields, `Docker refused ${op} (HTTP ${String(derr.status ?? 403)}); the socket proxy must allow POST /services/{id}/update (deploy/socket-proxy: BELLHOP_SWARM_WAKE=1)`);
      else this.logger.error(fields, `Docker ${op} failed`);
      throw derr;
    }
  }
}

/** The spec's replicated mode, or an error for a global service (it runs one task per node). */
function replicatedOf(spec: NonNullable<SwarmServiceInspect['Spec']>, service: SwarmServiceInspect): { Replicas?: number } {
  const replicated = spec.Mode?.Replicated;
  if (replicated === undefined) throw new Error(`swarm service ${spec.Name ?? service.ID} is not replicated (mode global): it cannot be scaled to 0`);
  return replicated;
}
