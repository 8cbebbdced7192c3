// Pure mapping from `docker inspect` JSON to the ContainerRecord contract. Everything labels/
// needs is resolved here so it never sees dockerode types.
import type Docker from 'dockerode';
import type { ContainerNetwork, ContainerRecord } from './container-record.ts';

/** Maps one `docker inspect` result to a ContainerRecord. Never throws on missing fields. */
export function toContainerRecord(inspect: Docker.ContainerInspectInfo, dockerHost: string, remoteAddress?: string): ContainerRecord {
  const labels: Record<string, string> = { ...(inspect.Config?.Labels ?? {}) };
  const networks = readNetworks(inspect);
  const record: ContainerRecord = {
    id: inspect.Id,
    name: (inspect.Name ?? '').replace(/^\//, ''),
    dockerHost,
    remoteAddress,
    labels,
    image: inspect.Config?.Image || inspect.Image || '',
    createdAt: parseTime(inspect.Created),
    state: readState(inspect.State),
    dockerHealth: readHealth(inspect.State),
    exitCode: typeof inspect.State?.ExitCode === 'number' ? inspect.State.ExitCode : undefined,
    networkMode: readNetworkMode(inspect),
    networks,
    exposedPorts: readExposedPorts(inspect),
    publishedPorts: readPublishedPorts(inspect),
    udpPorts: readUdpPorts(inspect),
    composeProject: labels['com.docker.compose.project'] || undefined,
    composeService: labels['com.docker.compose.service'] || undefined,
    composeReplica: parseReplica(labels['com.docker.compose.container-number']),
    composeDependsOn: parseComposeDependsOn(labels['com.docker.compose.depends_on']),
  };
  return record;
}

/** `db:service_healthy:false,cache:service_started:true` → ['db', 'cache'] (order kept, deduplicated). */
export function parseComposeDependsOn(value: string | undefined): string[] {
  if (!value) return [];
  const out: string[] = [];
  for (const part of value.split(',')) {
    const service = part.split(':')[0]?.trim() ?? '';
    if (service && !out.includes(service)) out.push(service);
  }
  return out;
}

function parseTime(value: string | undefined): number {
  const t = value ? Date.parse(value) : NaN;
  return Number.isFinite(t) ? t : 0;
}

function parseReplica(value: string | undefined): number | undefined {
  if (!value || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

type InspectState = Docker.ContainerInspectInfo['State'] | undefined;

function readState(state: InspectState): string {
  if (!state) return 'unknown';
  if (state.Status) return state.Status;
  // Very old engines have no Status field: derive it from the booleans.
  if (state.Dead) return 'dead';
  if (state.Paused) return 'paused';
  if (state.Restarting) return 'restarting';
  if (state.Running) return 'running';
  return 'exited';
}

function readHealth(state: InspectState): string | undefined {
  const status = state?.Health?.Status;
  return status && status !== 'none' ? status : undefined;
}

function readNetworkMode(inspect: Docker.ContainerInspectInfo): string {
  const mode = inspect.HostConfig?.NetworkMode ?? '';
  // 'default' is what `docker run` without --network records; on Linux it is the bridge.
  if (mode === '' || mode === 'default') return 'bridge';
  return mode;
}

function readNetworks(inspect: Docker.ContainerInspectInfo): ContainerNetwork[] {
  const nets = inspect.NetworkSettings?.Networks ?? {};
  return Object.keys(nets)
    .sort()
    .map((name) => ({ name, ip: nets[name]?.IPAddress ?? '' }));
}

function tcpPort(key: string): number | undefined {
  const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/.exec(key);
  if (!m || (m[2] !== undefined && m[2] !== 'tcp')) return undefined;
  const port = Number(m[1]);
  return port >= 1 && port <= 65535 ? port : undefined;
}

function readExposedPorts(inspect: Docker.ContainerInspectInfo): number[] {
  const keys = new Set(Object.keys(inspect.Config?.ExposedPorts ?? {}));
  const ports = new Set<number>();
  for (const key of keys) {
    const port = tcpPort(key);
    if (port !== undefined) ports.add(port);
  }
  return [...ports].sort((a, b) => a - b);
}

/** Ports exposed or published as `/udp` (the request and what is bound). */
function readUdpPorts(inspect: Docker.ContainerInspectInfo): number[] {
  const keys = [
    ...Object.keys(inspect.Config?.ExposedPorts ?? {}),
    ...Object.keys(inspect.NetworkSettings?.Ports ?? {}),
    ...Object.keys((inspect.HostConfig?.PortBindings ?? {}) as Record<string, unknown>),
  ];
  const ports = new Set<number>();
  for (const key of keys) {
    const m = /^(\d+)\/udp$/.exec(key);
    const port = m === null ? 0 : Number(m[1]);
    if (port >= 1 && port <= 65535) ports.add(port);
  }
  return [...ports].sort((a, b) => a - b);
}

type Bindings = Record<string, Array<{ HostIp?: string; HostPort?: string }> | null | undefined>;

function readPublishedPorts(inspect: Docker.ContainerInspectInfo): Record<number, number> {
  const out: Record<number, number> = {};
  // NetworkSettings.Ports holds what is really bound (random host ports resolved) while the
  // container runs; HostConfig.PortBindings is the request, the only source once it stopped.
  const sources: Array<Bindings | undefined> = [inspect.NetworkSettings?.Ports, inspect.HostConfig?.PortBindings as Bindings | undefined];
  for (const source of sources) {
    for (const [key, bindings] of Object.entries(source ?? {})) {
      const port = tcpPort(key);
      if (port === undefined || out[port] !== undefined || !Array.isArray(bindings)) continue;
      for (const b of bindings) {
        const hostPort = Number(b?.HostPort);
        if (Number.isInteger(hostPort) && hostPort >= 1 && hostPort <= 65535) {
          out[port] = hostPort;
          break;
        }
      }
    }
  }
  return out;
}
