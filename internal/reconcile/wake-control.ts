// The wake module's WakeControl over internal/docker's ContainerControl. A container is
// controlled through the Docker host discovery lists it on, and only if Bellhop sees it at all
// (docker.label_filter). After a start Docker may hand out a new address: `inspect` runs the
// same label parser, with the same options, over the fresh record, so the network and port
// chosen for the wake are the ones discovery will choose.
import { toSwarmRecords, type ContainerControl, type ContainerRecord, type SwarmServiceControl } from '../docker/index.ts';
import { parseContainers, type ParseOptions } from '../labels/index.ts';
import type { ServiceWakeControl, WakeControl, WakeInspect } from '../wake/index.ts';

/** The ContainerControl calls waking and sleeping use. */
export type ContainerActions = Pick<ContainerControl, 'start' | 'stop' | 'kill' | 'pause' | 'unpause' | 'inspect' | 'logsTail'>;

export interface WakeControlSources {
  /** The containers Bellhop sees (the reconciler's `visible()`). */
  records(): readonly ContainerRecord[];
  /** The control of one Docker host, by its URL (DockerHub's `control`). */
  control(dockerHost: string): ContainerActions | undefined;
  /** The label parser options discovery uses (the reconciler's `parseOptions()`). */
  parseOptions(): ParseOptions;
}

export function createWakeControl(src: WakeControlSources): WakeControl {
  const controlFor = (id: string): ContainerActions => {
    const host = src.records().find((r) => r.id === id)?.dockerHost;
    const c = host === undefined ? undefined : src.control(host);
    if (!c) throw new Error(`container ${id} is not known on any Docker host`);
    return c;
  };
  return {
    start: (id) => controlFor(id).start(id),
    stop: (id, o) => controlFor(id).stop(id, o.signal === undefined ? { timeoutSec: o.timeoutSec } : { timeoutSec: o.timeoutSec, signal: o.signal }),
    kill: (id, s) => controlFor(id).kill(id, s),
    pause: (id) => controlFor(id).pause(id),
    unpause: (id) => controlFor(id).unpause(id),
    logsTail: (id, n) => controlFor(id).logsTail(id, n),
    async inspect(id): Promise<WakeInspect> {
      const rec = await controlFor(id).inspect(id);
      const parsed = parseContainers([rec], src.parseOptions());
      // Member ids are stable for a container and port, so these match the route table's members
      // (which list a stopped container without an address until discovery re-syncs).
      const urls: Record<string, string> = {};
      for (const m of [...parsed.routes, ...parsed.streams].flatMap((r) => r.members)) if (m.container?.id === id && m.url !== '') urls[m.id] = m.url;
      const url = Object.values(urls)[0];
      let host: string | undefined;
      if (url) host = new URL(url).hostname.replace(/^\[|\]$/g, '');
      return { state: rec.state, host, urls, dockerHealth: rec.dockerHealth, exitCode: rec.exitCode };
    },
  };
}

/** The SwarmServiceControl calls sleeping and waking a swarm service use. */
export type ServiceActions = Pick<SwarmServiceControl, 'scaleUp' | 'scaleDown' | 'inspect' | 'logsTail'>;

export interface ServiceWakeControlSources {
  /** The records Bellhop sees (the reconciler's `visible()`): a service is known by its tasks' records. */
  records(): readonly ContainerRecord[];
  /** The swarm service control of one Docker host (DockerHub's `serviceControl`). */
  control(dockerHost: string): ServiceActions | undefined;
  parseOptions(): ParseOptions;
}

/**
 * The wake module's service variant over internal/docker's SwarmServiceControl. `inspect` maps
 * the fresh service and tasks to records and runs the label parser over them, like the container
 * variant: the URL of a running task is given under the member ids of the service's address-less
 * record too (the members a sleeping service is listed with), so the wake probes that task and
 * the held requests are sent to it before discovery lists it.
 */
export function createServiceWakeControl(src: ServiceWakeControlSources): ServiceWakeControl {
  const find = (id: string): { rec: ContainerRecord; control: ServiceActions } => {
    const rec = src.records().find((r) => r.swarmService?.id === id);
    const control = rec === undefined ? undefined : src.control(rec.dockerHost);
    if (rec === undefined || control === undefined) throw new Error(`swarm service ${id} is not known on any Docker host`);
    return { rec, control };
  };
  return {
    scaleUp: async (id) => find(id).control.scaleUp(id),
    scaleDown: async (id, o) => find(id).control.scaleDown(id, o),
    logsTail: async (id, n) => find(id).control.logsTail(id, n),
    async inspect(id): Promise<WakeInspect> {
      const { rec, control } = find(id);
      const { service, tasks } = await control.inspect(id);
      const running = tasks.filter((t) => t.Status?.State === 'running');
      const replicas = service.Spec?.Mode?.Replicated?.Replicas;
      const state = running.length > 0 ? 'running' : replicas === 0 ? 'exited' : 'created';
      const records = toSwarmRecords([service], running, rec.dockerHost, rec.remoteAddress);
      const parsed = parseContainers(records, src.parseOptions());
      const urls: Record<string, string> = {};
      let serviceMembersFrom: string | undefined;
      for (const m of parsed.routes.flatMap((r) => r.members)) {
        const taskId = m.container?.id;
        if (taskId === undefined || taskId === id || m.url === '') continue;
        urls[m.id] = m.url;
        serviceMembersFrom ??= taskId;
        if (taskId === serviceMembersFrom && m.id.startsWith(taskId)) urls[id + m.id.slice(taskId.length)] = m.url;
      }
      return { state, urls };
    },
  };
}
