import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { WakeManager } from './index.ts';
import type { WakeRecord } from './index.ts';
import { FakeControl, fakeApp, idleSpec, member, route } from './fake-control.test-support.ts';
import type { IdleSpec } from '../routes/index.ts';

interface Rig {
  control: FakeControl;
  wake: WakeManager;
  proxyUrl: string;
  servers: Server[];
  close(): Promise<void>;
}

/** A fake container `a` behind route `app`, and a tiny "proxy" that calls the gate. */
async function rig(opts: { idle?: Partial<IdleSpec>; state?: string; coolDownMs?: number; healthPath?: string | undefined } = {}): Promise<Rig> {
  const control = new FakeControl();
  control.add({ id: 'a', state: opts.state ?? 'exited' });
  const app = await fakeApp(control, 'a');
  const wake = new WakeManager({ control, coolDownMs: opts.coolDownMs ?? 300, heartbeatMs: 50 });
  wake.sync({ routes: [route('app', [member('a', app.url, opts.state ?? 'exited', idleSpec(opts.idle), 'healthPath' in opts ? opts.healthPath : '/health')])] });
  const proxy = createServer((req, res) => {
    // As the proxy does: the real client IP to the gate, the same request to begin().
    const clientIp = typeof req.headers['x-client-ip'] === 'string' ? req.headers['x-client-ip'] : '127.0.0.1';
    void Promise.resolve(wake.gate(req, res, { route: 'app', clientIp })).then((r) => {
      if (r !== 'proceed') return;
      const release = wake.begin('m-a', req);
      res.on('close', () => release());
      res.end(`proxied ${req.url}`);
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  return {
    control,
    wake,
    proxyUrl,
    servers: [app.server, proxy],
    async close() {
      wake.close();
      proxy.closeAllConnections();
      for (const s of [app.server, proxy]) await new Promise((r) => s.close(r));
    },
  };
}

// node:http rather than fetch: undici's fetch adds `Sec-Fetch-Mode: cors` to every request.
function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: Headers; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
        resolve({ status: res.statusCode ?? 0, headers: h, body: Buffer.concat(chunks).toString() });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits for an eventual state; the deadline only catches one that never comes. */
async function until(fn: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}

test('50 concurrent API requests to a stopped container cause exactly one start and all get the app', async () => {
  const r = await rig();
  try {
    r.control.startDelayMs = 50;
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => get(`${r.proxyUrl}/x${i}`, { accept: '*/*' })));
    assert.equal(r.control.count('start a'), 1);
    for (const [i, res] of results.entries()) {
      assert.equal(res.status, 200);
      assert.equal(res.body, `proxied /x${i}`);
    }
    assert.equal(r.wake.stateOf('m-a'), 'awake');
    assert.equal(r.wake.metrics().wakesTotal, 1);
    assert.equal(r.wake.metrics().held, 0);
  } finally {
    await r.close();
  }
});

test('the gate answers synchronously when awake, and unmanaged routes always proceed', async () => {
  const r = await rig({ state: 'running' });
  try {
    const req = { url: '/', method: 'GET', headers: {} } as IncomingMessage;
    const res = new Duplex({ read() {}, write(_c, _e, cb) { cb(); } });
    assert.equal(r.wake.gate(req, res, { route: 'app' }), 'proceed');
    assert.equal(r.wake.gate(req, res, { route: 'other' }), 'proceed');
    assert.equal(r.wake.isUsable('m-a'), true);
    assert.equal(r.wake.isUsable('unknown'), true);
    assert.equal(r.wake.stateOf('unknown'), undefined);
    assert.equal(r.control.count('start a'), 0);
    const release = r.wake.begin('unknown');
    release();
  } finally {
    await r.close();
  }
});

test('idle timeout stops the container (drain, then stop with stop_timeout and stop_signal); activity keeps it awake', async () => {
  const r = await rig({ state: 'running', idle: { idleTimeoutMs: 150, stopTimeoutMs: 7_000, stopSignal: 'SIGINT' } });
  try {
    r.control.stopDelayMs = 100;
    const release = r.wake.begin('m-a');
    await sleep(400); // an open request (a long download) spans several idle periods
    assert.equal(r.wake.stateOf('m-a'), 'awake');
    assert.equal(r.wake.status()[0]!.msUntilSleep, 150);
    release();
    release(); // idempotent
    assert.equal(r.wake.status()[0]!.inFlight, 0);
    await until(() => r.wake.stateOf('m-a') === 'draining');
    assert.equal(r.wake.isUsable('m-a'), false);
    await until(() => r.wake.stateOf('m-a') === 'asleep');
    assert.deepEqual(r.control.calls, ['stop a t=7 s=SIGINT']);
    assert.equal(r.wake.metrics().stopsTotal, 1);
    assert.equal(r.wake.status()[0]!.msUntilSleep, null);
  } finally {
    await r.close();
  }
});

test('a request that arrives while the container is stopping waits for the stop, then wakes it', async () => {
  const r = await rig({ state: 'running', idle: { idleTimeoutMs: 50 } });
  try {
    r.control.stopDelayMs = 300;
    await until(() => r.wake.stateOf('m-a') === 'draining');
    const res = await get(`${r.proxyUrl}/late`);
    assert.equal(res.status, 200);
    assert.equal(res.body, 'proxied /late');
    assert.deepEqual(r.control.calls, ['stop a t=10 s=-', 'start a']);
  } finally {
    await r.close();
  }
});

test('pause and kill stop methods; a paused container is unpaused on wake', async () => {
  const r = await rig({ state: 'running', idle: { idleTimeoutMs: 50, stopMethod: 'pause' } });
  try {
    await until(() => r.wake.stateOf('m-a') === 'asleep');
    assert.equal(r.control.containers.get('a')!.state, 'paused');
    assert.equal((await get(`${r.proxyUrl}/`)).status, 200);
    assert.deepEqual(r.control.calls, ['pause a', 'unpause a']);
  } finally {
    await r.close();
  }
  const k = await rig({ state: 'running', idle: { idleTimeoutMs: 50, stopMethod: 'kill', stopSignal: 'SIGKILL' } });
  try {
    await until(() => k.wake.stateOf('m-a') === 'asleep');
    assert.deepEqual(k.control.calls, ['kill a s=SIGKILL']);
  } finally {
    await k.close();
  }
});

test('a container that exits at once: 503 with Retry-After, exit code and logs; cool-down, then a new attempt', async () => {
  const r = await rig({ coolDownMs: 400 });
  const records: WakeRecord[] = [];
  r.wake.onWake((rec) => records.push(rec));
  try {
    r.control.containers.get('a')!.behaviour = 'exit';
    const api = await get(`${r.proxyUrl}/api`, { accept: 'application/json' });
    assert.equal(api.status, 503);
    assert.ok(Number(api.headers.get('retry-after')) >= 1);
    // the one error shape (docs/errors.md): the failure's facts under `error`, no log lines
    const json = JSON.parse(api.body) as { error: Record<string, unknown> };
    assert.deepEqual(json.error, {
      code: 'WAKE_EXITED', status: 503, message: 'a exited with code 3 before it was ready', container: 'a', exitCode: 3,
      retryAfter: Number(api.headers.get('retry-after')),
    });
    const st = r.wake.status()[0]!;
    assert.equal(st.state, 'asleep');
    assert.equal(st.lastError?.exitCode, 3);
    assert.match(st.lastError?.logs ?? '', /fatal: missing config/);
    // Within the cool-down: no second start; the browser sees the failure page with the reason.
    const page = await get(`${r.proxyUrl}/`, { accept: 'text/html' });
    assert.equal(page.status, 503);
    assert.equal(page.headers.get('cache-control'), 'no-store');
    assert.match(page.body, /Exit code <b>3<\/b>/);
    assert.match(page.body, /fatal: missing config/);
    const plain = await get(`${r.proxyUrl}/x`);
    assert.equal(plain.status, 503);
    assert.match(plain.body, /failed to start recently/);
    const status = JSON.parse((await get(`${r.proxyUrl}/.bellhop/wake/status`)).body) as { state: string; error: { exitCode: number } };
    assert.equal(status.error.exitCode, 3);
    assert.equal(r.control.count('start a'), 1);
    await sleep(450);
    r.control.containers.get('a')!.behaviour = 'ok';
    assert.equal((await get(`${r.proxyUrl}/again`)).status, 200);
    assert.equal(r.control.count('start a'), 2);
    assert.deepEqual(records.map((x) => [x.ok, x.code]), [[false, 'WAKE_EXITED'], [true, undefined]]);
    assert.equal(r.wake.metrics().wakeFailuresTotal, 1);
  } finally {
    await r.close();
  }
});

test('never ready within wake_timeout → WAKE_TIMEOUT; Docker refusing the start → WAKE_START_FAILED', async () => {
  const r = await rig({ idle: { wakeTimeoutMs: 300 } });
  try {
    r.control.containers.get('a')!.behaviour = 'never-ready';
    const res = await get(`${r.proxyUrl}/`);
    assert.equal(res.status, 503);
    assert.equal(r.wake.status()[0]!.lastError?.code, 'WAKE_TIMEOUT');
    assert.equal(r.wake.status()[0]!.dockerState, 'running');
  } finally {
    await r.close();
  }
  const f = await rig();
  try {
    f.control.failStart = true;
    const out = await f.wake.ensureAwake('m-a');
    assert.equal(out.ok, false);
    assert.equal(!out.ok && out.error.code, 'WAKE_START_FAILED');
    assert.equal(!out.ok && out.retryAfterSec >= 1, true);
  } finally {
    await f.close();
  }
});

test('browser navigation gets the loading page; API and non-navigation fetches are held; no_loading_page holds browsers', async () => {
  const r = await rig();
  try {
    r.control.startDelayMs = 200;
    const page = await get(`${r.proxyUrl}/`, { accept: 'text/html,application/xhtml+xml', 'sec-fetch-mode': 'navigate' });
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('cache-control'), 'no-store');
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(page.body, /EventSource/);
    assert.match(page.body, /\/\.bellhop\/wake\//);
    // fetch() from a page (Fetch metadata says cors) is held even though it accepts HTML
    const held = await get(`${r.proxyUrl}/frag`, { accept: 'text/html', 'sec-fetch-mode': 'cors' });
    assert.equal(held.body, 'proxied /frag');
    assert.equal(r.control.count('start a'), 1);
  } finally {
    await r.close();
  }
  const n = await rig({ idle: { noLoadingPage: true } });
  try {
    const res = await get(`${n.proxyUrl}/`, { accept: 'text/html' });
    assert.equal(res.body, 'proxied /');
  } finally {
    await n.close();
  }
});

test('progress events stream waking → ready, and the status endpoint follows the state', async () => {
  const r = await rig();
  try {
    r.control.startDelayMs = 150;
    const page = await get(`${r.proxyUrl}/`, { accept: 'text/html' });
    assert.equal(page.status, 200);
    const sse = await get(`${r.proxyUrl}/.bellhop/wake/events`); // the stream ends after `ready`
    assert.equal(sse.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const text = sse.body;
    const types = [...text.matchAll(/"type":"(\w+)"/g)].map((m) => m[1]);
    assert.deepEqual(types.slice(-3), ['starting', 'probing', 'ready']);
    assert.equal(types[0], 'waking');
    const st = JSON.parse((await get(`${r.proxyUrl}/.bellhop/wake/status`)).body) as { state: string };
    assert.equal(st.state, 'awake');
    const again = (await get(`${r.proxyUrl}/.bellhop/wake/events`)).body;
    assert.match(again, /"type":"ready"/);
    const nope = await get(`${r.proxyUrl}/.bellhop/wake/nope`, { accept: 'application/json' });
    assert.equal(nope.status, 404);
    assert.equal((JSON.parse(nope.body) as { error: { code: string } }).error.code, 'WAKE_PATH_NOT_FOUND');
    const post = await get(`${r.proxyUrl}/.bellhop/wake/status`, {}, 'POST');
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    assert.equal(post.body, 'Method Not Allowed: The paths under /.bellhop/wake/ take GET or HEAD\n');
    assert.equal(r.wake.metrics().eventStreams, 0);
  } finally {
    await r.close();
  }
});

test('an events stream opened after a failure reports it; a held stream sends heartbeats and ends on failure', async () => {
  const r = await rig({ idle: { wakeTimeoutMs: 400 } });
  try {
    r.control.containers.get('a')!.behaviour = 'never-ready';
    await get(`${r.proxyUrl}/`, { accept: 'text/html' });
    const text = (await get(`${r.proxyUrl}/.bellhop/wake/events`)).body;
    assert.match(text, /: keep-alive/);
    assert.match(text, /"type":"failed".*WAKE_TIMEOUT/);
    const after = (await get(`${r.proxyUrl}/.bellhop/wake/events`)).body;
    assert.match(after, /"type":"failed"/);
  } finally {
    await r.close();
  }
});

test('start_endpoint: only that path wakes; others get 403 while asleep', async () => {
  const r = await rig({ idle: { startEndpoint: '/wake-me' } });
  try {
    const denied = await get(`${r.proxyUrl}/other`);
    assert.equal(denied.status, 403);
    assert.equal(denied.body, 'Forbidden: This service is asleep and can only be started via its start endpoint\n');
    const deniedJson = await get(`${r.proxyUrl}/other`, { accept: 'application/json' });
    assert.deepEqual(JSON.parse(deniedJson.body), {
      error: { code: 'WAKE_START_FORBIDDEN', status: 403, message: 'This service is asleep and can only be started via its start endpoint' },
    });
    assert.equal(r.control.count('start a'), 0);
    assert.equal((await get(`${r.proxyUrl}/wake-me?x=1`)).status, 200);
    assert.equal((await get(`${r.proxyUrl}/other`)).status, 200);
  } finally {
    await r.close();
  }
});

test('1,000 held clients that abort leave no waiters and no timers; the wake goes on', async () => {
  const r = await rig();
  try {
    r.control.startDelayMs = 200;
    const before = process.getActiveResourcesInfo().filter((x) => x === 'Timeout').length;
    const controllers = Array.from({ length: 1000 }, () => new AbortController());
    const outcomes = controllers.map((c) => r.wake.ensureAwake('m-a', c.signal));
    assert.equal(r.wake.metrics().held, 1000);
    for (const c of controllers) c.abort();
    const results = await Promise.all(outcomes);
    assert.ok(results.every((o) => !o.ok));
    assert.equal(r.wake.metrics().held, 0);
    await until(() => r.wake.stateOf('m-a') === 'awake');
    assert.equal(r.control.count('start a'), 1);
    const pre = new AbortController();
    pre.abort();
    assert.equal((await r.wake.ensureAwake('m-a', pre.signal)).ok, true); // awake now: no wait at all
    r.wake.sync({ routes: [] });
    await sleep(20);
    const after = process.getActiveResourcesInfo().filter((x) => x === 'Timeout').length;
    assert.ok(after <= before, `timers before ${before}, after ${after}`);
  } finally {
    await r.close();
  }
});

test('held HTTP clients that hang up are released (count back to 0)', async () => {
  const r = await rig();
  try {
    r.control.startDelayMs = 400;
    const url = new URL(r.proxyUrl);
    const reqs = Array.from({ length: 100 }, () => {
      const req = request({ host: url.hostname, port: url.port, path: '/', agent: false });
      req.on('error', () => undefined);
      req.end();
      return req;
    });
    await until(() => r.wake.metrics().held === 100);
    for (const req of reqs) req.destroy();
    await until(() => r.wake.metrics().held === 0);
    await until(() => r.wake.stateOf('m-a') === 'awake');
    assert.equal(r.control.count('start a'), 1);
  } finally {
    await r.close();
  }
});

test('a held websocket upgrade gets a raw 503 on failure', async () => {
  const r = await rig({ idle: { wakeTimeoutMs: 200 } });
  try {
    r.control.containers.get('a')!.behaviour = 'never-ready';
    const chunks: Buffer[] = [];
    const socket = new Duplex({
      read() {},
      write(chunk: Buffer, _e, cb) {
        chunks.push(chunk);
        cb();
      },
    });
    const req = { url: '/ws', method: 'GET', headers: { upgrade: 'websocket' } } as IncomingMessage;
    const result = await r.wake.gate(req, socket, { route: 'app' });
    assert.equal(result, 'handled');
    const raw = Buffer.concat(chunks).toString();
    assert.match(raw, /^HTTP\/1\.1 503 Service Unavailable\r\nRetry-After: \d+/);
    assert.equal((JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as { error: { code: string } }).error.code, 'WAKE_TIMEOUT');
  } finally {
    await r.close();
  }
});

test('Docker HEALTHCHECK gates readiness when there is no health path', async () => {
  const r = await rig({ healthPath: undefined });
  try {
    const c = r.control.containers.get('a')!;
    c.dockerHealth = 'starting';
    c.healthyAfterMs = 150;
    const t0 = Date.now();
    assert.equal((await r.wake.ensureAwake('m-a')).ok, true);
    assert.ok(Date.now() - t0 >= 150);
  } finally {
    await r.close();
  }
});

test('dependencies wake first, in order; a shared dependency sleeps only when no dependent is awake', async () => {
  const control = new FakeControl();
  for (const id of ['db', 'cache', 'app1', 'app2']) control.add({ id, state: 'exited' });
  const apps = await Promise.all(['app1', 'app2'].map((id) => fakeApp(control, id)));
  const wake = new WakeManager({ control });
  const spec = (idleTimeoutMs: number): IdleSpec => idleSpec({ idleTimeoutMs, dependsOn: ['db', 'cache'] });
  const containers = [
    { id: 'db', name: 'db', state: 'exited', dockerHost: 'unix:///var/run/docker.sock', composeDependsOn: ['missing-one'] },
    { id: 'cache', name: 'cache', state: 'exited', dockerHost: 'unix:///var/run/docker.sock', composeDependsOn: ['db'] },
  ];
  wake.sync({
    routes: [route('one', [member('app1', apps[0]!.url, 'exited', spec(150))]), route('two', [member('app2', apps[1]!.url, 'exited', spec(400))])],
    containers,
  });
  try {
    assert.equal((await wake.ensureAwake('m-app1')).ok, true);
    assert.deepEqual(control.calls, ['start db', 'start cache', 'start app1']);
    assert.equal((await wake.ensureAwake('m-app2')).ok, true);
    assert.deepEqual(control.calls.slice(3), ['start app2']);
    assert.deepEqual(wake.status().find((s) => s.id === 'app1')!.dependsOn, ['db', 'cache']);
    await until(() => wake.stateOf('m-app1') === 'asleep');
    assert.equal(control.containers.get('db')!.state, 'running'); // app2 still awake
    await until(() => wake.stateOf('m-app2') === 'asleep');
    await until(() => control.containers.get('db')!.state === 'exited' && control.containers.get('cache')!.state === 'exited');
    // dependency failure fails the dependent
    control.containers.get('db')!.behaviour = 'exit';
    const out = await wake.ensureAwake('m-app1');
    assert.equal(!out.ok && out.error.code, 'WAKE_DEPENDENCY_FAILED');
    assert.equal(control.count('start app1'), 1);
  } finally {
    wake.close();
    for (const a of apps) await new Promise((r) => a.server.close(r));
  }
});

test('sync: a container started outside Bellhop is awake and its clock runs; a removed one fails its waiters', async () => {
  const r = await rig({ idle: { idleTimeoutMs: 100 } });
  try {
    const url = r.wake.status()[0]!;
    assert.equal(url.state, 'asleep');
    r.control.containers.get('a')!.state = 'running';
    const m = member('a', 'http://127.0.0.1:1', 'running', idleSpec({ idleTimeoutMs: 100 }));
    r.wake.sync({ routes: [route('app', [m])] });
    assert.equal(r.wake.stateOf('m-a'), 'awake');
    await until(() => r.wake.stateOf('m-a') === 'asleep');
    r.control.startDelayMs = 300;
    const pending = r.wake.ensureAwake('m-a');
    r.wake.sync({ routes: [] });
    const out = await pending;
    assert.equal(!out.ok && out.error.code, 'WAKE_CONTAINER_GONE');
    assert.deepEqual(r.wake.status(), []);
  } finally {
    await r.close();
  }
});

test('upstreamUrl follows the address Docker gave after the start', async () => {
  const control = new FakeControl();
  control.add({ id: 'a', state: 'exited' });
  const app = await fakeApp(control, 'a');
  const port = new URL(app.url).port;
  const orig = control.inspect.bind(control);
  control.inspect = async (id) => ({ ...(await orig(id)), host: '127.0.0.1' });
  const wake = new WakeManager({ control });
  // The table still has the container's old bridge IP; readiness must use the new one.
  wake.sync({ routes: [route('app', [member('a', `http://10.255.255.1:${port}`, 'exited', idleSpec())])] });
  try {
    assert.equal((await wake.ensureAwake('m-a')).ok, true);
    assert.equal(wake.upstreamUrl('m-a', `http://10.255.255.1:${port}`), `http://127.0.0.1:${port}`);
    assert.equal(wake.upstreamUrl('m-other', 'http://x:1'), 'http://x:1');
  } finally {
    wake.close();
    await new Promise((r) => app.server.close(r));
  }
});

test('in a pool, a request wakes the member the balancer would pick (preferMember), not just the first', async () => {
  const control = new FakeControl();
  control.add({ id: 'p1', state: 'exited' });
  control.add({ id: 'p2', state: 'exited' });
  const app1 = await fakeApp(control, 'p1');
  const app2 = await fakeApp(control, 'p2');
  const wake = new WakeManager({ control, coolDownMs: 300, heartbeatMs: 50 });
  try {
    wake.sync({ routes: [route('pool', [member('p1', app1.url, 'exited', idleSpec({})), member('p2', app2.url, 'exited', idleSpec({}))])] });
    const req = { method: 'GET', url: '/', headers: { accept: '*/*' } } as unknown as IncomingMessage;
    const res = new Duplex({ read() {}, write(_c, _e, cb) { cb(); } });
    let asked = 0;
    const result = await wake.gate(req, res, {
      route: 'pool',
      preferMember: () => {
        asked++;
        return 'm-p2';
      },
    });
    assert.equal(result, 'proceed');
    assert.equal(asked, 1);
    assert.ok(control.calls.includes('start p2'), `calls: ${control.calls.join(', ')}`);
    assert.ok(!control.calls.includes('start p1'), `calls: ${control.calls.join(', ')}`);
    // awake now: the preference is not even asked
    assert.equal(wake.gate(req, res, { route: 'pool', preferMember: () => assert.fail('not asked when awake') }), 'proceed');
  } finally {
    wake.close();
    for (const s of [app1.server, app2.server]) await new Promise((r) => s.close(r));
  }
});

// ---------------------------------------------------------------- proxy.idle_ignore

const KUMA = { 'user-agent': 'Uptime-Kuma/1.23.11', accept: '*/*' };
const ignoreKuma = { ignore: { userAgents: ['Uptime-Kuma'], from: ['10.0.5.0/24'], paths: ['/health'] } };

test('idle_ignore while awake: a monitor is proxied but is neither an arrival nor in flight; the clock runs as if it never came', async () => {
  const r = await rig({ state: 'running', idle: { idleTimeoutMs: 300, ...ignoreKuma } });
  try {
    const started = Date.now();
    // A monitor every 40 ms never resets the clock: the container goes to sleep while it is still
    // polling (if a poll counted, the 300 ms idle clock would never run out: the loop would end
    // at its 20 s limit with the container awake).
    let polls = 0;
    while (r.wake.stateOf('m-a') === 'awake' && Date.now() - started < 20_000) {
      const res = await get(`${r.proxyUrl}/`, KUMA);
      if (r.wake.stateOf('m-a') === 'awake') assert.equal(res.body, 'proxied /');
      polls++;
      await sleep(40);
    }
    assert.notEqual(r.wake.stateOf('m-a'), 'awake', `still awake after ${String(polls)} polls in ${String(Date.now() - started)} ms`);
    assert.ok(polls >= 1, 'the monitor was proxied while awake');
    await until(() => r.wake.stateOf('m-a') === 'asleep');
    assert.deepEqual(r.control.calls, ['stop a t=10 s=-']);
  } finally {
    await r.close();
  }
});

test('idle_ignore: begin() of a matching request holds nothing open; a real one does; each rule counts (UA, path, client IP via the gate)', async () => {
  const r = await rig({ state: 'running', idle: { idleTimeoutMs: 60_000, ...ignoreKuma } });
  try {
    const res = new Duplex({ read() {}, write(_c, _e, cb) { cb(); } });
    const mk = (url: string, headers: Record<string, string>): IncomingMessage => ({ url, method: 'GET', headers }) as IncomingMessage;
    const byUa = mk('/', { 'user-agent': 'uptime-kuma/2' });
    const byPath = mk('/health/live', {});
    const byIp = mk('/', {});
    const real = mk('/', { 'user-agent': 'Mozilla/5.0' });
    assert.equal(r.wake.gate(byIp, res, { route: 'app', clientIp: '10.0.5.7' }), 'proceed');
    assert.equal(r.wake.gate(real, res, { route: 'app', clientIp: '10.0.6.7' }), 'proceed');
    const before = r.wake.status()[0]!.msUntilSleep!;
    await sleep(30);
    const releases = [r.wake.begin('m-a', byUa), r.wake.begin('m-a', byPath), r.wake.begin('m-a', byIp)];
    assert.equal(r.wake.status()[0]!.inFlight, 0);
    assert.ok(r.wake.status()[0]!.msUntilSleep! < before, 'an ignored arrival reset the clock');
    for (const rel of releases) rel();
    assert.ok(r.wake.status()[0]!.msUntilSleep! < before, 'an ignored end reset the clock');
    const rel = r.wake.begin('m-a', real);
    assert.equal(r.wake.status()[0]!.inFlight, 1);
    rel();
    assert.equal(r.wake.status()[0]!.msUntilSleep, 60_000);
    // Without the request (old callers) a begin counts, as before.
    r.wake.begin('m-a')();
    assert.equal(r.wake.status()[0]!.inFlight, 0);
  } finally {
    await r.close();
  }
});

test('idle_ignore `from` in a mixed pool (a member that never sleeps, so no gate): the monitor still is not activity', () => {
  const control = new FakeControl();
  control.add({ id: 'a', state: 'running' });
  const wake = new WakeManager({ control });
  try {
    const res = new Duplex({ read() {}, write(_c, _e, cb) { cb(); } });
    const monitor = { url: '/', method: 'GET', headers: { 'user-agent': 'Go-http-client/1.1' } } as unknown as IncomingMessage;
    const { container: _none, ...staticMember } = member('b', 'http://10.0.0.3:80', 'running', undefined);
    wake.sync({
      routes: [route('app', [
        member('a', 'http://10.0.0.2:80', 'running', idleSpec({ idleTimeoutMs: 60_000, ...ignoreKuma })),
        staticMember, // always on: the route gets no gate
      ])],
    });
    assert.equal(wake.gate(monitor, res, { route: 'app', clientIp: '10.0.5.7' }), 'proceed');
    const release = wake.begin('m-a', monitor);
    assert.equal(wake.status()[0]!.inFlight, 0, 'matched by its address although the route has no gate');
    release();
  } finally {
    wake.close();
  }
});

test('idle_ignore while asleep: 503 + X-Bellhop-State: asleep + Retry-After, no page, no start; a real request then wakes it', async () => {
  const r = await rig({ idle: ignoreKuma });
  try {
    const plain = await get(`${r.proxyUrl}/`, KUMA);
    assert.equal(plain.status, 503);
    assert.equal(plain.headers.get('x-bellhop-state'), 'asleep');
    assert.equal(plain.headers.get('retry-after'), '60');
    assert.equal(plain.headers.get('cache-control'), 'no-store');
    assert.match(plain.body, /asleep/);
    // A monitor that looks like a browser still gets no loading page.
    const nav = await get(`${r.proxyUrl}/`, { ...KUMA, accept: 'text/html', 'sec-fetch-mode': 'navigate' });
    assert.equal(nav.status, 503);
    assert.doesNotMatch(nav.body, /<html/i);
    const json = await get(`${r.proxyUrl}/health`, { accept: 'application/json' });
    assert.equal(json.status, 503);
    assert.deepEqual((JSON.parse(json.body) as { error: Record<string, unknown> }).error, {
      code: 'WAKE_ASLEEP', status: 503, message: 'a is asleep; requests matched by proxy.idle_ignore do not wake it', container: 'a', retryAfter: 60,
    });
    const head = await get(`${r.proxyUrl}/`, { 'x-client-ip': '10.0.5.9' }, 'HEAD');
    assert.equal(head.status, 503);
    assert.equal(head.headers.get('x-bellhop-state'), 'asleep');
    // A websocket upgrade from a monitor: a raw 503 on the socket.
    const chunks: Buffer[] = [];
    const socket = new Duplex({ read() {}, write(c: Buffer, _e, cb) { chunks.push(c); cb(); } });
    const up = { url: '/ws', method: 'GET', headers: { upgrade: 'websocket', 'user-agent': 'Uptime-Kuma/1' } } as IncomingMessage;
    assert.equal(await r.wake.gate(up, socket, { route: 'app' }), 'handled');
    assert.match(Buffer.concat(chunks).toString(), /^HTTP\/1\.1 503 Service Unavailable\r\nRetry-After: 60\r\nX-Bellhop-State: asleep\r\n/);
    assert.deepEqual(r.control.calls, []);
    assert.equal(r.wake.stateOf('m-a'), 'asleep');
    const real = await get(`${r.proxyUrl}/page`, { accept: '*/*', 'x-client-ip': '10.0.6.1' });
    assert.equal(real.body, 'proxied /page');
    assert.equal(r.control.count('start a'), 1);
  } finally {
    await r.close();
  }
});

test('idle_ignore while stopping: the monitor gets the asleep 503 and does not wake it again after the stop', async () => {
  const r = await rig({ state: 'running', idle: { idleTimeoutMs: 50, ...ignoreKuma } });
  try {
    r.control.stopDelayMs = 300;
    await until(() => r.wake.stateOf('m-a') === 'draining');
    const res = await get(`${r.proxyUrl}/`, KUMA);
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('x-bellhop-state'), 'asleep');
    await until(() => r.wake.stateOf('m-a') === 'asleep');
    await sleep(50);
    assert.deepEqual(r.control.calls, ['stop a t=10 s=-']);
  } finally {
    await r.close();
  }
});

test('idle_ignore while waking: a monitor is held like an API client (never the page), then proxied; still no activity', async () => {
  const r = await rig({ idle: { idleTimeoutMs: 400, ...ignoreKuma } });
  try {
    r.control.startDelayMs = 150;
    const realP = get(`${r.proxyUrl}/real`, { accept: '*/*' });
    await until(() => r.wake.stateOf('m-a') === 'waking');
    const monitor = await get(`${r.proxyUrl}/`, { ...KUMA, accept: 'text/html', 'sec-fetch-mode': 'navigate' });
    assert.equal(monitor.status, 200);
    assert.equal(monitor.body, 'proxied /');
    assert.equal((await realP).body, 'proxied /real');
    assert.equal(r.control.count('start a'), 1);
    // Monitors keep polling; the container still sleeps idle_timeout after the wake, while they
    // poll (were a poll counted, the 400 ms clock would never run out within the 20 s limit).
    const awakeAt = Date.now();
    while (r.wake.stateOf('m-a') === 'awake' && Date.now() - awakeAt < 20_000) {
      await get(`${r.proxyUrl}/`, KUMA);
      await sleep(40);
    }
    assert.notEqual(r.wake.stateOf('m-a'), 'awake', `still awake ${String(Date.now() - awakeAt)} ms after the wake, with the monitor polling`);
    await until(() => r.wake.stateOf('m-a') === 'asleep');
  } finally {
    await r.close();
  }
});

test('a container that dies within the settle window after its wake goes back to asleep once the window ends, and the next request starts it again', async () => {
  const r = await rig({ idle: { idleTimeoutMs: 60_000 } });
  try {
    assert.equal((await get(`${r.proxyUrl}/x`)).status, 200);
    assert.equal(r.wake.stateOf('m-a'), 'awake');
    // It crashes 100 ms after passing readiness; the watcher's die event syncs at once.
    await sleep(100);
    r.control.containers.get('a')!.state = 'exited';
    const appUrl = `http://127.0.0.1:${(r.servers[0]!.address() as AddressInfo).port}`;
    r.wake.sync({ routes: [route('app', [member('a', appUrl, 'exited', idleSpec({ idleTimeoutMs: 60_000 }))])] });
    assert.equal(r.wake.stateOf('m-a'), 'awake'); // still settling: our own view wins for now
    await until(() => r.wake.stateOf('m-a') === 'asleep', 20_000); // ...and is corrected after it
    assert.equal(r.wake.status()[0]!.dockerState, 'exited');
    assert.equal(r.control.count('start a'), 1);
    assert.equal((await get(`${r.proxyUrl}/y`)).status, 200);
    assert.equal(r.control.count('start a'), 2);
  } finally {
    await r.close();
  }
});

test('a failed Docker inspect while polling readiness is retried until wake_timeout, not a failed wake', async () => {
  const r = await rig({ idle: { wakeTimeoutMs: 5000 } });
  try {
    r.control.containers.get('a')!.healthyAfterMs = 200;
    const orig = r.control.inspect.bind(r.control);
    let n = 0;
    r.control.inspect = (id) => {
      n++;
      if (n === 3 || n === 4) return Promise.reject(Object.assign(new Error('connect ECONNREFUSED /var/run/docker.sock'), { code: 'ECONNREFUSED' }));
      return orig(id);
    };
    const out = await r.wake.ensureAwake('m-a');
    assert.deepEqual(out, { ok: true });
    assert.ok(n > 4);
    assert.equal(r.wake.stateOf('m-a'), 'awake');
  } finally {
    await r.close();
  }
});

test('stop_method kill with a graceful signal: still draining until the container has really exited; a request then starts it afresh', async () => {
  const r = await rig({ state: 'running', idle: { idleTimeoutMs: 50, stopMethod: 'kill', stopSignal: 'SIGTERM', stopTimeoutMs: 5000 } });
  try {
    // The app traps SIGTERM and takes 500 ms to shut down; Docker's kill returns at once.
    r.control.kill = (id, signal) => {
      r.control.calls.push(`kill ${id} s=${signal ?? '-'}`);
      setTimeout(() => (r.control.containers.get(id)!.state = 'exited'), 500);
      return Promise.resolve();
    };
    await until(() => r.control.count('kill a s=SIGTERM') === 1);
    await sleep(150);
    assert.equal(r.wake.stateOf('m-a'), 'draining'); // not asleep while it is still running
    const res = await get(`${r.proxyUrl}/late`); // waits for the exit, then starts it again
    assert.equal(res.status, 200);
    assert.deepEqual(r.control.calls, ['kill a s=SIGTERM', 'start a']);
  } finally {
    await r.close();
  }
});

test('in a pool, the progress stream and status follow the member the page woke (preferMember), and a stream with nothing to follow ends', async () => {
  const control = new FakeControl();
  control.add({ id: 'p1', state: 'exited' });
  control.add({ id: 'p2', state: 'exited', behaviour: 'exit' });
  const a1 = await fakeApp(control, 'p1');
  const a2 = await fakeApp(control, 'p2');
  const wake = new WakeManager({ control, coolDownMs: 5000, heartbeatMs: 50 });
  wake.sync({ routes: [route('pool', [member('p1', a1.url, 'exited', idleSpec()), member('p2', a2.url, 'exited', idleSpec())])] });
  let prefer: string | undefined = 'm-p2'; // the visitor's sticky cookie names p2
  const proxy = createServer((req, res) => {
    void Promise.resolve(wake.gate(req, res, { route: 'pool', preferMember: () => prefer })).then((r) => {
      if (r === 'proceed') res.end('proxied');
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  try {
    // Before any wake: nothing to follow, so the stream ends at once with the current state.
    const idle = await get(`${url}/.bellhop/wake/events`);
    assert.match(idle.body, /"state":"asleep"/);
    assert.equal((await get(`${url}/`, { accept: 'text/html', 'sec-fetch-mode': 'navigate' })).status, 200);
    await until(() => wake.status().find((s) => s.name === 'p2')?.lastError !== null);
    assert.deepEqual(control.calls, ['start p2']);
    const events = await get(`${url}/.bellhop/wake/events`);
    assert.match(events.body, /"type":"failed".*"container":"p2".*WAKE_EXITED/);
    const st = JSON.parse((await get(`${url}/.bellhop/wake/status`)).body) as { container: string; error?: { code: string } };
    assert.equal(st.container, 'p2');
    assert.equal(st.error?.code, 'WAKE_EXITED');
    prefer = undefined; // no cookie: still the latest failure, not a member nobody is waking
    assert.match((await get(`${url}/.bellhop/wake/events`)).body, /"container":"p2"/);
    assert.equal(wake.metrics().eventStreams, 0);
  } finally {
    wake.close();
    proxy.closeAllConnections();
    for (const s of [proxy, a1.server, a2.server]) await new Promise((r) => s.close(r));
  }
});

test('"dependency not found" and "dependency cycle" are logged once per change, not on every sync', () => {
  const warns: string[] = [];
  const logger = { debug() {}, info() {}, error() {}, warn: (_o: object, m: string) => void warns.push(m) };
  const wake = new WakeManager({ control: new FakeControl(), logger });
  const missing = { routes: [route('app', [member('app', 'http://127.0.0.1:1', 'running', idleSpec({ dependsOn: ['gone-db'] }))])] };
  for (let i = 0; i < 20; i++) wake.sync(missing);
  assert.equal(warns.filter((m) => /dependency not found/.test(m)).length, 1);
  const cycle = {
    routes: [
      route('x', [member('x', 'http://127.0.0.1:1', 'running', idleSpec({ dependsOn: ['y'] }))]),
      route('y', [member('y', 'http://127.0.0.1:2', 'running', idleSpec({ dependsOn: ['x'] }))]),
    ],
  };
  for (let i = 0; i < 20; i++) wake.sync(cycle);
  assert.equal(warns.filter((m) => /dependency cycle/.test(m)).length, 1);
  wake.sync(missing); // the problem is back after it went away: said again
  assert.equal(warns.filter((m) => /dependency not found/.test(m)).length, 2);
  wake.close();
});

test('durations past the 24.8-day timer limit work: wake_timeout 30d waits, idle_timeout 30d arms one clamped timer', async () => {
  const D30 = 30 * 24 * 3600 * 1000;
  const r = await rig({ idle: { wakeTimeoutMs: D30 } });
  try {
    r.control.containers.get('a')!.healthyAfterMs = 50;
    assert.deepEqual(await r.wake.ensureAwake('m-a'), { ok: true });
  } finally {
    await r.close();
  }
  const orig = globalThis.setTimeout;
  let overflowing = 0;
  let armed = 0;
  (globalThis as { setTimeout: unknown }).setTimeout = (fn: () => void, ms?: number) => {
    if (ms !== undefined && ms > 2 ** 31 - 1) overflowing++;
    if (ms !== undefined && ms > 1000) armed++;
    return orig(fn, ms);
  };
  try {
    const k = await rig({ state: 'running', idle: { idleTimeoutMs: D30 } });
    try {
      await sleep(300);
      assert.equal(overflowing, 0);
      assert.ok(armed <= 2, `idle clock armed ${armed} times`);
      assert.equal(k.wake.stateOf('m-a'), 'awake');
      assert.deepEqual(k.control.calls, []);
    } finally {
      await k.close();
    }
  } finally {
    globalThis.setTimeout = orig;
  }
});
