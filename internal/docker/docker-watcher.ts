// Watches one Docker host and keeps an immutable snapshot of its containers.
//
// Event-first: the /events stream is opened before the containers are listed, so a change
// between the list and the subscription cannot be missed (Traefik lists first and has exactly
// that gap). Events only name containers to re-inspect; bursts are coalesced into one batch of
// bounded inspects and one new snapshot. Any stream end, error or failed ping ends the session:
// reconnect at once, then with jittered exponential backoff (cap 30 s), and resync fully every
// time. The last good snapshot stays in place meanwhile, so routes keep being served.
import type Docker from 'dockerode';
import type { Readable } from 'node:stream';
import type { ContainerRecord } from './container-record.ts';
import { withTimeout } from './call-timeout.ts';
import { EVENT_FILTERS, EventLineParser, affectedContainer } from './docker-event.ts';
import { DockerError, toDockerError } from './docker-error.ts';
import { DEFAULT_DOCKER_HOST, closeDockerClient, dockerClientFor, parseDockerHost, pingDocker } from './docker-host.ts';
import { IdCoalescer } from './id-coalescer.ts';
import { InspectOrder } from './inspect-order.ts';
import { silentLogger, type Logger } from '../../pkg/log/index.ts';
import { toContainerRecord } from './to-container-record.ts';

export type DockerWatcherState = 'connecting' | 'synced' | 'disconnected' | 'stopped';

export interface DockerWatcherStatus {
  host: string;
  state: DockerWatcherState;
  /** ms since epoch of the last time the snapshot was confirmed current; undefined before the first sync. */
  lastSyncAt: number | undefined;
  lastError: { code: string; message: string; at: number } | undefined;
  containers: number;
  /** Sessions started after the first one. */
  reconnects: number;
}

export interface DockerWatcherOptions {
  /** Docker host string; default unix:///var/run/docker.sock. */
  host?: string;
  /** A ready client (tests); built from `host` otherwise. */
  docker?: Docker;
  /** Overrides the address derived from `host` (tcp:// and ssh:// hosts). */
  remoteAddress?: string;
  logger?: Logger;
  /** Receives every new snapshot (same reference as records()). */
  onChange?: (records: readonly ContainerRecord[]) => void;
  /** Deadline for each API call (list, inspect, ping, opening the stream). Default 10 s. */
  callTimeoutMs?: number;
  /** Event coalescing window. Default 30 ms. */
  coalesceMs?: number;
  /** Parallel inspects (all batches together). Default 8. */
  inspectConcurrency?: number;
  /** First backoff step after an immediate reconnect failed. Default 500 ms. */
  backoffInitialMs?: number;
  /** Backoff cap. Default 30 s. */
  backoffMaxMs?: number;
  /** A synced session must last this long before the next failure reconnects at once again. Default 5 s. */
  stableMs?: number;
  /** Liveness ping while the stream is open (a silently dead TCP peer never ends the stream). Default 30 s; 0 disables. */
  pingIntervalMs?: number;
  /** Retries of a failed (non-404) inspect before waiting for the next event. Default 4. */
  inspectRetries?: number;
  /** For tests: jitter source. */
  random?: () => number;
}

/** `seq`: the inspect's place in the session's InspectOrder. */
type InspectOutcome = { seq: number } & ({ kind: 'record'; record: ContainerRecord } | { kind: 'gone' } | { kind: 'error'; err: DockerError });

/** Keeps the container snapshot of one Docker host current. Never throws from background work. */
export class DockerWatcher {
  readonly host: string;
  private readonly docker: Docker;
  /** Built here from `host` (not handed in): stop() closes what it keeps open (ssh://). */
  private readonly ownsClient: boolean;
  private readonly remoteAddress: string | undefined;
  private readonly logger: Logger;
  private readonly onChangeCb: ((records: readonly ContainerRecord[]) => void) | undefined;
  private readonly callTimeoutMs: number;
  private readonly coalesceMs: number;
  private readonly concurrency: number;
  private readonly backoffInitialMs: number;
  private readonly backoffMaxMs: number;
  private readonly stableMs: number;
  private readonly pingIntervalMs: number;
  private readonly inspectRetries: number;
  private readonly random: () => number;

  private byId = new Map<string, ContainerRecord>();
  private snapshot: readonly ContainerRecord[] = Object.freeze([]);
  private stateValue: DockerWatcherState = 'connecting';
  private lastErrorValue: DockerWatcherStatus['lastError'];
  private lastSyncAtValue: number | undefined;
  private sessions = 0;
  private generation = 0;
  private started = false;
  private stopped = false;
  private loopDone: Promise<void> | undefined;
  private sessionAbort: AbortController | undefined;
  private wake: (() => void) | undefined;
  private syncWaiters: Array<() => void> = [];
  private readonly retryTimers = new Map<string, NodeJS.Timeout>();
  /** The current session's event queue (set while a session runs): where inspect retries go. */
  private requeue: ((id: string) => void) | undefined;
  private readonly retryCounts = new Map<string, number>();
  /** Inspects running now, and the ones waiting for a slot (bounded by `concurrency`). */
  private inspecting = 0;
  private readonly inspectQueue: Array<() => void> = [];
  /** Counters for tests and metrics. */
  readonly stats = { snapshots: 0, inspects: 0, fullSyncs: 0, events: 0, ignoredEvents: 0 };

  constructor(opts: DockerWatcherOptions = {}) {
    const target = parseDockerHost(opts.host ?? DEFAULT_DOCKER_HOST);
    this.host = target.host;
    this.docker = opts.docker ?? dockerClientFor(target);
    this.ownsClient = opts.docker === undefined;
    this.remoteAddress = opts.remoteAddress ?? target.remoteAddress;
    this.logger = opts.logger ?? silentLogger;
    this.onChangeCb = opts.onChange;
    this.callTimeoutMs = opts.callTimeoutMs ?? 10_000;
    this.coalesceMs = opts.coalesceMs ?? 30;
    this.concurrency = Math.max(1, opts.inspectConcurrency ?? 8);
    this.backoffInitialMs = opts.backoffInitialMs ?? 500;
    this.backoffMaxMs = opts.backoffMaxMs ?? 30_000;
    this.stableMs = opts.stableMs ?? 5_000;
    this.pingIntervalMs = opts.pingIntervalMs ?? 30_000;
    this.inspectRetries = opts.inspectRetries ?? 4;
    this.random = opts.random ?? Math.random;
  }

  /** Starts watching in the background. Idempotent. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.loopDone = this.loop().catch((err: unknown) => {
      // The loop catches everything itself; this is the last line of defence.
      this.logger.error({ host: this.host, err }, 'Docker watcher loop failed unexpectedly');
    });
  }

  /** Stops watching and closes the events stream. The last snapshot stays readable. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stateValue = 'stopped';
    this.sessionAbort?.abort();
    this.wake?.();
    for (const t of this.retryTimers.values()) clearTimeout(t);
    this.retryTimers.clear();
    await this.loopDone;
    if (this.ownsClient) closeDockerClient(this.docker);
    for (const w of this.syncWaiters.splice(0)) w();
  }

  /** The current snapshot: an immutable array, replaced (never mutated) on every change. */
  records(): readonly ContainerRecord[] {
    return this.snapshot;
  }

  get state(): DockerWatcherState {
    return this.stateValue;
  }

  get lastSyncAt(): number | undefined {
    return this.lastSyncAtValue;
  }

  /** Seconds since the snapshot was last confirmed current (Infinity before the first sync). */
  secondsSinceLastSync(): number {
    return this.lastSyncAtValue === undefined ? Infinity : (Date.now() - this.lastSyncAtValue) / 1000;
  }

  status(): DockerWatcherStatus {
    return {
      host: this.host,
      state: this.stateValue,
      lastSyncAt: this.lastSyncAtValue,
      lastError: this.lastErrorValue,
      containers: this.snapshot.length,
      reconnects: Math.max(0, this.sessions - 1),
    };
  }

  /** Resolves when the watcher is synced (at once if it is), or when it is stopped. */
  whenSynced(): Promise<void> {
    if (this.stateValue === 'synced' || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  private async loop(): Promise<void> {
    let attempt = 0;
    while (!this.stopped) {
      const gen = ++this.generation;
      const ac = new AbortController();
      this.sessionAbort = ac;
      this.sessions++;
      let syncedAt: number | undefined;
      const wasSynced = this.lastSyncAtValue !== undefined;
      try {
        await this.session(gen, ac, () => {
          syncedAt = Date.now();
        });
      } catch (err) {
        if (this.stopped) break;
        const derr = toDockerError(err, 'watch');
        this.lastErrorValue = { code: derr.code, message: derr.message, at: Date.now() };
        this.clearRetries();
        this.stateValue = 'disconnected';
        if (syncedAt !== undefined) {
          this.logger.error({ host: this.host, code: derr.code, err: derr, containers: this.snapshot.length },
            `Docker connection lost (${derr.code}); keeping ${this.snapshot.length} containers and reconnecting`);
        } else {
          this.logger.error({ host: this.host, code: derr.code, err: derr, attempt, containers: this.snapshot.length },
            wasSynced ? 'Docker is unreachable; keeping the last known containers and retrying' : 'Docker is unreachable; no containers known yet, retrying');
        }
      } finally {
        ac.abort();
      }
      if (this.stopped) break;
      if (syncedAt !== undefined && Date.now() - syncedAt >= this.stableMs) attempt = 0;
      const delay = attempt === 0 ? 0 : this.backoffDelay(attempt);
      attempt++;
      if (delay > 0) {
        this.logger.warn({ host: this.host, retryInMs: Math.round(delay), attempt }, 'reconnecting to Docker after backoff');
        await this.sleep(delay);
      }
    }
    this.stateValue = 'stopped';
  }

  /** Full jitter between half and all of the exponential step, capped. */
  private backoffDelay(attempt: number): number {
    const step = Math.min(this.backoffMaxMs, this.backoffInitialMs * 2 ** (attempt - 1));
    return step / 2 + (step / 2) * this.random();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }

  /** One connection: subscribe, list, inspect, then follow events until the stream fails. */
  private async session(gen: number, ac: AbortController, onSynced: () => void): Promise<void> {
    this.stateValue = 'connecting';
    const signal = ac.signal;
    const stream = (await withTimeout(this.callTimeoutMs, 'events', (abortSignal) =>
      this.docker.getEvents({ filters: { type: [...EVENT_FILTERS.type] }, abortSignal }), undefined, signal)) as Readable;

    let syncing = true;
    const early = new Set<string>();
    const order = new InspectOrder();
    const coalescer = new IdCoalescer<Map<string, InspectOutcome>>({
      windowMs: this.coalesceMs,
      fetch: (ids) => this.inspectAll(ids, signal, order),
      apply: (outcomes) => this.applyOutcomes(gen, outcomes, signal, order),
      onError: (err) => this.logger.error({ host: this.host, err }, 'applying Docker events failed'),
    });
    const parser = new EventLineParser();
    let pingTimer: NodeJS.Timeout | undefined;
    // Inspect retries are inspects like any other (InspectOrder): a slow retry can never commit
    // after (and over) a newer event's result.
    this.requeue = (id) => {
      if (syncing) early.add(id);
      else coalescer.add(id);
    };

    const ended = new Promise<never>((_, reject) => {
      stream.on('data', (chunk: Buffer | string) => {
        const { events, bad } = parser.push(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
        if (bad > 0) this.logger.warn({ host: this.host, bad }, 'unreadable line in the Docker events stream');
        for (const ev of events) {
          this.stats.events++;
          const id = affectedContainer(ev);
          if (id === undefined) {
            this.stats.ignoredEvents++;
            continue;
          }
          this.logger.debug({ host: this.host, container: this.byId.get(id)?.name ?? id, containerId: id, action: ev.Action ?? ev.status, type: ev.Type }, 'docker event');
          if (syncing) early.add(id);
          else coalescer.add(id);
        }
      });
      stream.on('end', () => reject(new DockerError('DOCKER_STREAM_ENDED', 'Docker events stream ended (EOF)', { op: 'events' })));
      stream.on('error', (err) => reject(toDockerError(err, 'events')));
      stream.on('close', () => reject(new DockerError('DOCKER_STREAM_ENDED', 'Docker events stream closed', { op: 'events' })));
      signal.addEventListener('abort', () => reject(new DockerError('DOCKER_ABORTED', 'watcher stopped', { op: 'events' })), { once: true });
    });
    ended.catch(() => undefined); // observed below; this only keeps it from counting as unhandled meanwhile

    try {
      // Full resync; if the stream dies while we list, stop listing and reconnect.
      await Promise.race([this.fullSync(gen, signal, order), ended]);
      if (gen !== this.generation || this.stopped) return;
      syncing = false;
      this.stateValue = 'synced';
      onSynced();
      for (const w of this.syncWaiters.splice(0)) w();
      for (const id of early) coalescer.add(id);
      early.clear();
      if (this.pingIntervalMs > 0) {
        pingTimer = setInterval(() => {
          withTimeout(this.callTimeoutMs, 'ping', (abortSignal) => pingDocker(this.docker, abortSignal), undefined, signal).then(
            () => {
              if (gen === this.generation && this.stateValue === 'synced') this.lastSyncAtValue = Date.now();
            },
            (err: unknown) => stream.destroy(toDockerError(err, 'ping')),
          );
        }, this.pingIntervalMs);
      }
      await ended;
    } finally {
      this.requeue = undefined;
      clearInterval(pingTimer);
      coalescer.close();
      stream.removeAllListeners('data');
      stream.on('error', () => undefined);
      stream.destroy();
    }
  }

  private async fullSync(gen: number, signal: AbortSignal, order: InspectOrder): Promise<void> {
    const list = await withTimeout(this.callTimeoutMs, 'list', (abortSignal) => this.docker.listContainers({ all: true, abortSignal }), undefined, signal);
    const ids = list.map((c) => c.Id);
    const outcomes = await this.inspectAll(ids, signal, order);
    // An aborted session inspected only part of the list: never publish that as the truth.
    if (signal.aborted || gen !== this.generation || this.stopped) return;
    const next = new Map<string, ContainerRecord>();
    let failed = 0;
    let changed = this.stats.fullSyncs === 0;
    for (const [id, outcome] of outcomes) {
      order.accept(id, outcome.seq); // the session's first inspects: always the newest
      if (outcome.kind === 'gone') order.forget(id);
      if (outcome.kind === 'record') {
        // Unchanged containers keep their record object, so consumers can diff by identity.
        const prev = this.byId.get(id);
        const same = prev !== undefined && JSON.stringify(prev) === JSON.stringify(outcome.record);
        next.set(id, same ? prev : outcome.record);
        if (!same) changed = true;
      } else if (outcome.kind === 'error') {
        failed++;
        // Keep what we knew; the retry below refreshes it once the engine answers again.
        const prev = this.byId.get(id);
        if (prev) next.set(id, prev);
      }
    }
    if (next.size !== this.byId.size) changed = true;
    this.stats.fullSyncs++;
    this.lastSyncAtValue = Date.now();
    // A resync that found nothing new keeps the snapshot reference: no needless table rebuild.
    if (changed) this.commit(next, true);
    this.logger.info({ host: this.host, containers: next.size, failedInspects: failed, reconnects: Math.max(0, this.sessions - 1) }, 'Docker containers synced');
    for (const [id, outcome] of outcomes) if (outcome.kind === 'error') this.scheduleRetry(gen, id, outcome.err);
  }

  /** Publishes what re-inspecting the containers a batch of events named found. */
  private applyOutcomes(gen: number, outcomes: Map<string, InspectOutcome>, signal: AbortSignal, order: InspectOrder): void {
    if (signal.aborted || gen !== this.generation || this.stopped) return;
    const next = new Map(this.byId);
    let changed = false;
    for (const [id, outcome] of outcomes) {
      // An answer older than the one already applied for this container came late: drop it.
      if (!order.accept(id, outcome.seq)) {
        if (!next.has(id)) order.forget(id);
        continue;
      }
      if (outcome.kind === 'record') {
        this.retryCounts.delete(id);
        const prev = next.get(id);
        if (!prev || JSON.stringify(prev) !== JSON.stringify(outcome.record)) {
          next.set(id, outcome.record);
          changed = true;
        }
      } else if (outcome.kind === 'gone') {
        this.retryCounts.delete(id);
        if (next.delete(id)) changed = true;
        order.forget(id);
      } else {
        this.scheduleRetry(gen, id, outcome.err);
      }
    }
    this.lastSyncAtValue = Date.now();
    if (changed) this.commit(next, false);
  }

  private scheduleRetry(gen: number, id: string, err: DockerError): void {
    const count = (this.retryCounts.get(id) ?? 0) + 1;
    this.retryCounts.set(id, count);
    const name = this.byId.get(id)?.name ?? id;
    if (count > this.inspectRetries) {
      this.retryCounts.delete(id);
      this.logger.error({ host: this.host, container: name, containerId: id, code: err.code, err }, 'inspecting container keeps failing; keeping its last known state until its next event');
      return;
    }
    const delay = Math.min(this.backoffMaxMs, this.backoffInitialMs * 2 ** (count - 1));
    this.logger.warn({ host: this.host, container: name, containerId: id, code: err.code, err, retryInMs: delay }, 'inspecting container failed; will retry');
    clearTimeout(this.retryTimers.get(id));
    this.retryTimers.set(id, setTimeout(() => {
      this.retryTimers.delete(id);
      if (gen !== this.generation || this.stopped) return;
      this.requeue?.(id);
    }, delay));
  }

  private clearRetries(): void {
    for (const t of this.retryTimers.values()) clearTimeout(t);
    this.retryTimers.clear();
    this.retryCounts.clear();
  }

  /** Inspects `ids`; batches may overlap, so the concurrency bound is shared by all of them. */
  private async inspectAll(ids: readonly string[], signal: AbortSignal, order: InspectOrder): Promise<Map<string, InspectOutcome>> {
    const out = new Map<string, InspectOutcome>();
    await Promise.all(ids.map(async (id) => {
      await this.inspectSlot();
      try {
        // Numbered when sent (not when queued for a slot): sent later means it saw more events.
        if (!signal.aborted) out.set(id, await this.inspectOne(id, signal, order.issue(id)));
      } finally {
        this.inspecting--;
        this.inspectQueue.shift()?.();
      }
    }));
    // Map order = ids order, whatever order the answers came in.
    return new Map(ids.flatMap((id) => (out.has(id) ? [[id, out.get(id)!] as const] : [])));
  }

  private inspectSlot(): Promise<void> {
    if (this.inspecting < this.concurrency) {
      this.inspecting++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.inspectQueue.push(() => {
      this.inspecting++;
      resolve();
    }));
  }

  private async inspectOne(id: string, signal: AbortSignal, seq: number): Promise<InspectOutcome> {
    this.stats.inspects++;
    try {
      const info = await withTimeout(this.callTimeoutMs, 'inspect', (abortSignal) => this.docker.getContainer(id).inspect({ abortSignal }), id, signal);
      return { seq, kind: 'record', record: freezeRecord(toContainerRecord(info, this.host, this.remoteAddress)) };
    } catch (err) {
      const derr = toDockerError(err, 'inspect', id);
      if (derr.code === 'DOCKER_NOT_FOUND') return { seq, kind: 'gone' };
      return { seq, kind: 'error', err: derr };
    }
  }

  private commit(next: Map<string, ContainerRecord>, full: boolean): void {
    const before = this.byId;
    this.byId = next;
    this.snapshot = Object.freeze([...next.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : 1)));
    this.stats.snapshots++;
    if (!full) {
      for (const [id, r] of next) {
        const prev = before.get(id);
        if (prev !== r) this.logger.info({ host: this.host, container: r.name, containerId: id, state: r.state, health: r.dockerHealth }, prev ? 'container changed' : 'container appeared');
      }
      for (const [id, r] of before) if (!next.has(id)) this.logger.info({ host: this.host, container: r.name, containerId: id }, 'container removed');
    }
    if (!this.onChangeCb) return;
    try {
      this.onChangeCb(this.snapshot);
    } catch (err) {
      this.logger.error({ host: this.host, err }, 'Docker snapshot listener threw');
    }
  }
}

function freezeRecord(r: ContainerRecord): ContainerRecord {
  Object.freeze(r.labels);
  for (const n of r.networks) Object.freeze(n);
  Object.freeze(r.networks);
  Object.freeze(r.exposedPorts);
  Object.freeze(r.publishedPorts);
  if (r.udpPorts !== undefined) Object.freeze(r.udpPorts);
  Object.freeze(r.composeDependsOn);
  return Object.freeze(r);
}
