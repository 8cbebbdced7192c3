// A fake Docker Engine API, ONLY for faults a real engine cannot produce on demand: the events
// stream ending or dropping, 500s, hung calls, a socket proxy's 403. It listens on a unix socket
// in a temp dir and speaks the wire format dockerode sees from a real engine (API 1.41): JSON
// bodies, `{"message": ...}` errors, 204/304 on start/stop, 409 on pause-when-paused, a chunked
// newline-delimited /events stream kept open, multiplexed log frames. Paths work with and
// without the /v1.xx prefix.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';

export type FakeRoute = 'ping' | 'version' | 'list' | 'inspect' | 'events' | 'start' | 'stop' | 'pause' | 'unpause' | 'kill' | 'logs';

/** What a faulted route does instead of answering: an HTTP error or no answer at all. */
export type Fault = { status: number; message?: string; times?: number } | { hang: true; times?: number };

export interface FakeContainer {
  inspect: Docker.ContainerInspectInfo;
  /** Log output as [stream 1|2, text] pairs. */
  logs: Array<[1 | 2, string]>;
}

export interface FakeInspectInput {
  id?: string;
  name: string;
  labels?: Record<string, string>;
  state?: 'running' | 'exited' | 'created' | 'paused';
  ip?: string;
  network?: string;
  exposed?: number[];
  networkMode?: string;
  health?: string;
}

/** A realistic `docker inspect` body (API 1.41 shape; only the fields Bellhop reads are varied). */
export function fakeInspect(input: FakeInspectInput): Docker.ContainerInspectInfo {
  const id = input.id ?? randomBytes(32).toString('hex');
  const state = input.state ?? 'running';
  const network = input.network ?? 'bridge';
  const ip = state === 'running' || state === 'paused' ? (input.ip ?? '172.17.0.2') : '';
  const exposed: Record<string, object> = {};
  for (const p of input.exposed ?? [80]) exposed[`${p}/tcp`] = {};
  const networks = input.networkMode === 'host'
    ? { host: { IPAMConfig: null, Links: null, Aliases: null, NetworkID: 'e070a9058af5', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, MacAddress: '', DriverOpts: null } }
    : { [network]: { IPAMConfig: null, Links: null, Aliases: null, NetworkID: 'd8c491dba113f1755238a498dea92520e51764b0c7729e16df3729f79ddf6f61', EndpointID: ip ? 'ep' : '', Gateway: ip ? '172.17.0.1' : '', IPAddress: ip, IPPrefixLen: ip ? 16 : 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, MacAddress: '', DriverOpts: null } };
  const inspect = {
    Id: id,
    Created: '2026-11-22T02:54:55.197837537Z',
    Path: 'httpd',
    Args: ['-f', '-p', '80'],
    State: {
      Status: state,
      Running: state === 'running' || state === 'paused',
      Paused: state === 'paused',
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      Pid: state === 'running' ? 4242 : 0,
      ExitCode: 0,
      Error: '',
      StartedAt: '2026-11-22T02:54:55.332890514Z',
      FinishedAt: '0001-01-01T00:00:00Z',
      ...(input.health ? { Health: { Status: input.health, FailingStreak: 0, Log: [] } } : {}),
    },
    Image: 'sha256:87ae5d4a4eec95d0efb1bfefbe19fce3b82baef9b0ece57d42a0142963588c38',
    Name: `/${input.name}`,
    RestartCount: 0,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    HostConfig: { NetworkMode: input.networkMode ?? 'default', PortBindings: {} },
    Mounts: [],
    Config: {
      Hostname: id.slice(0, 12),
      Image: 'bellhop-test/busybox:1',
      ExposedPorts: exposed,
      Labels: { ...(input.labels ?? {}) },
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      Cmd: ['httpd', '-f', '-p', '80'],
    },
    NetworkSettings: { Bridge: '', SandboxID: '', Ports: {}, IPAddress: ip, Networks: networks },
  };
  return inspect as unknown as Docker.ContainerInspectInfo;
}

export interface FakeDockerApi {
  /** Path of the unix socket. */
  readonly socketPath: string;
  /** `unix://<socketPath>`, usable as a docker.hosts entry. */
  readonly dockerHost: string;
  readonly containers: Map<string, FakeContainer>;
  /** Request paths seen, version prefix removed, e.g. 'GET /containers/json'. */
  readonly requests: string[];
  /** Raw request targets as sent (with any /v1.xx prefix and query). */
  readonly rawPaths: string[];
  /** Calls per route (counted whether or not a fault answered). */
  count(route: FakeRoute): number;
  /** Sets (or clears, with undefined) the fault for a route. `times` limits how often it fires. */
  fault(route: FakeRoute, fault: Fault | undefined): void;
  /** Adds (or replaces) a container; emits `create` + `start` events when `announce` is set. */
  add(inspect: Docker.ContainerInspectInfo, opts?: { announce?: boolean; logs?: Array<[1 | 2, string]> }): void;
  /** Removes a container; emits `destroy` when `announce` is set. */
  remove(id: string, opts?: { announce?: boolean }): void;
  /** Sends one event to every open /events stream. */
  emit(type: string, action: string, id: string, attributes?: Record<string, string>): void;
  /** Ends every open /events response cleanly (EOF). */
  endEvents(): void;
  /** Destroys the sockets of every open /events stream (a dropped connection). */
  dropEvents(): void;
  /** Open /events streams right now. */
  openEventStreams(): number;
  close(): Promise<void>;
}

interface FaultState {
  fault: Fault;
  left: number;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Api-Version': '1.41', Server: 'Docker/27.5.1 (linux)' });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { message });
}

/** Starts the fake engine on a fresh unix socket. */
export async function startFakeDockerApi(): Promise<FakeDockerApi> {
  const dir = mkdtempSync(join(tmpdir(), 'bellhop-fake-docker-'));
  const socketPath = join(dir, 'docker.sock');
  const containers = new Map<string, FakeContainer>();
  const requests: string[] = [];
  const rawPaths: string[] = [];
  const counts = new Map<FakeRoute, number>();
  const faults = new Map<FakeRoute, FaultState>();
  const eventStreams = new Set<ServerResponse>();
  const sockets = new Set<Socket>();

  const find = (ref: string): FakeContainer | undefined => {
    const direct = containers.get(ref);
    if (direct) return direct;
    for (const c of containers.values()) {
      if (c.inspect.Name === `/${ref}` || (ref.length >= 4 && c.inspect.Id.startsWith(ref))) return c;
    }
    return undefined;
  };

  const emit = (type: string, action: string, id: string, attributes: Record<string, string> = {}): void => {
    const c = containers.get(id);
    const attrs = type === 'container' && c ? { name: c.inspect.Name.slice(1), image: c.inspect.Config.Image, ...c.inspect.Config.Labels, ...attributes } : attributes;
    const now = Date.now();
    const ev = { status: action, id, from: attrs['image'], Type: type, Action: action, Actor: { ID: type === 'container' ? id : 'net-' + (attributes['name'] ?? 'bridge'), Attributes: attrs }, scope: 'local', time: Math.floor(now / 1000), timeNano: now * 1e6 };
    for (const res of eventStreams) res.write(JSON.stringify(ev) + '\n');
  };

  const setState = (c: FakeContainer, status: 'running' | 'exited' | 'paused'): void => {
    const s = c.inspect.State;
    s.Status = status;
    s.Running = status !== 'exited';
    s.Paused = status === 'paused';
  };

  const route = (method: string, path: string): { route: FakeRoute; id?: string } | undefined => {
    if (path === '/_ping') return { route: 'ping' };
    if (path === '/version') return { route: 'version' };
    if (path === '/events') return { route: 'events' };
    if (path === '/containers/json') return { route: 'list' };
    const m = /^\/containers\/([^/]+)\/(json|start|stop|pause|unpause|kill|logs)$/.exec(path);
    if (!m) return undefined;
    const id = decodeURIComponent(m[1]!);
    const action = m[2]!;
    if (action === 'json' && method === 'GET') return { route: 'inspect', id };
    if (action === 'logs' && method === 'GET') return { route: 'logs', id };
    if (method === 'POST' && action !== 'json' && action !== 'logs') return { route: action as FakeRoute, id };
    return undefined;
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://docker');
    const path = url.pathname.replace(/^\/v1\.\d+(?=\/)/, '');
    const method = req.method ?? 'GET';
    requests.push(`${method} ${path}`);
    rawPaths.push(req.url ?? '');
    const r = route(method, path);
    if (!r) return sendError(res, 404, `page not found: ${method} ${path}`);
    counts.set(r.route, (counts.get(r.route) ?? 0) + 1);
    const f = faults.get(r.route);
    if (f && f.left > 0) {
      f.left--;
      if ('hang' in f.fault) return; // never answer; the socket is destroyed at close()
      return sendError(res, f.fault.status, f.fault.message ?? (f.fault.status === 403 ? 'forbidden by the socket proxy' : 'fake engine failure'));
    }
    const c = r.id === undefined ? undefined : find(r.id);
    switch (r.route) {
      case 'ping':
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Api-Version': '1.41', 'Docker-Experimental': 'false', Ostype: 'linux', 'Content-Length': 2 });
        return void res.end('OK');
      case 'version':
        return sendJson(res, 200, { Version: '27.5.1', ApiVersion: '1.41', MinAPIVersion: '1.12', Os: 'linux', Arch: 'amd64' });
      case 'list': {
        const all = url.searchParams.get('all') === '1' || url.searchParams.get('all') === 'true';
        const list = [...containers.values()]
          .filter((x) => all || x.inspect.State.Running)
          .map((x) => ({ Id: x.inspect.Id, Names: [x.inspect.Name], Image: x.inspect.Config.Image, ImageID: x.inspect.Image, Command: 'httpd', Created: 1795230895, Ports: [], Labels: x.inspect.Config.Labels, State: x.inspect.State.Status, Status: 'Up', HostConfig: { NetworkMode: x.inspect.HostConfig.NetworkMode }, NetworkSettings: { Networks: x.inspect.NetworkSettings.Networks }, Mounts: [] }));
        return sendJson(res, 200, list);
      }
      case 'events':
        res.writeHead(200, { 'Content-Type': 'application/json', 'Api-Version': '1.41', Server: 'Docker/27.5.1 (linux)' });
        res.flushHeaders();
        eventStreams.add(res);
        res.on('close', () => eventStreams.delete(res));
        return;
      case 'inspect':
        return c ? sendJson(res, 200, c.inspect) : sendError(res, 404, `No such container: ${r.id}`);
      case 'logs': {
        if (!c) return sendError(res, 404, `No such container: ${r.id}`);
        const tail = Number(url.searchParams.get('tail') ?? 'NaN');
        const lines = Number.isFinite(tail) ? c.logs.slice(-tail) : c.logs;
        const frames = lines.map(([stream, text]) => {
          const payload = Buffer.from(text);
          const header = Buffer.alloc(8);
          header[0] = stream;
          header.writeUInt32BE(payload.length, 4);
          return Buffer.concat([header, payload]);
        });
        res.writeHead(200, { 'Content-Type': 'application/vnd.docker.raw-stream', 'Api-Version': '1.41' });
        return void res.end(Buffer.concat(frames));
      }
      default: {
        if (!c) return sendError(res, 404, `No such container: ${r.id}`);
        const id = c.inspect.Id;
        const status = c.inspect.State.Status;
        const done = (): void => {
          res.writeHead(204, { 'Api-Version': '1.41' });
          res.end();
        };
        if (r.route === 'start') {
          if (status === 'running' || status === 'paused') return void (res.writeHead(304), res.end());
          setState(c, 'running');
          emit('container', 'start', id);
          return done();
        }
        if (r.route === 'stop') {
          if (status === 'exited' || status === 'created') return void (res.writeHead(304), res.end());
          setState(c, 'exited');
          emit('container', 'die', id, { exitCode: '0' });
          emit('container', 'stop', id);
          return done();
        }
        if (r.route === 'kill') {
          if (status !== 'running') return sendError(res, 409, `Cannot kill container: ${r.id}: Container ${id} is not running`);
          setState(c, 'exited');
          emit('container', 'kill', id, { signal: url.searchParams.get('signal') ?? '9' });
          emit('container', 'die', id, { exitCode: '137' });
          return done();
        }
        if (r.route === 'pause') {
          if (status === 'paused') return sendError(res, 409, `Container ${id} is already paused`);
          if (status !== 'running') return sendError(res, 409, `Container ${id} is not running`);
          setState(c, 'paused');
          emit('container', 'pause', id);
          return done();
        }
        if (status !== 'paused') return sendError(res, 500, `Container ${id} is not paused`); // sic: Docker 27 says 500 here
        setState(c, 'running');
        emit('container', 'unpause', id);
        return done();
      }
    }
  };

  const server: Server = createServer(handle);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });

  return {
    socketPath,
    dockerHost: `unix://${socketPath}`,
    containers,
    requests,
    rawPaths,
    count: (r) => counts.get(r) ?? 0,
    fault: (r, fault) => {
      if (fault === undefined) faults.delete(r);
      else faults.set(r, { fault, left: fault.times ?? Infinity });
    },
    add: (inspect, opts = {}) => {
      containers.set(inspect.Id, { inspect, logs: opts.logs ?? [] });
      if (opts.announce) {
        emit('container', 'create', inspect.Id);
        if (inspect.State.Running) emit('container', 'start', inspect.Id);
      }
    },
    remove: (id, opts = {}) => {
      if (opts.announce) emit('container', 'destroy', id);
      containers.delete(id);
    },
    emit,
    endEvents: () => {
      for (const res of eventStreams) res.end();
    },
    dropEvents: () => {
      for (const res of eventStreams) res.socket?.destroy();
    },
    openEventStreams: () => eventStreams.size,
    close: async () => {
      for (const res of eventStreams) res.socket?.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
