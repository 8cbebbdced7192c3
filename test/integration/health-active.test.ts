// Active health checks against real sockets on 127.0.0.1: rise/fall, timeouts, TCP checks,
// HEAD vs GET, the schedule of 100 members' probes, and state across sync().
//
// No assertion here depends on how fast the machine is. A wait for an eventual state has a long
// deadline (it returns as soon as the state holds); the schedule of the 100-member test runs on
// a fake clock. How the schedule behaves in real time (probes per second, spread under load) is
// a figure, printed by `BENCH_ONLY=health npm run bench` (test/bench/health-probe-spread.ts).
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
  // Probes may take 2 s: a live member's answer can take longer than 200 ms on a loaded
  // machine, and a timed-out probe is a failure. Tests about timeouts set their own.
  return memberSpec(id, url, { path: '/health', intervalMs: 100, timeoutMs: 2000, ...hc });
}

/** Long enough that only a broken monitor misses it; a wait ends as soon as its state holds. */
const EVENTUALLY_MS = 10_000;

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
  // A minute for the re-probe ceiling of unhealthy members: if they were re-probed at that
  // ceiling instead of at min(interval, ceiling), coming back would take two minutes, not 200 ms.
  const hm = new HealthMonitor({ fastIntervalMs: 60_000 });
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
  const m = member('a', srv.url, { intervalMs: 100, timeoutMs: 2000, rise: 2, fall: 3 });
  hm.sync([{ name: 'p', members: [m] }]);
  assert.equal(hm.isUsable('a'), false, 'starting until the first success');
  assert.equal(hm.status('a')?.health, 'starting');
  await waitUntil(() => hm.isUsable('a'), EVENTUALLY_MS, 'first success');
  assert.equal(transitions.find((x) => x.usable)?.probesServed, 1, 'one success is enough for a new member');

  await sleep(150);
  usableWhenServed.length = 0;
  failing = true;
  // About fall × interval = 300 ms; the deadline only catches a member that is never taken out.
  await waitUntil(() => !hm.isUsable('a'), EVENTUALLY_MS, 'leaving rotation');
  const failsServed = usableWhenServed.filter((p) => !p.ok);
  // When the k-th failing probe is served, k-1 failures are applied: still usable up to fall-1.
  assert.deepEqual(failsServed.slice(0, 3).map((p) => p.usable), [true, true, true]);
  assert.equal(transitions.at(-1)?.failsServed, 3, 'left after exactly fall = 3 failures');
  const s = hm.status('a') as MemberHealthStatus;
  assert.equal(s.health, 'unhealthy');
  assert.equal(s.reason, 'HTTP 500 from /health');
  assert.ok(s.consecutiveFailures >= 3);
  assert.ok(s.lastCheck !== null && !Number.isNaN(Date.parse(s.lastCheck)));
  assert.equal(typeof s.latencyMs, 'number');

  usableWhenServed.length = 0;
  failing = false;
  // rise × interval = 200 ms; re-probing an unhealthy member at the 60 s ceiling would miss this.
  await waitUntil(() => hm.isUsable('a'), EVENTUALLY_MS, 'returning to rotation');
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
  await waitUntil(() => hm.isUsable('a'), EVENTUALLY_MS, 'first success');
  hm.onChange((_id, s) => {
    if (!s.usable) unusable.push(s.reason);
  });
  await waitUntil(() => n >= 16, 2 * EVENTUALLY_MS, '16 probes');
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
  await waitUntil(() => hm.status('h')?.health === 'unhealthy', EVENTUALLY_MS, 'unhealthy');
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
  await waitUntil(() => hm.isUsable('open') && hm.status('closed')?.health === 'unhealthy', EVENTUALLY_MS, 'both verdicts');
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
  await waitUntil(() => hm.isUsable('head') && hm.isUsable('get'), EVENTUALLY_MS, 'both healthy');
  const byPath = new Map(srv.probes.map((p) => [p.path, p]));
  assert.equal(byPath.get('/h')?.method, 'HEAD');
  assert.equal(byPath.get('/g?x=1')?.method, 'GET');
  for (const p of srv.probes) assert.equal(p.ua, PROBE_USER_AGENT);
  assert.equal(PROBE_USER_AGENT, 'Bellhop-Health/1');
});

/** Polls with setInterval, which the fake clock below leaves real (it fakes setTimeout only). */
function settled(fn: () => boolean, what: string): Promise<void> {
  if (fn()) return Promise.resolve();
  const deadline = performance.now() + 3 * EVENTUALLY_MS;
  return new Promise((resolve, reject) => {
    const poll = setInterval(() => {
      if (fn()) {
        clearInterval(poll);
        resolve();
      } else if (performance.now() > deadline) {
        clearInterval(poll);
        reject(new Error(`timed out waiting for ${what}`));
      }
    }, 2);
  });
}

test('100 members: all probed on sync, then each once per interval at its own slot, spread across the interval (fake clock)', async (t) => {
  // The schedule runs on node:test's fake setTimeout, advanced one 1/30 of the interval at a
  // time; between steps the probes that step started (real HTTP to 127.0.0.1) are let finish.
  // So which step a probe falls in depends on the schedule only, never on how busy the machine
  // is. Left: the few ms a probe takes, by which its next slot comes earlier (real time measured
  // against the interval); a step is 2 s, so that moves a probe by at most one step.
  const INTERVAL = 60_000;
  const STEPS = 30; // per interval
  const STEP = INTERVAL / STEPS;
  const srv = await recorder();
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let step = 0;
  /** member → the steps in which its scheduled probes fired (step 0: during sync) */
  const fired = new Map<string, number[]>();
  const hm = new HealthMonitor({
    // called as each scheduled probe fires, so the fake step is the probe's time
    shouldProbe: (id) => {
      fired.set(id, [...(fired.get(id) ?? []), step]);
      return true;
    },
  });
  t.after(async () => {
    t.mock.timers.reset();
    await hm.close();
    await srv.close();
  });
  // A probe timeout (10 s) longer than a step: no probe can time out inside one tick.
  const members = Array.from({ length: 100 }, (_, i) => member(`m${i}`, srv.url, { path: `/m/${i}`, intervalMs: INTERVAL, timeoutMs: 10_000 }));
  const firedTotal = (): number => [...fired.values()].reduce((n, f) => n + f.length, 0);
  // every probe that fired has been answered and applied (each one succeeds)
  const quiet = (): boolean =>
    srv.probes.length === firedTotal() && members.every((m) => hm.status(m.id)?.consecutiveSuccesses === (fired.get(m.id)?.length ?? 0));

  hm.sync([{ name: 'big', members }]);
  // The fake clock has not moved: only sync itself can have started these.
  assert.equal(fired.size, 100, 'every member probed at once on sync, before any timer');
  assert.ok([...fired.values()].every((f) => f.length === 1));
  await settled(quiet, 'the first probes to be answered');
  assert.equal(new Set(srv.probes.map((p) => p.path)).size, 100);
  assert.equal(hm.poolSummary('big'), '100/100 members healthy');

  for (step = 1; step <= 4 * STEPS; step++) {
    t.mock.timers.tick(STEP);
    await settled(quiet, `the probes of step ${String(step)} to be answered`);
  }
  t.mock.timers.reset();

  const inInterval = (k: number) => (s: number): boolean => s > k * STEPS && s <= (k + 1) * STEPS;
  const perStep = (k: number): number[] => {
    const counts = new Array<number>(STEPS).fill(0);
    for (const f of fired.values()) for (const s of f.filter(inInterval(k))) counts[(s - 1) % STEPS]! += 1;
    return counts;
  };
  // First interval: each member's second probe, at its jittered slot. Unjittered, all 100 would
  // fall in the interval's last step; evenly spread is about 3 per step.
  for (const m of members) assert.equal(fired.get(m.id)!.filter(inInterval(0)).length, 1, `${m.id}: one probe in the first interval`);
  for (let k = 0; k < 4; k++) {
    const counts = perStep(k);
    assert.ok(Math.max(...counts) <= 15, `interval ${String(k)}: no step holds more than 15 of 100 probes: ${counts.join(',')}`);
    assert.ok(counts.filter((n) => n > 0).length >= 20, `interval ${String(k)}: probes fall in most steps: ${counts.join(',')}`);
  }
  // Steady state: every member keeps being probed, once per interval, in the same slot.
  let steady = 0;
  for (const m of members) {
    const f = fired.get(m.id)!;
    const later = f.filter((s) => s > STEPS);
    steady += later.length;
    assert.ok(later.length >= 2 && later.length <= 4, `${m.id}: about 3 probes in 3 intervals, fired in steps ${f.join(',')}`);
    for (let i = 2; i < f.length; i++) {
      const gap = f[i]! - f[i - 1]!;
      assert.ok(gap >= STEPS - 1 && gap <= STEPS, `${m.id}: probed once per interval (${String(STEPS)} steps), fired in steps ${f.join(',')}`);
    }
  }
  assert.ok(steady >= 270 && steady <= 330, `about 300 probes in 3 intervals, got ${String(steady)}`);
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
  await waitUntil(() => hm.isUsable('good') && hm.status('bad')?.health === 'unhealthy', EVENTUALLY_MS, 'first verdicts');
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
  await waitUntil(() => hm.isUsable('bad'), EVENTUALLY_MS, 'new address probed');
  assert.equal(b.probes.length, 1);

  // Removed members are forgotten; their timers do not keep probing.
  hm.sync([{ name: 'p', members: [member('good', a.url, { ...slow, path: '/ok' })] }]);
  assert.equal(hm.status('bad'), undefined);
  assert.equal(hm.isUsable('bad'), false);
  assert.equal(hm.poolSummary('p'), '1/1 members healthy');
});
