// Several Docker hosts feed one route table: one watcher per host, their snapshots merged into
// one immutable list. A container ID is only unique per host, so callers key members by
// recordKey() (host + ID).
import type Docker from 'dockerode';
import type { ContainerRecord, SelfInfo } from './container-record.ts';
import { detectSelf } from './detect-self.ts';
import { ContainerControl } from './container-control.ts';
import { closeDockerClient, dockerClientFor, parseDockerHost, type DockerHostTarget } from './docker-host.ts';
import { DockerWatcher, type DockerWatcherOptions, type DockerWatcherStatus } from './docker-watcher.ts';
import { SWARM_TASK_LABEL } from './swarm-records.ts';
import { SwarmWatcher, type SwarmMode } from './swarm-watcher.ts';
import { SwarmServiceControl } from './swarm-control.ts';
import { silentLogger, type Logger } from '../../pkg/log/index.ts';

/** Unique key of a container across hosts: `<dockerHost>#<container id>`. */
export function recordKey(record: Pick<ContainerRecord, 'dockerHost' | 'id'>): string {
  return `${record.dockerHost}#${record.id}`;
}

export interface DockerHubOptions extends Omit<DockerWatcherOptions, 'host' | 'docker' | 'remoteAddress' | 'onChange'> {
  /** `docker.hosts`; duplicates are ignored. Empty: no Docker (file routes only). */
  hosts: readonly string[];
  /** Receives the merged list of every host's containers after any host changed. */
  onChange?: (records: readonly ContainerRecord[]) => void;
  /** For tests: builds the client for a host. */
  clientFor?: (target: DockerHostTarget) => Docker;
  /** `docker.swarm`: discover swarm services on hosts that are managers (default auto). */
  swarm?: SwarmMode | undefined;
  /** Swarm rebuild period (tests). Default 5 s. */
  swarmPollMs?: number | undefined;
}

/** Runs one DockerWatcher per host and merges their snapshots. */
export class DockerHub {
  private readonly watcherList: DockerWatcher[] = [];
  /** Per host (same index as watcherList), when docker.swarm is not off. */
  private readonly swarmList: Array<SwarmWatcher | undefined> = [];
  private readonly controls = new Map<string, ContainerControl>();
  private readonly serviceControls = new Map<string, SwarmServiceControl>();
  private readonly clients: Docker[] = [];
  private readonly hubLogger: Logger;
  private merged: readonly ContainerRecord[] = Object.freeze([]);
  private readonly onChangeCb: ((records: readonly ContainerRecord[]) => void) | undefined;

  /** Throws (plain Error) when a host string cannot be parsed: that is a config error. */
  constructor(opts: DockerHubOptions) {
    this.onChangeCb = opts.onChange;
    this.hubLogger = opts.logger ?? silentLogger;
    const { hosts, clientFor, onChange: _onChange, swarm = 'auto', swarmPollMs, ...watcherOpts } = opts;
    const seen = new Set<string>();
    // No hosts means no Docker at all (file routes only), as internal/config defines it.
    for (const raw of hosts) {
      const target = parseDockerHost(raw);
      if (seen.has(target.host)) continue;
      seen.add(target.host);
      // One client per host, shared by its watcher and its ContainerControl.
      const docker = clientFor?.(target) ?? dockerClientFor(target);
      const common = { host: target.host, docker };
      this.clients.push(docker);
      const logger = opts.logger ?? silentLogger;
      this.watcherList.push(new DockerWatcher({ ...watcherOpts, ...common, onChange: () => this.remerge() }));
      this.swarmList.push(swarm === 'off' ? undefined : new SwarmWatcher({
        ...common, mode: swarm, remoteAddress: target.remoteAddress, logger, onChange: () => this.remerge(), callTimeoutMs: opts.callTimeoutMs, pollMs: swarmPollMs,
      }));
      this.controls.set(target.host, new ContainerControl({ ...common, logger, ...(opts.callTimeoutMs !== undefined ? { callTimeoutMs: opts.callTimeoutMs } : {}) }));
      if (swarm !== 'off') this.serviceControls.set(target.host, new SwarmServiceControl({ ...common, logger, callTimeoutMs: opts.callTimeoutMs }));
    }
  }

  /** Bellhop's own networks, asked of the first host (the local engine in a normal setup). */
  async detectSelf(): Promise<SelfInfo> {
    const docker = this.clients[0];
    if (!docker) return { networks: [] };
    return detectSelf({ docker, logger: this.hubLogger });
  }

  start(): void {
    for (const w of this.watcherList) w.start();
    for (const w of this.swarmList) w?.start();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.watcherList.map((w) => w.stop()), ...this.swarmList.map((w) => w?.stop())]);
    // ssh:// hosts keep one SSH connection open; the ContainerControls reconnect if used later.
    for (const docker of this.clients) closeDockerClient(docker);
  }

  /** Every host's containers, host order then name order; replaced on every change. */
  records(): readonly ContainerRecord[] {
    return this.merged;
  }

  watchers(): readonly DockerWatcher[] {
    return this.watcherList;
  }

  status(): DockerWatcherStatus[] {
    return this.watcherList.map((w) => w.status());
  }

  /** The worst (largest) secondsSinceLastSync over all hosts. */
  secondsSinceLastSync(): number {
    return Math.max(0, ...this.watcherList.map((w) => w.secondsSinceLastSync()));
  }

  /** Resolves once every host has synced at least once (or was stopped). */
  async whenSynced(): Promise<void> {
    await Promise.all([...this.watcherList.map((w) => w.whenSynced()), ...this.swarmList.map((w) => w?.whenSynced())]);
  }

  /** The ContainerControl for a record's host (record.dockerHost). */
  control(dockerHost: string): ContainerControl | undefined {
    return this.controls.get(dockerHost);
  }

  /** The swarm service control for a record's host (undefined where docker.swarm is off). */
  serviceControl(dockerHost: string): SwarmServiceControl | undefined {
    return this.serviceControls.get(dockerHost);
  }

  /** The swarm watchers (undefined where docker.swarm is off), in host order. */
  swarmWatchers(): ReadonlyArray<SwarmWatcher | undefined> {
    return this.swarmList;
  }

  private remerge(): void {
    // On a swarm manager, task containers are discovered as tasks of their service (with the
    // service's labels and the slot's name): their container records would be duplicates.
    this.merged = Object.freeze(this.watcherList.flatMap((w, i) => {
      const swarm = this.swarmList[i];
      if (!swarm?.active) return w.records();
      return [...w.records().filter((r) => r.labels[SWARM_TASK_LABEL] === undefined), ...swarm.records()];
    }));
    this.onChangeCb?.(this.merged);
  }
}
