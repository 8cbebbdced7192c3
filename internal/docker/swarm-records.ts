// Pure mapping of Docker Swarm services and tasks (GET /services, GET /tasks) to the same
// ContainerRecords containers produce, so labels/, health and balancing work unchanged
// (docs/discovery.md, Docker Swarm). One record per running task, named `<service>.<slot>`:
// - labels are the service's (`Spec.Labels`, compose `deploy.labels`), not the container's;
// - the service is the pool: composeService = the service name, composeProject = the stack
//   namespace ('' outside a stack), composeReplica = the slot;
// - addresses come from the task's network attachments; the ingress routing mesh is never a
//   member address (every published port is on it, Bellhop's own too when it is a service).
// A service without any running task still yields one record (the service ID, state
// 'exited', no address): its route stays while the service exists, so a scale to 0 or a
// stop-first update answers 503 or holds requests, never 404.

import type { ContainerNetwork, ContainerRecord } from './container-record.ts';

/** The fields of GET /services that discovery reads (Docker Engine API wire format). */
export interface SwarmServiceJson {
  ID: string;
  CreatedAt?: string;
  Spec?: {
    Name?: string;
    Labels?: Record<string, string> | null;
    TaskTemplate?: { ContainerSpec?: { Image?: string } };
    Mode?: { Replicated?: { Replicas?: number }; Global?: object };
    EndpointSpec?: { Ports?: Array<{ Protocol?: string; TargetPort?: number; PublishedPort?: number }> | null };
  };
  Endpoint?: { Ports?: Array<{ Protocol?: string; TargetPort?: number; PublishedPort?: number }> | null };
}

/** The fields of GET /tasks that discovery reads. */
export interface SwarmTaskJson {
  ID: string;
  ServiceID?: string;
  NodeID?: string;
  Slot?: number;
  CreatedAt?: string;
  DesiredState?: string;
  Status?: { State?: string; ContainerStatus?: { ContainerID?: string } };
  Spec?: { ContainerSpec?: { Image?: string } };
  NetworksAttachments?: Array<{ Network?: { ID?: string; Spec?: { Name?: string; Ingress?: boolean } }; Addresses?: string[] | null }> | null;
}

/** Label every swarm task container carries: such containers are discovered as tasks instead. */
export const SWARM_TASK_LABEL = 'com.docker.swarm.task.id';
const STACK_LABEL = 'com.docker.stack.namespace';

function parseTime(value: string | undefined): number {
  const t = value ? Date.parse(value) : NaN;
  return Number.isFinite(t) ? t : 0;
}

/** `nginx:1@sha256:…` → `nginx:1` (swarm pins the digest; labels/ compares image names). */
function imageName(image: string | undefined): string {
  return (image ?? '').replace(/@sha256:[0-9a-f]+$/, '');
}

function taskNetworks(task: SwarmTaskJson): ContainerNetwork[] {
  const out: ContainerNetwork[] = [];
  for (const a of task.NetworksAttachments ?? []) {
    const name = a.Network?.Spec?.Name;
    if (!name || a.Network?.Spec?.Ingress === true) continue;
    const ip = (a.Addresses ?? [])[0]?.replace(/\/\d+$/, '') ?? '';
    out.push({ name, ip });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function servicePorts(service: SwarmServiceJson): { exposed: number[]; published: Record<number, number> } {
  const exposed = new Set<number>();
  const published: Record<number, number> = {};
  for (const p of service.Endpoint?.Ports ?? service.Spec?.EndpointSpec?.Ports ?? []) {
    if ((p.Protocol ?? 'tcp') !== 'tcp' || !p.TargetPort) continue;
    exposed.add(p.TargetPort);
    if (p.PublishedPort) published[p.TargetPort] = p.PublishedPort;
  }
  return { exposed: [...exposed].sort((a, b) => a - b), published };
}

/** A task's member name: `<service>.<slot>`, or `<service>.<node>` for a global service's task. */
export function taskName(serviceName: string, task: SwarmTaskJson): string {
  return task.Slot !== undefined && task.Slot > 0 ? `${serviceName}.${String(task.Slot)}` : `${serviceName}.${(task.NodeID ?? task.ID).slice(0, 12)}`;
}

/**
 * Services and their tasks → records, sorted by name. Every task whose container runs now
 * (Status.State 'running') is a member, also one the manager already wants shut down: in a
 * start-first rolling update the old task keeps serving until its container stops, while the
 * new one passes its first health probe. Dropping it at the manager's decision left the pool
 * with only a 'starting' member for a moment (503s in the e2e test). When it dies, the
 * container event rebuilds the picture and the proxy's retry covers the requests in between.
 */
export function toSwarmRecords(services: readonly SwarmServiceJson[], tasks: readonly SwarmTaskJson[], dockerHost: string, remoteAddress?: string): ContainerRecord[] {
  const tasksBy = new Map<string, SwarmTaskJson[]>();
  for (const t of tasks) {
    if (!t.ServiceID || t.Status?.State !== 'running') continue;
    let list = tasksBy.get(t.ServiceID);
    if (!list) tasksBy.set(t.ServiceID, (list = []));
    list.push(t);
  }
  const out: ContainerRecord[] = [];
  for (const s of services) {
    const name = s.Spec?.Name;
    if (!name) continue;
    const labels: Record<string, string> = { ...(s.Spec?.Labels ?? {}) };
    const { exposed, published } = servicePorts(s);
    const base = {
      dockerHost,
      remoteAddress,
      labels,
      networkMode: 'swarm',
      exposedPorts: exposed,
      publishedPorts: published,
      composeProject: labels[STACK_LABEL] ?? '',
      composeService: name,
      composeDependsOn: [],
      swarmService: { id: s.ID, name, ...(s.Spec?.Mode?.Global !== undefined ? { global: true } : {}) },
    };
    const running = tasksBy.get(s.ID) ?? [];
    if (running.length === 0) {
      out.push({ ...base, id: s.ID, name, image: imageName(s.Spec?.TaskTemplate?.ContainerSpec?.Image), createdAt: parseTime(s.CreatedAt), state: 'exited', networks: [] });
      continue;
    }
    for (const t of running) {
      out.push({
        ...base,
        id: t.ID,
        name: taskName(name, t),
        image: imageName(t.Spec?.ContainerSpec?.Image ?? s.Spec?.TaskTemplate?.ContainerSpec?.Image),
        createdAt: parseTime(t.CreatedAt),
        state: 'running',
        networks: taskNetworks(t),
        composeReplica: t.Slot,
      });
    }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : 1));
}

/** GET /info → whether this engine is a swarm manager that can list services and tasks. */
export function isSwarmManager(info: { Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean } } | undefined): boolean {
  return info?.Swarm?.LocalNodeState === 'active' && info.Swarm.ControlAvailable === true;
}
