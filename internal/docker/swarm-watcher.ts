// Watches one Docker host's swarm services and tasks (docs/discovery.md, Docker Swarm).
//
// Task changes elsewhere in the cluster raise no event on this node, so the picture is always
// rebuilt from GET /info, /services and /tasks (desired-state running or shutdown: a task being
// replaced serves until its container stops): three calls, whatever
// the number of services. What triggers a rebuild: a `service` event (create, update, remove;
// an update emits one per rolling-update step), a `node` event, a `container` event of a task
// container on this node (a task that dies here leaves the pool at once, and once more a
// second later, when the manager has recorded it), and a poll every `pollMs` for the rest.
// Rebuilds are single-flight: an event during one queues exactly one more. A failed rebuild
// keeps the last picture (routes stay served) and is retried by the next trigger.
import type Docker from 'dockerode';
import type { Readable } from 'node:stream';
import type { ContainerRecord } from './container-record.ts';
import { withTimeout } from './call-timeout.ts';
import { DockerError, toDockerError } from './docker-error.ts';
import { EventLineParser, type DockerEventMessage } from './docker-event.ts';
import { isSwarmManager, toSwarmRecords, type SwarmServiceJson, type SwarmTaskJson } from './swarm-records.ts';
import { silentLogger, type Logger } from '../../pkg/log/index.ts';

/** `docker.swarm`: auto discovers services when the engine is a manager; on insists (and logs). */
export type SwarmMode = 'auto' | 'on' | 'off';

export interface SwarmWatcherOptions {
  host: string;
  docker: Docker;
  mode: Exclude<SwarmMode, 'off'>;
  remoteAddress?: string | undefined;
  logger?: Logger | undefined;
  onChange?: (() => void) | undefined;
  callTimeoutMs?: number | undefined;
  /** Full rebuild period (cluster-wide task changes raise no local event). Default 5 s. */
  pollMs?: number | undefined;
  /** Event coalescing window. Default 50 ms. */
  coalesceMs?: number | undefined;
  /** Events stream reconnect delay. Default 2 s. */
  reconnectMs?: number | undefined;
}

export class SwarmWatcher {
  readonly host: string;
  private readonly opts: SwarmWatcherOptions;
  private readonly logger: Logger;
  private readonly callTimeoutMs: number;
  private snapshot: readonly ContainerRecord[] = Object.freeze([]);
  private activeValue = false;
  private synced = false;
  private stopped = false;
  private started = false;
  private running: Promise<void> | undefined;
  private again = false;
  private readonly ac = new AbortController();
  private readonly timers = new Set<NodeJS.Timeout>();
  private pollTimer: NodeJS.Timeout | undefined;
  private stream: Readable | undefined;
  private syncWaiters: Array<() => void> = [];
  private lastProblem = '';
  /** Counters for tests and metrics. */
  readonly stats = { rebuilds: 0, failures: 0, events: 0 };

  constructor(opts: SwarmWatcherOptions) {
    this.opts = opts;
    this.host = opts.host;
    this.logger = opts.logger ?? silentLogger;
    this.callTimeoutMs = opts.callTimeoutMs ?? 10_000;
  }

  /** True while the engine is a swarm manager and its services are being discovered. */
  get active(): boolean {
    return this.activeValue;
  }

  /** One record per running task (and per service without one); replaced on every change. */
  records(): readonly ContainerRecord[] {
    return this.snapshot;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.trigger();
    this.pollTimer = setInterval(() => this.trigger(), this.opts.pollMs ?? 5_000);
    this.subscribe();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.ac.abort();
    clearInterval(this.pollTimer);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.stream?.destroy();
    await this.running;
    for (const w of this.syncWaiters.splice(0)) w();
  }

  /** Resolves after the first rebuild (successful or not), or at stop. */
  whenSynced(): Promise<void> {
    if (this.synced || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /** Schedules a rebuild after `delayMs` (the coalescing window by default). */
  private trigger(delayMs = 0): void {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.rebuild();
    }, delayMs);
    this.timers.add(t);
  }

  private rebuild(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.rebuildOnce()
      .catch((err: unknown) => {
        this.stats.failures++;
        const derr = toDockerError(err, 'swarm');
        // One log line per distinct problem, not one per poll.
        if (derr.message !== this.lastProblem) this.logger.error({ host: this.host, code: derr.code, err: derr }, 'listing swarm services failed; keeping the last known tasks');
        this.lastProblem = derr.message;
      })
      .finally(() => {
        this.running = undefined;
        this.synced = true;
        for (const w of this.syncWaiters.splice(0)) w();
        if (this.again) {
          this.again = false;
          this.rebuild();
        }
      });
  }

  private async rebuildOnce(): Promise<void> {
    const signal = this.ac.signal;
    const docker = this.opts.docker;
    const info = (await withTimeout(this.callTimeoutMs, 'info', (abortSignal) => engineInfo(docker, abortSignal), undefined, signal)) as Parameters<typeof isSwarmManager>[0];
    if (!isSwarmManager(info)) {
      if (this.activeValue || (this.opts.mode === 'on' && this.lastProblem !== 'not a manager')) {
        const log = this.opts.mode === 'on' ? this.logger.error.bind(this.logger) : this.logger.info.bind(this.logger);
        log({ host: this.host, swarm: info?.Swarm?.LocalNodeState }, 'the Docker engine is not a swarm manager: no services are discovered');
      }
      this.lastProblem = 'not a manager';
      this.publish(false, []);
      return;
    }
    const [services, tasks] = await Promise.all([
      withTimeout(this.callTimeoutMs, 'services', (abortSignal) => docker.listServices({ abortSignal }) as Promise<SwarmServiceJson[]>, undefined, signal),
      withTimeout(this.callTimeoutMs, 'tasks', (abortSignal) => docker.listTasks({ filters: { 'desired-state': ['running', 'shutdown'] }, abortSignal }) as Promise<SwarmTaskJson[]>, undefined, signal),
    ]);
    if (this.stopped) return;
    this.stats.rebuilds++;
    this.lastProblem = '';
    if (!this.activeValue) this.logger.info({ host: this.host, services: services.length }, 'the Docker engine is a swarm manager: discovering services');
    this.publish(true, toSwarmRecords(services, tasks, this.host, this.opts.remoteAddress));
  }

  private publish(active: boolean, records: ContainerRecord[]): void {
    const changedActive = active !== this.activeValue;
    this.activeValue = active;
    if (!changedActive && JSON.stringify(records) === JSON.stringify(this.snapshot)) return;
    const before = new Map(this.snapshot.map((r) => [r.id, r]));
    for (const r of records) if (!before.delete(r.id)) this.logger.info({ host: this.host, container: r.name, task: r.id, state: r.state }, 'swarm task appeared');
    for (const r of before.values()) this.logger.info({ host: this.host, container: r.name, task: r.id }, 'swarm task removed');
    this.snapshot = Object.freeze(records.map((r) => Object.freeze(r)));
    try {
      this.opts.onChange?.();
    } catch (err) {
      this.logger.error({ host: this.host, err }, 'swarm snapshot listener threw');
    }
  }

  /** Keeps an events stream open (reconnecting after `reconnectMs`); the poll covers its gaps. */
  private subscribe(): void {
    if (this.stopped) return;
    const reconnect = (err: unknown): void => {
      if (this.stopped) return;
      this.stream = undefined;
      this.logger.debug({ host: this.host, err }, 'swarm events stream ended; reconnecting');
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.subscribe();
        this.trigger();
      }, this.opts.reconnectMs ?? 2_000);
      this.timers.add(t);
    };
    withTimeout(this.callTimeoutMs, 'events', (abortSignal) =>
      this.opts.docker.getEvents({ filters: { type: ['service', 'node', 'container'] }, abortSignal }), undefined, this.ac.signal).then(
      (s) => {
        const stream = s as Readable;
        this.stream = stream;
        const parser = new EventLineParser();
        let ended = false;
        const end = (err: unknown): void => {
          if (ended) return;
          ended = true;
          stream.destroy();
          reconnect(err);
        };
        stream.on('data', (chunk: Buffer | string) => {
          for (const ev of parser.push(typeof chunk === 'string' ? chunk : chunk.toString('utf8')).events) this.onEvent(ev);
        });
        stream.on('error', end);
        stream.on('end', () => end(new DockerError('DOCKER_STREAM_ENDED', 'swarm events stream ended', { op: 'events' })));
        stream.on('close', () => end(new DockerError('DOCKER_STREAM_ENDED', 'swarm events stream closed', { op: 'events' })));
      },
      reconnect,
    );
  }

  private onEvent(ev: DockerEventMessage): void {
    if (ev.Type === 'container') {
      if (ev.Actor?.Attributes?.['com.docker.swarm.service.id'] === undefined) return;
      const action = ev.Action ?? ev.status ?? '';
      if (!['start', 'die', 'stop', 'kill', 'destroy', 'health_status'].some((a) => action.startsWith(a))) return;
      this.stats.events++;
      this.trigger(this.opts.coalesceMs ?? 50);
      // The manager records a dead task a moment after its container died.
      this.trigger(1_000);
      return;
    }
    this.stats.events++;
    this.trigger(this.opts.coalesceMs ?? 50);
  }
}

/** GET /info with a deadline: dockerode takes the signal, its typings do not say so. */
function engineInfo(docker: Docker, abortSignal: AbortSignal): Promise<unknown> {
  const info = docker.info.bind(docker) as unknown as (opts: { abortSignal: AbortSignal }) => Promise<unknown>;
  return info({ abortSignal });
}
