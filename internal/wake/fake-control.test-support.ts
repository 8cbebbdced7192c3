// An in-memory WakeControl for unit tests, with a real HTTP app on 127.0.0.1 whose /health
// answers 200 only while the fake container "runs". Not a test file itself.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WakeControl, WakeInspect } from './wake-control.ts';
import type { IdleSpec, MemberSpec, RouteSpec } from '../routes/index.ts';

export interface FakeContainer {
  id: string;
  name: string;
  state: string;
  exitCode?: number;
  dockerHealth?: string | undefined;
  /** 'ok' (default), 'exit' (exits at once with exitCode 3), 'never-ready' */
  behaviour: 'ok' | 'exit' | 'never-ready';
  healthyAfterMs: number;
  startedAt: number;
  logs: string;
}

export class FakeControl implements WakeControl {
  readonly containers = new Map<string, FakeContainer>();
  readonly calls: string[] = [];
  startDelayMs = 0;
  stopDelayMs = 0;
  failStart = false;

  add(c: Partial<FakeContainer> & { id: string }): FakeContainer {
    const full: FakeContainer = { name: c.id, state: 'exited', behaviour: 'ok', healthyAfterMs: 0, startedAt: 0, logs: '', ...c };
    this.containers.set(c.id, full);
    return full;
  }

  private get(id: string): FakeContainer {
    const c = this.containers.get(id);
    if (!c) throw new Error(`no such container: ${id}`);
    return c;
  }

  running(id: string): boolean {
    const c = this.containers.get(id);
    return c !== undefined && c.state === 'running' && c.behaviour === 'ok' && Date.now() - c.startedAt >= c.healthyAfterMs;
  }

  count(call: string): number {
    return this.calls.filter((c) => c === call).length;
  }

  async start(id: string): Promise<void> {
    this.calls.push(`start ${id}`);
    await delay(this.startDelayMs);
    if (this.failStart) throw new Error('boom: start refused');
    const c = this.get(id);
    if (c.behaviour === 'exit') {
      c.state = 'exited';
      c.exitCode = 3;
      c.logs = 'starting app\nfatal: missing config\n';
      return;
    }
    c.state = 'running';
    c.startedAt = Date.now();
  }

  async stop(id: string, opts: { timeoutSec: number; signal?: string | undefined }): Promise<void> {
    this.calls.push(`stop ${id} t=${opts.timeoutSec} s=${opts.signal ?? '-'}`);
    await delay(this.stopDelayMs);
    this.get(id).state = 'exited';
  }

  async kill(id: string, signal?: string): Promise<void> {
    this.calls.push(`kill ${id} s=${signal ?? '-'}`);
    await delay(this.stopDelayMs);
    this.get(id).state = 'exited';
  }

  async pause(id: string): Promise<void> {
    this.calls.push(`pause ${id}`);
    await delay(this.stopDelayMs);
    this.get(id).state = 'paused';
  }

  async unpause(id: string): Promise<void> {
    this.calls.push(`unpause ${id}`);
    await delay(this.startDelayMs);
    this.get(id).state = 'running';
  }

  inspect(id: string): Promise<WakeInspect> {
    const c = this.get(id);
    let health = c.dockerHealth;
    if (health !== undefined && c.state === 'running') health = Date.now() - c.startedAt >= c.healthyAfterMs ? 'healthy' : 'starting';
    return Promise.resolve({ state: c.state, exitCode: c.exitCode, dockerHealth: health });
  }

  logsTail(id: string, lines: number): Promise<string> {
    return Promise.resolve(this.get(id).logs.split('\n').slice(-lines - 1).join('\n'));
  }
}

function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}

/** One HTTP app per fake container: /health is 200 only while `control.running(id)`. */
export async function fakeApp(control: FakeControl, id: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    if (req.url === '/health') {
      res.writeHead(control.running(id) ? 200 : 503).end();
      return;
    }
    res.end(`app ${id}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, server };
}

export function idleSpec(over: Partial<IdleSpec> = {}): IdleSpec {
  return { idleTimeoutMs: 60_000, wakeTimeoutMs: 5_000, stopTimeoutMs: 10_000, stopMethod: 'stop', noLoadingPage: false, dependsOn: [], ...over };
}

export function member(id: string, url: string, state: string, idle: IdleSpec | undefined, healthPath: string | undefined = '/health'): MemberSpec {
  return {
    id: `m-${id}`,
    identity: id,
    name: id,
    url,
    noTlsVerify: false,
    healthcheck: { path: healthPath, useGet: true, intervalMs: 5000, timeoutMs: 1000, rise: 1, fall: 1, disable: false },
    container: { id, name: id, dockerHost: 'unix:///var/run/docker.sock', createdAt: 0, state, idle },
  };
}

export function route(name: string, members: MemberSpec[]): RouteSpec {
  return { name, aliases: [name], loadBalance: { mode: 'roundrobin', sticky: false, stickyMaxAgeMs: 0 }, members, source: 'docker' };
}
