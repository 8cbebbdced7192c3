// Sleep and wake against the real Docker engine: a tiny node:http "proxy" calls the wake gate
// and forwards to the container's bridge IP, the way internal/proxy will.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import type Docker from 'dockerode';
import { dockerSkip, dockerClient, runHttpd, removeQuietly, uniqueName, waitFor, TEST_IMAGE, TEST_LABELS } from '../support/docker-test.ts';
import { WakeManager } from '../../internal/wake/index.ts';
import { ContainerControl } from '../../internal/docker/index.ts';
import type { WakeControl, WakeInspect } from '../../internal/wake/index.ts';
import type { IdleSpec, MemberSpec, RouteSpec } from '../../internal/routes/index.ts';

/** WakeControl over internal/docker's ContainerControl, recording every call and when it was made. */
class DockerodeControl implements WakeControl {
  readonly calls: string[] = [];
  /** Date.now() of each call in `calls` */
  readonly callTimes: number[] = [];
  private readonly control: ContainerControl;
  private readonly names = new Map<string, string>();

  constructor(docker: Docker) {
    this.control = new ContainerControl({ docker });
  }

  nameOf(id: string, name: string): void {
    this.names.set(id, name);
  }

  private record(op: string, id: string): void {
    this.calls.push(`${op} ${this.names.get(id) ?? id.slice(0, 12)}`);
    this.callTimes.push(Date.now());
  }

  count(op: string, name: string): number {
    return this.calls.filter((c) => c === `${op} ${name}`).length;
  }

  async start(id: string): Promise<void> {
    this.record('start', id);
    await this.control.start(id);
  }
  async stop(id: string, opts: { timeoutSec: number; signal?: string | undefined }): Promise<void> {
    this.record('stop', id);
    await this.control.stop(id, opts.signal ? { timeoutSec: opts.timeoutSec, signal: opts.signal } : { timeoutSec: opts.timeoutSec });
  }
  async kill(id: string, signal?: string): Promise<void> {
    this.record('kill', id);
    await this.control.kill(id, signal);
  }
  async pause(id: string): Promise<void> {
    this.record('pause', id);
    await this.control.pause(id);
  }
  async unpause(id: string): Promise<void> {
    this.record('unpause', id);
    await this.control.unpause(id);
  }
  async inspect(id: string): Promise<WakeInspect> {
    const rec = await this.control.inspect(id);
    const ip = rec.networks.find((n) => n.ip !== '')?.ip;
    return { state: rec.state, exitCode: rec.exitCode, dockerHealth: rec.dockerHealth, host: ip };
  }
  logsTail(id: string, lines: number): Promise<string> {
    return this.control.logsTail(id, lines);
  }
}

function idle(over: Partial<IdleSpec>): IdleSpec {
  return { idleTimeoutMs: 60_000, wakeTimeoutMs: 30_000, stopTimeoutMs: 1_000, stopMethod: 'stop', noLoadingPage: false, dependsOn: [], ...over };
}

async function memberFor(container: Docker.Container, spec: IdleSpec | undefined): Promise<MemberSpec> {
  const info = await container.inspect();
  const name = info.Name.replace(/^\//, '');
  const ip = Object.values(info.NetworkSettings.Networks ?? {}).find((n) => n.IPAddress)?.IPAddress;
  return {
    id: `m-${name}`,
    identity: name,
    name,
    // A created or stopped container has no IP yet: the wake finds the real one after start.
    url: `http://${ip || '0.0.0.0'}:80`,
    noTlsVerify: false,
    healthcheck: { path: undefined, useGet: false, intervalMs: 5000, timeoutMs: 2000, rise: 1, fall: 1, disable: false },
    container: { id: info.Id, name, dockerHost: 'local', createdAt: 0, state: info.State.Status, idle: spec },
  };
}

function routeOf(name: string, members: MemberSpec[]): RouteSpec {
  return { name, aliases: [name], loadBalance: { mode: 'roundrobin', sticky: false, stickyMaxAgeMs: 0 }, members, source: 'docker' };
}

interface Proxy {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** The test "proxy": Host-less, one route per path prefix `/r/<route>` is overkill; one route per proxy. */
async function startProxy(wake: WakeManager, routeName: string, member: () => MemberSpec): Promise<Proxy> {
  const server = createServer((req, res) => {
    void Promise.resolve(wake.gate(req, res, { route: routeName })).then((r) => {
      if (r !== 'proceed') return;
      const m = member();
      const release = wake.begin(m.id);
      res.on('close', () => release());
      const target = new URL(req.url ?? '/', wake.upstreamUrl(m.id, m.url));
      const up = request(target, { method: req.method, headers: { ...req.headers, host: target.host }, agent: false }, (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
        upRes.on('error', () => res.destroy());
      });
      up.on('error', () => {
        if (!res.headersSent) res.writeHead(502).end('bad gateway');
        else res.destroy();
      });
      res.on('close', () => up.destroy());
      req.pipe(up);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

function httpGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: IncomingMessage['headers']; body: string; firstByteAt: number }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let firstByteAt = 0;
      res.on('data', (c: Buffer) => {
        if (firstByteAt === 0) firstByteAt = performance.now();
        chunks.push(c);
      });
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString(), firstByteAt }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function dockerState(c: Docker.Container): Promise<string> {
  return (await c.inspect()).State.Status;
}

function tcpOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

test('50 concurrent requests to a stopped container: exactly one start, all get the real body', { skip: dockerSkip }, async () => {
  const docker = dockerClient();
  const c = await runHttpd(docker, { start: false, body: 'real-body', labels: { 'proxy.idle_timeout': '1m' } });
  const control = new DockerodeControl(docker);
  const wake = new WakeManager({ control });
  const m = await memberFor(c, idle({}));
  control.nameOf(m.container!.id, 'app');
  wake.sync({ routes: [routeOf('app', [m])] });
  const proxy = await startProxy(wake, 'app', () => m);
  try {
    const all = await Promise.all(Array.from({ length: 50 }, () => httpGet(`${proxy.url}/`, { accept: '*/*' })));
    assert.equal(control.count('start', 'app'), 1);
    for (const r of all) {
      assert.equal(r.status, 200);
      assert.equal(r.body, 'real-body');
    }
    assert.equal(wake.metrics().held, 0);

  } finally {
    wake.close();
    await proxy.close();
    await removeQuietly(c);
  }
});

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

test('wake latency: request to first proxied byte vs bare docker start + readiness (figures only)', { skip: dockerSkip }, async (t) => {
  const docker = dockerClient();
  const c = await runHttpd(docker, { body: 'timed' });
  const control = new DockerodeControl(docker);
  const wake = new WakeManager({ control });
  // kill with SIGKILL: rounds stay short; the wake path measured is the same as after `stop`.
  const m = await memberFor(c, idle({ idleTimeoutMs: 200, stopMethod: 'kill', stopSignal: 'SIGKILL' }));
  control.nameOf(m.container!.id, 'app');
  wake.sync({ routes: [routeOf('app', [m])] });
  const proxy = await startProxy(wake, 'app', () => m);
  const viaBellhop: number[] = [];
  const bare: number[] = [];
  try {
    for (let round = 0; round < 5; round++) {
      await waitFor(() => (wake.stateOf(m.id) === 'asleep' ? true : undefined), 10_000, 'asleep');
      const t0 = performance.now();
      const r = await httpGet(`${proxy.url}/`, { accept: '*/*' });
      assert.equal(r.body, 'timed');
      viaBellhop.push(r.firstByteAt - t0);
      await waitFor(() => (wake.stateOf(m.id) === 'asleep' ? true : undefined), 10_000, 'asleep');
      // The same by hand, polling TCP every 5 ms: what Docker + the app cost without Bellhop.
      const b0 = performance.now();
      await c.start();
      const ip = (await control.inspect(m.container!.id)).host!;
      await waitForQuick(() => tcpOpen(ip, 80));
      bare.push((await httpGet(`http://${ip}:80/`)).firstByteAt - b0);
      await c.kill();
    }
    assert.equal(control.count('start', 'app'), 5);
    const line = `wake latency over 5 rounds (median): via Bellhop ${median(viaBellhop).toFixed(0)} ms, bare docker start + TCP readiness + first byte ${median(bare).toFixed(0)} ms; Bellhop adds ${(median(viaBellhop) - median(bare)).toFixed(0)} ms [bellhop ${viaBellhop.map((x) => x.toFixed(0)).join(',')}; bare ${bare.map((x) => x.toFixed(0)).join(',')}]`;
    t.diagnostic(line);
    process.stderr.write(`[wake e2e] ${line}\n`);
  } finally {
    wake.close();
    await proxy.close();
    await removeQuietly(c);
  }
});

async function waitForQuick(fn: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + 20_000;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error('not ready');
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('idle_timeout 2s stops the container after the last activity; a slow download keeps it awake', { skip: dockerSkip }, async () => {
  const docker = dockerClient();
  // A CGI that streams for ~4 s: longer than idle_timeout.
  const cgi = `mkdir -p /www/cgi-bin && printf '#!/bin/sh\\nprintf "Content-Type: text/plain\\\\r\\\\n\\\\r\\\\n"\\nfor i in 1 2 3 4; do echo $i; sleep 1; done\\n' > /www/cgi-bin/slow && chmod +x /www/cgi-bin/slow &&`;
  const c = await runHttpd(docker, { body: 'awake', extraShell: cgi });
  const control = new DockerodeControl(docker);
  const wake = new WakeManager({ control });
  const m = await memberFor(c, idle({ idleTimeoutMs: 2000, stopTimeoutMs: 1000 }));
  control.nameOf(m.container!.id, 'app');
  wake.sync({ routes: [routeOf('app', [m])] });
  const proxy = await startProxy(wake, 'app', () => m);
  try {
    await waitForQuick(() => tcpOpen(new URL(m.url).hostname, 80)); // runHttpd returns before httpd listens
    const slow = await httpGet(`${proxy.url}/cgi-bin/slow`);
    assert.equal(slow.body.trim(), '1\n2\n3\n4');
    // The stream lasted ~4 s (> idle_timeout): the container stayed up through it.
    assert.equal(await dockerState(c), 'running');
    assert.deepEqual(control.calls, []);
    assert.equal(wake.stateOf(m.id), 'awake');
    // The last activity: a quick request, so its start bounds the idle clock's start from below
    // whatever the machine's speed (the clock starts when it ends, after `sentAt`).
    const sentAt = Date.now();
    assert.equal((await httpGet(`${proxy.url}/`)).body, 'awake');
    const lastActivity = Date.now();
    await waitFor(async () => ((await dockerState(c)) === 'exited' ? true : undefined), 30_000, 'idle stop');
    assert.deepEqual(control.calls, ['stop app']);
    const stopCalledAt = control.callTimes[0]!;
    assert.ok(stopCalledAt - sentAt >= 2000, `stop called ${String(stopCalledAt - sentAt)} ms after the last request began, before idle_timeout (2 s)`);
    // An exact 2 s timer: 10 s later would be a clock that missed it, not a slow machine.
    assert.ok(stopCalledAt - lastActivity < 2000 + 10_000, `stop called ${String(stopCalledAt - lastActivity)} ms after the last activity`);
    // Docker reports the exit a moment before its stop call returns: 'draining' until then.
    await waitFor(() => (wake.stateOf(m.id) === 'asleep' ? true : undefined), 20_000, 'asleep');
  } finally {
    wake.close();
    await proxy.close();
    await removeQuietly(c);
  }
});

test('stop_method pause pauses when idle and unpauses on the next request', { skip: dockerSkip }, async () => {
  const docker = dockerClient();
  const c = await runHttpd(docker, { body: 'paused-one' });
  const control = new DockerodeControl(docker);
  const wake = new WakeManager({ control });
  const m = await memberFor(c, idle({ idleTimeoutMs: 500, stopMethod: 'pause' }));
  control.nameOf(m.container!.id, 'app');
  wake.sync({ routes: [routeOf('app', [m])] });
  const proxy = await startProxy(wake, 'app', () => m);
  try {
    await waitFor(async () => ((await dockerState(c)) === 'paused' ? true : undefined), 10_000, 'pause');
    await waitFor(() => (wake.stateOf(m.id) === 'asleep' ? true : undefined), 20_000, 'asleep');
    const r = await httpGet(`${proxy.url}/`);
    assert.equal(r.body, 'paused-one');
    assert.equal(await dockerState(c), 'running');
    assert.deepEqual(control.calls, ['pause app', 'unpause app']);
  } finally {
    wake.close();
    await proxy.close();
    await removeQuietly(c);
  }
});

test('a container that exits at once: 503 + Retry-After; page and status show exit code 3 and log lines', { skip: dockerSkip }, async () => {
  const docker = dockerClient();
  const c = await docker.createContainer({
    Image: TEST_IMAGE,
    name: uniqueName('bellhop-wake-exit'),
    Cmd: ['/bin/sh', '-c', 'echo booting; echo "fatal: config file missing" >&2; exit 3'],
    Labels: { ...TEST_LABELS },
    ExposedPorts: { '80/tcp': {} },
  });
  const control = new DockerodeControl(docker);
  const wake = new WakeManager({ control, coolDownMs: 10_000 });
  const m = await memberFor(c, idle({}));
  wake.sync({ routes: [routeOf('broken', [m])] });
  const proxy = await startProxy(wake, 'broken', () => m);
  try {
    // A browser first: it gets the page at once, and the progress stream then reports the failure.
    const page = await httpGet(`${proxy.url}/`, { accept: 'text/html', 'sec-fetch-mode': 'navigate' });
    assert.equal(page.status, 200);
    assert.equal(page.headers['cache-control'], 'no-store');
    const events = await httpGet(`${proxy.url}/.bellhop/wake/events`);
    assert.match(events.body, /"type":"failed"/);
    assert.match(events.body, /"exitCode":3/);
    assert.match(events.body, /fatal: config file missing/);
    const api = await httpGet(`${proxy.url}/api/thing`, { accept: 'application/json' });
    assert.equal(api.status, 503);
    assert.ok(Number(api.headers['retry-after']) >= 1);
    assert.equal((JSON.parse(api.body) as { error: { exitCode: number } }).error.exitCode, 3);
    const failedPage = await httpGet(`${proxy.url}/`, { accept: 'text/html' });
    assert.equal(failedPage.status, 503);
    assert.match(failedPage.body, /Exit code <b>3<\/b>/);
    assert.match(failedPage.body, /booting/);
    assert.match(failedPage.body, /fatal: config file missing/);
    const st = wake.status()[0]!;
    assert.equal(st.lastError?.code, 'WAKE_EXITED');
    assert.equal(st.lastError?.exitCode, 3);
    assert.equal(control.calls.filter((x) => x.startsWith('start')).length, 1); // cool-down: no retry storm
  } finally {
    wake.close();
    await proxy.close();
    await removeQuietly(c);
  }
});

test('dependency chain: db wakes before the apps; the shared db stops only when both apps sleep', { skip: dockerSkip }, async () => {
  const docker = dockerClient();
  const dbName = uniqueName('bellhop-wake-db');
  const db = await runHttpd(docker, { name: dbName, start: false, body: 'db' });
  const a1 = await runHttpd(docker, { start: false, body: 'app-one' });
  const a2 = await runHttpd(docker, { start: false, body: 'app-two' });
  const control = new DockerodeControl(docker);
  const wake = new WakeManager({ control });
  const dbInfo = await db.inspect();
  control.nameOf(dbInfo.Id, 'db');
  const m1 = await memberFor(a1, idle({ idleTimeoutMs: 1500, dependsOn: [dbName] }));
  // app2 outlives app1 by 8.5 s: room for app1's docker stop on a busy machine before app2's own
  const m2 = await memberFor(a2, idle({ idleTimeoutMs: 10_000, dependsOn: [dbName] }));
  control.nameOf(m1.container!.id, 'app1');
  control.nameOf(m2.container!.id, 'app2');
  wake.sync({
    routes: [routeOf('one', [m1]), routeOf('two', [m2])],
    containers: [{ id: dbInfo.Id, name: dbName, dockerHost: 'local', state: dbInfo.State.Status }],
  });
  const p1 = await startProxy(wake, 'one', () => m1);
  const p2 = await startProxy(wake, 'two', () => m2);
  try {
    assert.equal((await httpGet(`${p1.url}/`)).body, 'app-one');
    assert.deepEqual(control.calls, ['start db', 'start app1']);
    assert.equal((await httpGet(`${p2.url}/`)).body, 'app-two');
    // app1 may already have slept (1.5 s) while app2 started on a busy machine: only the order matters.
    assert.deepEqual(control.calls.slice(0, 2), ['start db', 'start app1']);
    assert.deepEqual(control.calls.filter((x) => x.startsWith('start')), ['start db', 'start app1', 'start app2']);
    await waitFor(async () => ((await dockerState(a1)) === 'exited' ? true : undefined), 15_000, 'app1 asleep');
    assert.equal(await dockerState(db), 'running'); // app2 still awake
    assert.equal(await dockerState(a2), 'running');
    await waitFor(async () => ((await dockerState(db)) === 'exited' ? true : undefined), 30_000, 'db asleep after app2');
    assert.equal(await dockerState(a2), 'exited');
    // Each stopped once, the shared db last; db was never started twice.
    assert.deepEqual(control.calls.filter((x) => x.startsWith('stop')), ['stop app1', 'stop app2', 'stop db']);
    assert.equal(control.calls.length, 6, control.calls.join(', '));
  } finally {
    wake.close();
    await p1.close();
    await p2.close();
    for (const c of [a1, a2, db]) await removeQuietly(c);
  }
});

test('browser vs API: text/html gets the loading page (no-store), */* is held and gets the real body', { skip: dockerSkip }, async () => {
  const docker = dockerClient();
  const c = await runHttpd(docker, { start: false, body: 'the-real-page' });
  const control = new DockerodeControl(docker);
  const wake = new WakeManager({ control });
  const m = await memberFor(c, idle({}));
  wake.sync({ routes: [routeOf('site', [m])] });
  const proxy = await startProxy(wake, 'site', () => m);
  try {
    const page = await httpGet(`${proxy.url}/`, { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' });
    assert.equal(page.status, 200);
    assert.equal(page.headers['cache-control'], 'no-store');
    assert.match(page.body, /<title>site is starting<\/title>/);
    const api = await httpGet(`${proxy.url}/`, { accept: '*/*' });
    assert.equal(api.status, 200);
    assert.equal(api.body, 'the-real-page');
    // Once awake the browser reloads into the real page.
    assert.equal((await httpGet(`${proxy.url}/`, { accept: 'text/html' })).body, 'the-real-page');
    assert.equal(control.calls.filter((x) => x.startsWith('start')).length, 1);
  } finally {
    wake.close();
    await proxy.close();
    await removeQuietly(c);
  }
});
