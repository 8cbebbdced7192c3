// Active health checks against real sockets on 127.0.0.1: rise/fall, timeouts, TCP checks,
// HEAD vs GET, the spread of 100 members' probes, and state across sync().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { HealthMonitor, PROBE_USER_AGENT, type MemberHealthStatus } from '../../internal/health/index.ts';
import type { HealthcheckSpec, MemberSpec } from '../../internal/routes/index.ts';
import { memberSpec } from '../fixtures/route-specs.ts';

interface Probe {
  at: number;
  method: string;
  path: string;
  ua: string | undefined;
}

interface Recorder {
  server: Server;
  url: string;
  probes: Probe[];
  handler: (req: IncomingMessage, res: ServerResponse, probe: Probe) => void;
  close(): Promise<void>;
}

async function recorder(): Promise<Recorder> {
  const rec = {
    probes: [] as Probe[],
    handler: (_req: IncomingMessage, res: ServerResponse) => void res.writeHead(200).end('ok'),
  } as unknown as Recorder;
  rec.server = createServer((req, res) => {
    const probe = { at: performance.now(), method: req.method ?? '', path: req.url ?? '', ua: req.headers['user-agent'] };
    rec.probes.push(probe);
    rec.handler(req, res, probe);
  });
  await new Promise<void>((resolve) => rec.server.listen(0, '127.0.0.1', resolve));
  rec.url = `http://127.0.0.1:${(rec.server.address() as AddressInfo).port}`;
  rec.close = () =>
    new Promise<void>((resolve) => {
      rec.server.closeAllConnections();
      rec.server.close(() => resolve());
    });
  return rec;
}

function member(id: string, url: string, hc: Partial<HealthcheckSpec> = {}): MemberSpec {
  return memberSpec(id, url, { path: '/health', intervalMs: 100, timeoutMs: 200, ...hc });
}

async function waitUntil(fn: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!fn()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const s = createTcpServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

test('a failing member leaves after exactly `fall` failures and returns after `rise` successes', async (t) => {
  const srv = await recorder();
  const hm = new HealthMonitor();
  t.after(async () => {
    await hm.close();
    await srv.close();
  });
  let failing = false;
  const usableWhenServed: { ok: boolean; usable: boolean }[] = [];
  srv.handler = (_req, res) => {
    usableWhenServed.push({ ok: !failing, usable: hm.isUsable('a') });
    res.writeHead(failing ? 500 : 200).end();
  };
  // Counted at the moment of each transition, so a slow test loop cannot blur the numbers.
  const transitions: { usable: boolean; probesServed: number; failsServed: number; oksServed: number }[] = [];
  hm.onChange((_id, s) =>
    transitions.push({
      usable: s.usable,
      probesServed: srv.probes.length,
      failsServed: usableWhenServed.filter((p) => !p.ok).length,
      oksServed: usableWhenServed.filter((p) => p.ok).length,
    }),
  );
  const m = member('a', srv.url, { intervalMs: 100, timeoutMs: 200, rise: 2, fall: 3 });
  hm.sync([{ name: 'p', members: [m] }]);
  assert.equal(hm.isUsable('a'), false, 'starting until the first success');
  assert.equal(hm.status('a')?.health, 'starting');
  await waitUntil(() => hm.isUsable('a'), 1000, 'first success');
  assert.equal(transitions.find((x) => x.usable)?.probesServed, 1, 'one success is enough for a new member');

  await sleep(150);
  usableWhenServed.length = 0;
  const failedAt = performance.now();
  failing = true;
  await waitUntil(() => !hm.isUsable('a'), 3000, 'leaving rotation');
  const leftAt = performance.now();
  const failsServed = usableWhenServed.filter((p) => !p.ok);
  // When the k-th failing probe is served, k-1 failures are applied: still usable up to fall-1.
  assert.deepEqual(failsServed.slice(0, 3).map((p) => p.usable), [true, true, true]);
  assert.equal(transitions.at(-1)?.failsServed, 3, 'left after exactly fall = 3 failures');
  assert.ok(leftAt - failedAt <= 3 * 100 + 200 + 400, `left within fall×interval + timeout (+slack): ${Math.round(leftAt - failedAt)} ms`);
  const s = hm.status('a') as MemberHealthStatus;
  assert.equal(s.health, 'unhealthy');
  assert.equal(s.reason, 'HTTP 500 from /health');
  assert.ok(s.consecutiveFailures >= 3);
  assert.ok(s.lastCheck !== null && !Number.isNaN(Date.parse(s.lastCheck)));
  assert.equal(typeof s.latencyMs, 'number');

  usableWhenServed.length = 0;
  failing = false;
  await waitUntil(() => hm.isUsable('a'), 3000, 'returning to rotation');
  const oksServed = usableWhenServed.filter((p) => p.ok);
  assert.deepEqual(oksServed.slice(0, 2).map((p) => p.usable), [false, false], 'one success is not enough with rise = 2');
  assert.equal(transitions.at(-1)?.oksServed, 2, 'restored after exactly rise = 2 successes');
  assert.equal(hm.status('a')?.health, 'healthy');
  assert.deepEqual(transitions.map((x) => x.usable), [false, true, false, true], 'added (starting), healthy, out, back');
});

test('a member failing every third probe never leaves with fall = 3', async (t) => {
  const srv = await recorder();
  const hm = new HealthMonitor();
  t.after(async () => {
    await hm.close();
    await srv.close();
  });
  let n = 0;
  let failures = 0;
  srv.handler = (_req, res) => {
    n += 1;
    const fail = n > 1 && n % 3 === 0;
    if (fail) failures += 1;
    res.writeHead(fail ? 503 : 204).end();
  };
  const unusable: string[] = [];
  hm.sync([{ name: 'p', members: [member('a', srv.url, { intervalMs: 40, fall: 3, rise: 2 })] }]);
  await waitUntil(() => hm.isUsable('a'), 1000, 'first success');
  hm.onChange((_id, s) => {
    if (!s.usable) unusable.push(s.reason);
  });
  await waitUntil(() => n >= 16, 5000, '16 probes');
  assert.ok(failures >= 4, 'failures did happen');
  assert.deepEqual(unusable, []);
  assert.equal(hm.isUsable('a'), true);
});

test('a member that accepts TCP but never answers becomes unhealthy by timeout', async (t) => {
  const sockets = new Set<Socket>();
  const hang: TcpServer = createTcpServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => hang.listen(0, '127.0.0.1', resolve));
  const hm = new HealthMonitor();
  t.after(async () => {
    await hm.close();
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => hang.close(() => resolve()));
  });
  const url = `http://127.0.0.1:${(hang.address() as AddressInfo).port}`;
  hm.sync([{ name: 'p', members: [member('h', url, { timeoutMs: 100, fall: 1 })] }]);
  await waitUntil(() => hm.status('h')?.health === 'unhealthy', 2000, 'unhealthy');
  assert.equal(hm.status('h')?.reason, 'timeout after 100ms');
  assert.equal(hm.isUsable('h'), false);
  assert.ok(sockets.size >= 1, 'the probe did connect');
});

test('TCP check (no path): closed port is unhealthy, listening port is healthy', async (t) => {
  const listening = createTcpServer((s) => s.destroy());
  await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
  const openPort = (listening.address() as AddressInfo).port;
  const closedPort = await freePort();
  const hm = new HealthMonitor();
  t.after(async () => {
    await hm.close();
    await new Promise<void>((resolve) => listening.close(() => resolve()));
  });
  hm.sync([
    {
      name: 'p',
      members: [
        member('open', `http://127.0.0.1:${openPort}`, { path: undefined, fall: 1 }),
        member('closed', `http://127.0.0.1:${closedPort}`, { path: undefined, fall: 1 }),
      ],
    },
  ]);
  await waitUntil(() => hm.isUsable('open') && hm.status('closed')?.health === 'unhealthy', 2000, 'both verdicts');
  assert.equal(hm.status('open')?.reason, `TCP connect to port ${openPort}`);
  assert.equal(hm.status('closed')?.reason, 'connect ECONNREFUSED');
  assert.equal(hm.poolSummary('p'), '1/2 members healthy');
});

test('HEAD by default, GET with use_get, always with the Bellhop User-Agent', async (t) => {
  const srv = await recorder();
  const hm = new HealthMonitor();
  t.after(async () => {
    await hm.close();
    await srv.close();
  });
  hm.sync([
    {
      name: 'p',
      members: [
        member('head', srv.url, { path: '/h', intervalMs: 60_000 }),
        member('get', srv.url, { path: '/g?x=1', useGet: true, intervalMs: 60_000 }),
      ],
    },
  ]);
  await waitUntil(() => hm.isUsable('head') && hm.isUsable('get'), 2000, 'both healthy');
  const byPath = new Map(srv.probes.map((p) => [p.path, p]));
  assert.equal(byPath.get('/h')?.method, 'HEAD');
  assert.equal(byPath.get('/g?x=1')?.method, 'GET');
  for (const p of srv.probes) assert.equal(p.ua, PROBE_USER_AGENT);
  assert.equal(PROBE_USER_AGENT, 'Bellhop-Health/1');
});

test('100 members: all probed within 1 s of sync, then spread across the interval', async (t) => {
  const srv = await recorder();
  const hm = new HealthMonitor();
  t.after(async () => {
    await hm.close();
    await srv.close();
  });
  const members = Array.from({ length: 100 }, (_, i) => member(`m${i}`, srv.url, { path: `/m/${i}`, intervalMs: 1000, timeoutMs: 500 }));
  const t0 = performance.now();
  hm.sync([{ name: 'big', members }]);
  await waitUntil(() => new Set(srv.probes.map((p) => p.path)).size === 100, 1000, 'every member probed once');
  const firstProbe = new Map<string, number>();
  for (const p of srv.probes) if (!firstProbe.has(p.path)) firstProbe.set(p.path, p.at - t0);
  assert.ok(Math.max(...firstProbe.values()) < 1000);
  await waitUntil(() => hm.poolSummary('big') === '100/100 members healthy', 1000, 'all healthy');

  // Steady state: three full intervals after the first one.
  const from = t0 + 1100;
  const to = from + 3000;
  await sleep(to - performance.now() + 50);
  const window = srv.probes.filter((p) => p.at >= from && p.at < to);
  const buckets = new Array<number>(30).fill(0);
  for (const p of window) buckets[Math.floor((p.at - from) / 100)]! += 1;
  assert.ok(window.length >= 270 && window.length <= 330, `about 300 probes in 3 s, got ${window.length}`);
  // Unjittered, the bucket at each interval boundary would hold all 100 members and the other
  // 27 buckets none. Evenly spread is about 10 per bucket; the bounds leave room for a loaded
  // machine pausing the event loop (seen: one bucket of 37 after a stall, with 4 CPU hogs on 2 CPUs).
  const max = Math.max(...buckets);
  assert.ok(max <= 45, `no 100 ms bucket holds more than 45% of one interval's probes: ${buckets.join(',')}`);
  assert.ok(buckets.filter((n) => n > 0).length >= 20, `probes fall in most buckets: ${buckets.join(',')}`);
  const perMember = new Map<string, number>();
  for (const p of window) perMember.set(p.path, (perMember.get(p.path) ?? 0) + 1);
  assert.equal(perMember.size, 100, 'every member keeps being probed');
});

test('sync() keeps the state of unchanged members and re-probes a member whose url changed', async (t) => {
  const a = await recorder();
  const b = await recorder();
  const hm = new HealthMonitor();
  t.after(async () => {
    await hm.close();
    await a.close();
    await b.close();
  });
  a.handler = (req, res) => void res.writeHead(req.url === '/bad' ? 500 : 200).end();
  const slow = { intervalMs: 60_000, fall: 1 };
  const pools = () => [{ name: 'p', members: [member('good', a.url, { ...slow, path: '/ok' }), member('bad', a.url, { ...slow, path: '/bad' })] }];
  hm.sync(pools());
  await waitUntil(() => hm.isUsable('good') && hm.status('bad')?.health === 'unhealthy', 2000, 'first verdicts');
  const probesBefore = a.probes.length;
  const lastCheck = hm.status('good')?.lastCheck;

  hm.sync(pools()); // a reload with identical members (fresh objects)
  assert.equal(hm.isUsable('good'), true, 'healthy stays healthy, no starting phase');
  assert.equal(hm.status('bad')?.health, 'unhealthy', 'never reset to healthy on reload');
  assert.equal(hm.isUsable('bad'), false);
  await sleep(100);
  assert.equal(a.probes.length, probesBefore, 'unchanged members are not re-probed');
  assert.equal(hm.status('good')?.lastCheck, lastCheck);

  // 'bad' moves to another address: probed at once, judged afresh.
  hm.sync([{ name: 'p', members: [member('good', a.url, { ...slow, path: '/ok' }), member('bad', b.url, { ...slow, path: '/bad' })] }]);
  assert.equal(hm.status('bad')?.health, 'starting');
  await waitUntil(() => hm.isUsable('bad'), 1000, 'new address probed');
  assert.equal(b.probes.length, 1);

  // Removed members are forgotten; their timers do not keep probing.
  hm.sync([{ name: 'p', members: [member('good', a.url, { ...slow, path: '/ok' })] }]);
  assert.equal(hm.status('bad'), undefined);
  assert.equal(hm.isUsable('bad'), false);
  assert.equal(hm.poolSummary('p'), '1/1 members healthy');
});
