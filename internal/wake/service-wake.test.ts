// Sleep and wake of Docker Swarm services (docs/sleep-and-wake.md, "Swarm services"): all tasks of
// a service share one slot keyed by the service ID; waking scales it up (ServiceWakeControl), the
// idle clock scales it to 0; the container calls are never used for it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WakeManager, type ServiceWakeControl, type WakeContainerInfo, type WakeInspect } from './index.ts';
import { FakeControl, idleSpec, route } from './fake-control.test-support.ts';
import type { IdleSpec, MemberSpec } from '../routes/index.ts';

const HOST = 'unix:///var/run/docker.sock';

/** A fake replicated service `svc`: tasks t1..tN run at the app's URL once scaled up. */
class FakeServices implements ServiceWakeControl {
  replicas = 0;
  remembered = 2;
  readonly calls: string[] = [];
  appUrl = '';
  failUp = false;

  async scaleUp(id: string): Promise<void> {
    this.calls.push(`up ${id}`);
    await new Promise((r) => setTimeout(r, 30));
    if (this.failUp) throw new Error('boom: update refused');
    if (this.replicas === 0) this.replicas = this.remembered;
  }

  async scaleDown(id: string, opts: { waitMs: number }): Promise<void> {
    this.calls.push(`down ${id} wait=${String(opts.waitMs)}`);
    await new Promise((r) => setTimeout(r, 10));
    this.remembered = this.replicas;
    this.replicas = 0;
  }

  inspect(id: string): Promise<WakeInspect> {
    this.calls.push(`inspect ${id}`);
    if (this.replicas === 0) return Promise.resolve({ state: 'exited', urls: {} });
    // As the composition root's service variant: the running task's URL under the service's own member id too.
    return Promise.resolve({ state: 'running', urls: { [id]: this.appUrl, t1: this.appUrl } });
  }

  logsTail(): Promise<string> {
    return Promise.resolve('svc log line');
  }

  count(prefix: string): number {
    return this.calls.filter((c) => c.startsWith(prefix)).length;
  }
}

const svc = { id: 'svc', name: 'web' };

function record(id: string, state: string, service = svc): WakeContainerInfo {
  return { id, name: id === service.id ? service.name : `${service.name}.${id.slice(1)}`, dockerHost: HOST, state, swarmService: service };
}

function taskMember(id: string, url: string, state: string, idle: IdleSpec | undefined, service = svc): MemberSpec {
  return {
    id,
    identity: id,
    name: id === service.id ? service.name : `${service.name}.${id.slice(1)}`,
    url,
    noTlsVerify: false,
    healthcheck: { path: '/health', useGet: true, intervalMs: 5000, timeoutMs: 1000, rise: 1, fall: 1, disable: false },
    container: { id, name: id, dockerHost: HOST, createdAt: 0, state, idle },
  };
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: { accept: '*/*' } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function until(fn: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
}

test('a sleeping service: concurrent requests cause one scale-up, are held, then sent to the probed task; its tasks share the slot; idle scales it to 0', async () => {
  const containers = new FakeControl();
  const services = new FakeServices();
  const app = createServer((req, res) => res.writeHead(req.url === '/health' && services.replicas === 0 ? 503 : 200).end('task'));
  services.appUrl = await listen(app);
  const wake = new WakeManager({ control: containers, services, heartbeatMs: 50 });
  const idle = idleSpec({ idleTimeoutMs: 300, stopTimeoutMs: 5_000 });
  // Asleep: discovery lists the service's address-less record.
  wake.sync({ routes: [route('web', [taskMember('svc', '', 'exited', idle)])], containers: [record('svc', 'exited')] });
  assert.equal(wake.stateOf('svc'), 'asleep');
  const proxy = createServer((req, res) => {
    void Promise.resolve(wake.gate(req, res, { route: 'web' })).then((r) => {
      if (r !== 'proceed') return;
      const release = wake.begin('svc', req);
      res.on('close', () => release());
      res.end(`to ${wake.upstreamUrl('svc', '')}`);
    });
  });
  const proxyUrl = await listen(proxy);
  try {
    const answers = await Promise.all(Array.from({ length: 20 }, () => get(`${proxyUrl}/x`)));
    for (const a of answers) assert.deepEqual(a, { status: 200, body: `to ${services.appUrl}` });
    assert.equal(services.count('up svc'), 1, 'one scale-up for 20 requests');
    assert.deepEqual(containers.calls, [], 'no container call for a service');
    assert.equal(wake.stateOf('svc'), 'awake');

    // Discovery lists the two tasks: both map to the service's one slot.
    wake.sync({
      routes: [route('web', [taskMember('t1', services.appUrl, 'running', idle), taskMember('t2', 'http://127.0.0.1:9', 'running', idle)])],
      containers: [record('t1', 'running'), record('t2', 'running')],
    });
    assert.equal(wake.stateOf('t1'), 'awake');
    assert.equal(wake.stateOf('t2'), 'awake');
    assert.equal(wake.isUsable('t2'), true);
    const status = wake.status();
    assert.deepEqual(status.map((s) => [s.id, s.name, s.state, s.members]), [['svc', 'web', 'awake', ['t1', 't2']]]);

    // A request open on one task keeps the whole service awake; once idle, it is scaled to 0.
    const release = wake.begin('t2');
    await new Promise((r) => setTimeout(r, 450));
    assert.equal(services.count('down'), 0, 'an open request vetoes the scale-down');
    release();
    await until(() => wake.stateOf('t1') === 'asleep');
    assert.deepEqual(services.calls.filter((c) => c.startsWith('down')), ['down svc wait=15000'], 'stop_timeout + slack');
    assert.equal(services.replicas, 0);
    assert.deepEqual(containers.calls, []);
    assert.equal(wake.metrics().stopsTotal, 1);

    // The scaled-down service is listed address-less again; the next request wakes it to the count it had.
    wake.sync({ routes: [route('web', [taskMember('svc', '', 'exited', idle)])], containers: [record('svc', 'exited')] });
    const again = await get(`${proxyUrl}/y`);
    assert.equal(again.status, 200);
    assert.equal(services.count('up svc'), 2);
    assert.equal(services.replicas, 2, 'back to the replica count it had');
  } finally {
    wake.close();
    proxy.closeAllConnections();
    await new Promise((r) => proxy.close(r));
    await new Promise((r) => app.close(r));
  }
});

test('a refused scale-up is a failed wake (WAKE_START_FAILED, then a cool-down); sleep now / wake now act on the service by name', async () => {
  const services = new FakeServices();
  services.failUp = true;
  const app = createServer((_req, res) => res.end('task'));
  services.appUrl = await listen(app);
  const wake = new WakeManager({ control: new FakeControl(), services, coolDownMs: 50 });
  const idle = idleSpec({ idleTimeoutMs: 60_000 });
  wake.sync({ routes: [route('web', [taskMember('svc', '', 'exited', idle)])], containers: [record('svc', 'exited')] });
  try {
    const failed = await wake.ensureAwake('svc');
    assert.equal(failed.ok, false);
    assert.equal(failed.ok ? '' : failed.error.code, 'WAKE_START_FAILED');
    assert.match(failed.ok ? '' : failed.error.message, /update refused/);
    await new Promise((r) => setTimeout(r, 60));
    services.failUp = false;
    const outcome = await wake.wakeNow('web');
    assert.deepEqual(outcome, { ok: true });
    assert.equal(wake.sleepNow('web'), true);
    await until(() => wake.stateOf('svc') === 'asleep');
    assert.equal(services.count('down svc'), 1);
    assert.equal(wake.sleepNow('nothing-by-that-name'), undefined);
  } finally {
    wake.close();
    await new Promise((r) => app.close(r));
  }
});

test('a global service cannot scale to 0: its idle_timeout is ignored with one warning, and its tasks are not managed', () => {
  const warns: string[] = [];
  const logger = { debug() {}, info() {}, error() {}, warn: (_o: object, m: string) => void warns.push(m) };
  const services = new FakeServices();
  const wake = new WakeManager({ control: new FakeControl(), services, logger });
  const global = { id: 'g', name: 'agent', global: true };
  const input = {
    routes: [route('agent', [taskMember('t1', 'http://127.0.0.1:9', 'running', idleSpec(), global)])],
    containers: [record('t1', 'running', global)],
  };
  for (let i = 0; i < 5; i++) wake.sync(input);
  assert.equal(wake.stateOf('t1'), undefined, 'not managed: always usable');
  assert.equal(wake.isUsable('t1'), true);
  assert.equal(warns.filter((m) => /global swarm service/.test(m)).length, 1);
  assert.deepEqual(services.calls, []);
  wake.close();
});

test('without a service control, a service slot fails its wake instead of calling the container API', async () => {
  const containers = new FakeControl();
  const wake = new WakeManager({ control: containers, coolDownMs: 10 });
  wake.sync({ routes: [route('web', [taskMember('svc', '', 'exited', idleSpec())])], containers: [record('svc', 'exited')] });
  const outcome = await wake.ensureAwake('svc');
  assert.equal(outcome.ok, false);
  assert.match(outcome.ok ? '' : outcome.error.message, /cannot scale services/);
  assert.deepEqual(containers.calls, []);
  wake.close();
});

test('proxy.depends_on naming another service by its full name: that service is scaled up first', async () => {
  const order: string[] = [];
  const up = new Set<string>();
  const app = createServer((_req, res) => res.end('ok'));
  const url = await listen(app);
  const services: ServiceWakeControl = {
    scaleUp: (id) => (order.push(`up ${id}`), up.add(id), Promise.resolve()),
    scaleDown: (id) => (order.push(`down ${id}`), up.delete(id), Promise.resolve()),
    inspect: (id) => Promise.resolve(up.has(id) ? { state: 'running', urls: { [id]: url } } : { state: 'exited', urls: {} }),
    logsTail: () => Promise.resolve(''),
  };
  const wake = new WakeManager({ control: new FakeControl(), services });
  const api = { id: 'api', name: 'st_api' };
  const db = { id: 'db', name: 'st_db' };
  const apiMember = taskMember('api', '', 'exited', idleSpec({ dependsOn: ['st_db'] }), api);
  wake.sync({
    routes: [route('api', [apiMember])],
    containers: [record('api', 'exited', api), { ...record('db', 'exited', db), composeProject: 'st', composeService: 'st_db' }],
  });
  try {
    assert.deepEqual(await wake.ensureAwake('api'), { ok: true });
    assert.deepEqual(order, ['up db', 'up api']);
    assert.deepEqual(wake.status().map((s) => [s.name, s.state, s.dependsOn]), [['st_api', 'awake', ['st_db']], ['st_db', 'awake', []]]);
  } finally {
    wake.close();
    await new Promise((r) => app.close(r));
  }
});
