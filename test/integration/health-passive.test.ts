// Passive ejection, Docker HEALTHCHECK gating and sleeping members, through the public
// HealthMonitor API with real timers and real sockets; the cool-down arithmetic on a fake clock.
// Waits for an eventual state have a 10 s deadline: they end as soon as the state holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HealthMonitor, type HealthLogger, type MemberHealthStatus } from '../../internal/health/index.ts';
import type { HealthcheckSpec, MemberSpec } from '../../internal/routes/index.ts';

function member(id: string, url = 'http://127.0.0.1:9', hc: Partial<HealthcheckSpec> = {}, container?: Partial<NonNullable<MemberSpec['container']>>): MemberSpec {
  const m: MemberSpec = {
    id,
    identity: id,
    name: `name-${id}`,
    url,
    noTlsVerify: false,
    healthcheck: { path: '/health', useGet: false, intervalMs: 50, timeoutMs: 200, rise: 1, fall: 1, disable: false, ...hc },
  };
  if (container) m.container = { id, name: `c-${id}`, dockerHost: 'unix:///var/run/docker.sock', createdAt: 0, state: 'running', ...container };
  return m;
}

const off = { disable: true };

async function waitUntil(fn: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!fn()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function countingServer(): Promise<{ url: string; hits: () => number; server: Server; close: () => Promise<void> }> {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits += 1;
    res.writeHead(200).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: () => hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const passive = { failures: 3, windowMs: 1000, baseEjectMs: 150, maxEjectMs: 500 };

test('passive: 3 failures eject; cool-down doubles; half-open trial decides (fake clock)', (t) => {
  // setTimeout and Date are node:test's fake clock: each cool-down is exact, and "not before the
  // cool-down" is checked 1 ms before it ends, whatever the machine's load.
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  const hm = new HealthMonitor({ passive, now: () => Date.now() });
  t.after(() => hm.close());
  hm.sync([{ name: 'p', members: [member('a', undefined, off), member('b', undefined, off)] }]);
  assert.equal(hm.isUsable('a'), true, 'disable: true is healthy without probes');
  assert.equal(hm.status('a')?.reason, 'healthcheck disabled');
  const coolDown = (): number => Date.parse(hm.status('a')!.ejectedUntil!) - Date.now();
  /** The cool-down ends exactly `ms` from now: still out 1 ms before, half-open at `ms`. */
  const outFor = (ms: number, what: string): void => {
    t.mock.timers.tick(ms - 1);
    assert.equal(hm.isUsable('a'), false, `${what}: not before the cool-down`);
    t.mock.timers.tick(1);
    assert.equal(hm.isUsable('a'), true, `${what}: half-open when the cool-down ends`);
    assert.match(hm.status('a')!.reason, /^half-open/);
  };

  hm.report('a', { ok: false, error: 'ECONNREFUSED' });
  hm.report('a', { ok: false, status: 502 });
  assert.equal(hm.isUsable('a'), true, 'two failures are not enough');
  hm.report('a', { ok: true, status: 500 }); // the app's own error: not a member failure, resets the run
  hm.report('a', { ok: false, status: 504 });
  hm.report('a', { ok: false, status: 503 });
  assert.equal(hm.isUsable('a'), true, 'failures must be consecutive');
  hm.report('a', { ok: false, error: 'timeout' });
  assert.equal(hm.isUsable('a'), false, 'third consecutive failure ejects');
  let s = hm.status('a') as MemberHealthStatus;
  assert.equal(s.health, 'unhealthy');
  assert.equal(s.reason, 'ejected: 3 failures in 1s (last: timeout), retry in 150ms');
  assert.equal(coolDown(), 150, 'first cool-down: baseEjectMs');
  hm.report('a', { ok: false, error: 'ECONNRESET' }); // in-flight request finishing late: ignored
  hm.report('a', { ok: true, status: 200 });
  assert.equal(hm.isUsable('a'), false);
  assert.equal(coolDown(), 150, 'late outcomes do not touch the cool-down');
  outFor(150, 'first ejection');

  hm.report('a', { ok: false, error: 'ECONNREFUSED' }); // the trial fails
  s = hm.status('a')!;
  assert.equal(s.usable, false);
  assert.match(s.reason, /trial request failed \(ECONNREFUSED\)/);
  assert.equal(coolDown(), 300, 'cool-down doubled');
  outFor(300, 'second ejection');

  hm.report('a', { ok: false, error: 'ECONNREFUSED' });
  assert.equal(coolDown(), 500, 'doubled to 600, capped at maxEjectMs = 500');
  outFor(500, 'third ejection');

  hm.report('a', { ok: true, status: 200 }); // the trial succeeds
  assert.equal(hm.status('a')?.reason, 'healthcheck disabled');
  assert.equal(hm.status('a')?.ejectedUntil, undefined);
  for (let i = 0; i < 3; i++) hm.report('a', { ok: false, error: 'ECONNREFUSED' });
  assert.equal(coolDown(), 150, 'a successful trial resets the cool-down');
});

test('passive: the last usable member of a pool is never ejected', (t) => {
  const hm = new HealthMonitor({ passive });
  t.after(() => hm.close());
  hm.sync([
    { name: 'solo', members: [member('s', undefined, off)] },
    { name: 'pair', members: [member('a', undefined, off), member('b', undefined, off)] },
  ]);
  for (let i = 0; i < 10; i++) hm.report('s', { ok: false, error: 'ECONNREFUSED' });
  assert.equal(hm.isUsable('s'), true, 'alone in its pool');

  for (let i = 0; i < 3; i++) hm.report('a', { ok: false, error: 'ECONNREFUSED' });
  assert.equal(hm.isUsable('a'), false);
  for (let i = 0; i < 10; i++) hm.report('b', { ok: false, error: 'ECONNREFUSED' });
  assert.equal(hm.isUsable('b'), true, 'b is the last usable member of pair');
  assert.equal(hm.poolSummary('pair'), '1/2 members healthy');

  // A member in two pools (two aliases) is protected if it is the last usable one in either.
  hm.sync([
    { name: 'x', members: [member('m', undefined, off), member('n', undefined, off)] },
    { name: 'y', members: [member('m', undefined, off)] },
  ]);
  for (let i = 0; i < 5; i++) hm.report('m', { ok: false, error: 'ECONNREFUSED' });
  assert.equal(hm.isUsable('m'), true);
  for (let i = 0; i < 3; i++) hm.report('n', { ok: false, error: 'ECONNREFUSED' });
  assert.equal(hm.isUsable('n'), false);
});

test('passive: when a pool loses its last usable member, an ejected one is let back on trial', (t) => {
  const hm = new HealthMonitor({ passive: { ...passive, baseEjectMs: 60_000 } });
  t.after(() => hm.close());
  hm.sync([{ name: 'p', members: [member('a', undefined, off), member('b', undefined, off)] }]);
  for (let i = 0; i < 3; i++) hm.report('a', { ok: false, error: 'ECONNREFUSED' });
  assert.equal(hm.isUsable('a'), false);
  hm.setDockerHealth('b', 'unhealthy');
  assert.equal(hm.isUsable('b'), false);
  assert.equal(hm.isUsable('a'), true, 'a is half-open instead of leaving the pool empty');
  assert.match(hm.status('a')!.reason, /^half-open/);
});

test('Docker HEALTHCHECK status gates traffic', (t) => {
  const hm = new HealthMonitor();
  t.after(() => hm.close());
  const seen: string[] = [];
  hm.onChange((id, s) => seen.push(`${id}:${s.health}`));
  hm.sync([{ name: 'p', members: [member('d', undefined, off, { dockerHealth: 'starting' }), member('e', undefined, off, { dockerHealth: 'healthy' })] }]);
  assert.equal(hm.isUsable('d'), false);
  assert.deepEqual({ h: hm.status('d')?.health, r: hm.status('d')?.reason }, { h: 'starting', r: 'docker: starting' });
  assert.equal(hm.isUsable('e'), true);
  hm.setDockerHealth('d', 'healthy');
  assert.equal(hm.isUsable('d'), true);
  hm.setDockerHealth('d', 'unhealthy');
  assert.equal(hm.isUsable('d'), false);
  assert.equal(hm.status('d')?.reason, 'docker: unhealthy');
  hm.setDockerHealth('d', undefined);
  assert.equal(hm.isUsable('d'), true, 'no HEALTHCHECK: no gate');
  // A later sync carrying a new Docker status (from a health_status event) applies it.
  hm.sync([{ name: 'p', members: [member('d', undefined, off, { dockerHealth: 'unhealthy' }), member('e', undefined, off, { dockerHealth: 'healthy' })] }]);
  assert.equal(hm.isUsable('d'), false);
  hm.setDockerHealth('nope', 'healthy'); // unknown members are ignored
  assert.deepEqual(seen, ['d:starting', 'e:healthy', 'd:healthy', 'd:unhealthy', 'd:healthy', 'd:unhealthy']);
});

test('a paused (sleeping) member is never probed; resume probes at once', async (t) => {
  const srv = await countingServer();
  const hm = new HealthMonitor();
  t.after(async () => {
    await hm.close();
    await srv.close();
  });
  hm.pause('z'); // the wake module may pause before discovery lists the member
  hm.sync([{ name: 'p', members: [member('z', srv.url)] }]);
  await sleep(250);
  assert.equal(srv.hits(), 0, 'never probed while asleep');
  assert.equal(hm.status('z')?.paused, true);
  hm.resume('z');
  await waitUntil(() => hm.isUsable('z'), 10_000, 'probed on resume');
  await waitUntil(() => srv.hits() >= 3, 10_000, 'regular probes');
  hm.pause('z');
  const hits = srv.hits();
  await sleep(250);
  assert.ok(srv.hits() <= hits + 1, 'at most a probe already in flight');
  assert.equal(hm.isUsable('z'), true, 'pause keeps the last verdict');
  hm.resume('z');
  hm.resume('z'); // idempotent
  await waitUntil(() => srv.hits() > hits + 1, 10_000, 'probing again');
});

test('shouldProbe hook and container state keep stopped containers unprobed', async (t) => {
  const srv = await countingServer();
  let asleep = true;
  const hm = new HealthMonitor({ shouldProbe: () => !asleep });
  t.after(async () => {
    await hm.close();
    await srv.close();
  });
  hm.sync([{ name: 'p', members: [member('w', srv.url, { intervalMs: 30 })] }]);
  await sleep(150);
  assert.equal(srv.hits(), 0, 'hook says asleep');
  asleep = false;
  await waitUntil(() => hm.isUsable('w'), 10_000, 'probed once the hook allows it');

  // A stopped container is not probed and not usable; starting it re-judges it from scratch.
  hm.sync([{ name: 'p', members: [member('c', srv.url, {}, { state: 'exited' })] }]);
  assert.equal(hm.status('c')?.reason, 'container exited');
  const before = srv.hits();
  await sleep(150);
  assert.equal(srv.hits(), before);
  hm.sync([{ name: 'p', members: [member('c', srv.url, {}, { state: 'running' })] }]);
  assert.equal(hm.status('c')?.health, 'starting');
  await waitUntil(() => hm.isUsable('c'), 10_000, 'probed when running');
});

test('probeNow, poolSummary, close and transition logs', async (t) => {
  const srv = await countingServer();
  const logs: { level: string; msg: string; obj: object }[] = [];
  const rec = (level: string) => (obj: object, msg: string) => void logs.push({ level, msg, obj });
  const logger: HealthLogger = { debug: rec('debug'), info: rec('info'), warn: rec('warn'), error: rec('error') };
  const hm = new HealthMonitor({ logger });
  t.after(() => srv.close());
  hm.pause('q');
  hm.sync([{ name: 'p', members: [member('q', srv.url, {}, { name: 'app-1' })] }]);
  const s = await hm.probeNow('q'); // the wake module checks readiness while the member is paused
  assert.equal(s?.health, 'healthy');
  assert.equal(srv.hits(), 1);
  assert.equal(await hm.probeNow('missing'), undefined);
  assert.equal(hm.poolSummary('p'), '1/1 members healthy');
  assert.equal(hm.poolSummary('unknown'), '0/0 members healthy');
  const info = logs.find((l) => l.level === 'info');
  assert.equal(info?.msg, 'health: name-q is healthy');
  assert.equal((info?.obj as { container?: string }).container, 'app-1');

  // A throwing listener is logged, never breaks the monitor.
  hm.onChange(() => {
    throw new Error('boom');
  });
  hm.setDockerHealth('q', 'unhealthy');
  assert.ok(logs.some((l) => l.level === 'warn' && l.msg === 'health: name-q is unhealthy: docker: unhealthy'));
  assert.ok(logs.some((l) => l.level === 'error' && l.msg === 'health: onChange listener threw'));

  await hm.close();
  assert.equal(hm.isUsable('q'), false);
  assert.equal(hm.status('q'), undefined);
  hm.sync([{ name: 'p', members: [member('q', srv.url)] }]); // ignored after close
  await sleep(100);
  assert.equal(srv.hits(), 1);
});

test('markReady: a member confirmed ready by the wake module takes traffic at once and stays in', async (t) => {
  const srv = await countingServer();
  const hm = new HealthMonitor();
  t.after(async () => {
    await hm.close();
    await srv.close();
  });
  hm.pause('w');
  hm.sync([{ name: 'p', members: [member('w', srv.url, { intervalMs: 40, rise: 2, fall: 3 }, { state: 'exited' })] }]);
  assert.equal(hm.isUsable('w'), false);
  assert.equal(hm.status('w')?.reason, 'container exited');
  hm.markReady('w');
  assert.equal(hm.isUsable('w'), true, 'usable without waiting for a probe');
  assert.equal(hm.status('w')?.reason, 'ready after wake');
  assert.equal(hm.status('w')?.paused, false);
  // Discovery reports the start afterwards: no reset to starting.
  hm.sync([{ name: 'p', members: [member('w', srv.url, { intervalMs: 40, rise: 2, fall: 3 }, { state: 'running' })] }]);
  assert.equal(hm.isUsable('w'), true);
  await waitUntil(() => srv.hits() >= 2, 10_000, 'regular probing resumed');
  hm.markReady('unknown'); // ignored
});

test('passive: a half-open member takes one trial at a time; only the trial\'s own end frees it; abandon or trialMs does too', async (t) => {
  const hm = new HealthMonitor({ passive: { ...passive, baseEjectMs: 50, trialMs: 150 } });
  t.after(() => hm.close());
  hm.sync([{ name: 'p', members: [member('a', undefined, off), member('b', undefined, off)] }]);
  for (let i = 0; i < 3; i++) hm.report('a', { ok: false, error: 'ECONNREFUSED' });
  await waitUntil(() => hm.isUsable('a'), 10_000, 'half-open');

  assert.equal(hm.attempt('b'), 0, 'a closed member: no trial');
  assert.equal(hm.isUsable('b'), true);
  const t1 = hm.attempt('a');
  assert.ok(t1 > 0);
  assert.equal(hm.isUsable('a'), false, 'the trial is out: no second request');
  assert.match(hm.status('a')!.reason, /^half-open: trial request in flight/);
  assert.equal(hm.status('a')!.health, 'healthy');
  hm.abandon('a', 0); // another request's client went away: not the trial
  assert.equal(hm.isUsable('a'), false);
  hm.abandon('a', t1); // the trial's client went away: no verdict, the next request is the trial
  assert.equal(hm.isUsable('a'), true);
  assert.match(hm.status('a')!.reason, /^half-open: next request is a trial/);

  const t2 = hm.attempt('a');
  assert.equal(hm.isUsable('a'), false);
  await waitUntil(() => hm.isUsable('a'), 10_000, 'trialMs to pass without an answer');
  assert.ok(hm.status('a')!.reason.startsWith('half-open: next request is a trial'));
  const t3 = hm.attempt('a');
  hm.report('a', { ok: true, status: 200 }, t2); // the timed-out trial answers late: not this one
  assert.equal(hm.isUsable('a'), true, 'any success closes a half-open member');
  assert.equal(hm.status('a')!.reason, 'healthcheck disabled');
  hm.abandon('a', t3); // a no-op now
  assert.equal(hm.isUsable('a'), true);
  hm.abandon('gone', 1);
  assert.equal(hm.attempt('gone'), 0);
});

test('passive: a trial never leaves its pool empty, and a failed trial on the last usable member keeps it usable', async (t) => {
  const hm = new HealthMonitor({ passive: { ...passive, baseEjectMs: 50, trialMs: 60_000 } });
  t.after(() => hm.close());
  hm.sync([{ name: 'p', members: [member('a', undefined, off), member('b', undefined, off)] }]);
  const halfOpen = async (): Promise<void> => {
    for (let i = 0; i < 3; i++) hm.report('a', { ok: false, error: 'ECONNREFUSED' });
    await waitUntil(() => hm.isUsable('a'), 10_000, 'half-open');
  };
  await halfOpen();

  // b fails while a's trial is out: a takes every request again instead of the pool going dark
  const t1 = hm.attempt('a');
  assert.equal(hm.isUsable('a'), false);
  hm.setDockerHealth('b', 'unhealthy');
  assert.equal(hm.isUsable('a'), true, 'the pool is not left with nothing usable');
  hm.report('a', { ok: false, status: 502 }, t1); // the trial fails, but a is the last one left
  assert.equal(hm.isUsable('a'), true, 'not ejected, not held back');

  // b back; a new trial fails while b is down again: a stays usable, not stuck "in flight"
  hm.setDockerHealth('b', undefined);
  hm.report('a', { ok: true, status: 200 });
  await halfOpen();
  const t2 = hm.attempt('a');
  assert.ok(t2 > 0);
  hm.setDockerHealth('b', 'unhealthy'); // rescue ends the trial hold
  hm.report('a', { ok: false, status: 504 }, t2);
  assert.equal(hm.isUsable('a'), true);
  hm.setDockerHealth('b', undefined);
  assert.equal(hm.isUsable('a'), true, 'still usable once b is back: nothing left hanging');

  // The pool's only usable member on trial takes every request, as it did before the ejection.
  hm.setDockerHealth('b', 'unhealthy');
  assert.equal(hm.attempt('a'), 0);
  assert.equal(hm.isUsable('a'), true);
});
