// Docker discovery end to end on the real engine: a Bellhop child process (as a user runs it)
// turns labelled busybox httpd containers into routes and pools, live from the event stream.
//
// Only what happens is asserted here, never how fast: deadlines are generous (ROUTED_MS) so a
// busy machine cannot fail the gate. How long a start takes to be routed is measured by
// `npx node test/bench/discovery-latency.ts` (npm run bench), which prints median and p95.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type Docker from 'dockerode';
import { dockerSkip, dockerClient, runHttpd, removeQuietly, uniqueName, waitFor, TEST_IMAGE, type HttpdOptions } from '../support/docker-test.ts';
import { freePort, startBellhop, type BellhopUnderTest, type HttpResult } from '../support/bellhop-harness.ts';

const docker = dockerClient();
const containers: Docker.Container[] = [];
let bellhop: BellhopUnderTest;
/** Deadline for anything that waits on Docker plus Bellhop: generous, so only a real failure hits it. */
const ROUTED_MS = 30_000;

async function httpd(opts: HttpdOptions): Promise<Docker.Container> {
  const c = await runHttpd(docker, opts);
  containers.push(c);
  return c;
}

/** Polls through the proxy until `host` answers 200 with `body`. */
async function firstOk(host: string, body: string, timeoutMs = ROUTED_MS): Promise<void> {
  let last: HttpResult | undefined;
  try {
    await waitFor(
      async () => {
        last = await bellhop.get(host, '/', { timeoutMs: 2000 });
        return last.status === 200 && last.body === body ? true : undefined;
      },
      timeoutMs,
      `${host} to answer "${body}" through Bellhop`,
    );
  } catch (err) {
    const view = JSON.stringify(await bellhop.route(host).catch(() => 'no /api/routes'));
    throw new Error(`${(err as Error).message}; last response ${String(last?.status)} ${last?.body.slice(0, 120) ?? ''}; route ${view}`, { cause: err });
  }
}

function alias(prefix: string): string {
  return uniqueName(prefix).toLowerCase();
}

before(async () => {
  if (dockerSkip) return;
  bellhop = await startBellhop({ mode: 'child' });
});

after(async () => {
  await Promise.all(containers.map((c) => removeQuietly(c)));
  if (bellhop) await bellhop.stop();
});

test('a labelled bridge container, created then started, answers through Bellhop', { skip: dockerSkip }, async () => {
  const a = alias('br');
  const c = await runHttpd(docker, { name: a, body: `bridge-${a}`, labels: { 'proxy.aliases': a }, start: false });
  containers.push(c);
  await c.start();
  await firstOk(a, `bridge-${a}`);
  const r = await bellhop.route(a);
  assert.match(r?.members[0]?.url ?? '', /^http:\/\/\d+\.\d+\.\d+\.\d+:80$/, 'its bridge address and port 80');
  assert.equal(r?.members[0]?.usable, true);
});

test('a labelled host-network container answers on its label port', { skip: dockerSkip }, async () => {
  const a = alias('hn');
  let port = await freePort();
  // A port ending in 443 defaults to https (docs/labels.md); busybox httpd speaks http.
  while (port % 1000 === 443) port = await freePort();
  const c = await runHttpd(docker, { name: a, body: `host-${a}`, port, networkMode: 'host', labels: { [`proxy.${a}.port`]: String(port), 'proxy.aliases': a }, start: false });
  containers.push(c);
  await c.start();
  await firstOk(a, `host-${a}`);
  const r = await bellhop.route(a);
  assert.equal(r?.members[0]?.url, `http://127.0.0.1:${String(port)}`);
});

test('a bad port label gets no route and is listed with container, label and problem; others unaffected', { skip: dockerSkip }, async () => {
  const bad = alias('bad');
  const good = alias('good');
  await httpd({ name: bad, body: 'bad', labels: { [`proxy.${bad}.port`]: 'abc', 'proxy.aliases': bad } });
  await httpd({ name: good, body: 'good', labels: { 'proxy.aliases': good } });
  await firstOk(good, 'good');
  const view = await waitFor(async () => {
    const v = await bellhop.routes();
    return v.errors.some((e) => e.source === bad) ? v : undefined;
  }, ROUTED_MS, 'the label error to be listed');
  const err = view.errors.find((e) => e.source === bad)!;
  assert.equal(err.key, `proxy.${bad}.port`);
  assert.match(err.message, /abc/);
  assert.match(err.code, /PORT/);
  assert.equal(view.routes.find((r) => r.alias === bad), undefined);
  const r = await bellhop.get(bad);
  assert.equal(r.status, 404);
  assert.ok(!view.errors.some((e) => e.source === good));
});

/** Sends `n` sequential requests; returns body → count, and fails on any non-200. */
async function tally(host: string, n: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const r = await bellhop.get(host);
    assert.equal(r.status, 200, `request ${String(i)}: ${String(r.status)} ${r.body.slice(0, 120)}`);
    counts.set(r.body, (counts.get(r.body) ?? 0) + 1);
  }
  return counts;
}

function composeLabels(project: string, service: string, n: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'com.docker.compose.project': project,
    'com.docker.compose.service': service,
    'com.docker.compose.container-number': String(n),
    'com.docker.compose.oneoff': 'False',
    'proxy.exclude': 'false',
    ...extra,
  };
}

async function waitUsable(host: string, n: number): Promise<void> {
  await waitFor(async () => {
    const r = await bellhop.route(host);
    return r && r.members.length === n && r.members.every((m) => m.usable) ? r : undefined;
  }, ROUTED_MS, `${String(n)} usable members in ${host}`);
}

test('a stopped member leaves its pool at once; the other keeps answering; a removed plain container 404s', { skip: dockerSkip }, async () => {
  const svc = alias('pair');
  const project = alias('proj');
  const a = await httpd({ name: `${svc}-1`, body: 'A', labels: composeLabels(project, svc, 1) });
  await httpd({ name: `${svc}-2`, body: 'B', labels: composeLabels(project, svc, 2) });
  await waitUsable(svc, 2);
  const before = await tally(svc, 10);
  assert.deepEqual([...before.entries()].sort(), [['A', 5], ['B', 5]]);

  // Hammer the route while A stops: every request must succeed, and once Docker has reported
  // the stop, none may go to A. Counted in requests, not milliseconds: a few before the stop,
  // and at least AFTER_STOP requests sent after Bellhop dropped A, however slow they are.
  const AFTER_STOP = 10;
  let stopped = false;
  let hammering = true;
  const seen: { status: number; body: string; afterStop: boolean }[] = [];
  const hammer = (async () => {
    while (hammering) {
      const afterStop = stopped;
      const r = await bellhop.get(svc);
      seen.push({ status: r.status, body: r.body, afterStop });
    }
  })();
  await waitFor(() => (seen.length >= 3 ? true : undefined), ROUTED_MS, 'a few requests before the stop');
  await a.stop({ t: 0 });
  await waitFor(async () => {
    const r = await bellhop.route(svc);
    const m = r?.members.find((x) => x.name === `${svc}-1`);
    return m && !m.usable && m.url === '' ? true : undefined;
  }, ROUTED_MS, 'the stopped member to lose its address');
  stopped = true;
  await waitFor(() => (seen.filter((s) => s.afterStop).length >= AFTER_STOP ? true : undefined), ROUTED_MS, `${String(AFTER_STOP)} requests after the stop`).finally(() => {
    hammering = false;
  });
  await hammer;
  const bad = seen.filter((s) => s.status !== 200);
  assert.deepEqual(bad, [], 'every request during the stop succeeded');
  const toA = seen.filter((s) => s.afterStop && s.body === 'A');
  assert.deepEqual(toA, [], 'no request went to the stopped member');
  const after = await tally(svc, 10);
  assert.deepEqual([...after.entries()], [['B', 10]]);

  // A plain container (not compose) that is removed loses its route: 404.
  const solo = alias('solo');
  const s = await httpd({ name: solo, body: 'solo', labels: { 'proxy.aliases': solo } });
  await firstOk(solo, 'solo');
  await s.remove({ force: true });
  await waitFor(async () => ((await bellhop.get(solo)).status === 404 ? true : undefined), ROUTED_MS, `${solo} to 404 after removal`);
  assert.equal(await bellhop.route(solo), undefined);
});

test('3 compose replicas form one pool with weights 20/30/50 and split 100 requests exactly', { skip: dockerSkip }, async () => {
  const svc = alias('rep');
  const project = alias('proj');
  const weights = [20, 30, 50];
  await Promise.all(
    weights.map((w, i) =>
      httpd({ name: `${project}-${svc}-${String(i + 1)}`, body: `r${String(i + 1)}`, labels: composeLabels(project, svc, i + 1, { [`proxy.${svc}.load_balance.weight`]: String(w) }) }),
    ),
  );
  await waitUsable(svc, 3);
  const view = await bellhop.routes();
  // One pool under the service name; each replica also answers its own container name (GoDoxy's default alias).
  const pools = view.routes.filter((r) => r.members.length > 1 && r.members.some((m) => m.name.startsWith(`${project}-${svc}`)));
  assert.equal(pools.length, 1, 'one pool');
  for (let i = 1; i <= 3; i++) {
    const own = view.routes.find((r) => r.alias === `${project}-${svc}-${String(i)}`);
    assert.deepEqual(own?.members.map((m) => m.name), [`${project}-${svc}-${String(i)}`]);
  }
  const route = pools[0]!;
  assert.equal(route.alias, svc);
  const byName = new Map(route.members.map((m) => [m.name, m]));
  weights.forEach((w, i) => {
    const m = byName.get(`${project}-${svc}-${String(i + 1)}`)!;
    assert.equal(m.configured_weight, w);
    assert.equal(m.normalised_weight, w);
  });
  assert.equal(route.members.reduce((n, m) => n + (m.normalised_weight ?? 0), 0), 100);
  const counts = await tally(svc, 100);
  assert.deepEqual(Object.fromEntries(counts), { r1: 20, r2: 30, r3: 50 });
});

test('3 replicas, one weighted 30 and two unset, normalise to 30/35/35 and split exactly', { skip: dockerSkip }, async () => {
  const svc = alias('mix');
  const project = alias('proj');
  await Promise.all(
    [1, 2, 3].map((n) =>
      httpd({ name: `${project}-${svc}-${String(n)}`, body: `m${String(n)}`, labels: composeLabels(project, svc, n, n === 1 ? { [`proxy.${svc}.load_balance.weight`]: '30' } : {}) }),
    ),
  );
  await waitUsable(svc, 3);
  const route = (await bellhop.route(svc))!;
  const w = Object.fromEntries(route.members.map((m) => [m.name.slice(-1), [m.configured_weight, m.normalised_weight]]));
  assert.deepEqual(w, { '1': [30, 30], '2': [null, 35], '3': [null, 35] });
  const counts = await tally(svc, 100);
  assert.deepEqual(Object.fromEntries(counts), { m1: 30, m2: 35, m3: 35 });
});

test('the in-process harness (createBellhop) discovers a labelled container the same way', { skip: dockerSkip }, async () => {
  const inproc = await startBellhop({ mode: 'in-process' });
  try {
    const a = alias('inproc');
    await httpd({ name: a, body: 'inproc', labels: { 'proxy.aliases': a } });
    await waitFor(async () => ((await inproc.get(a)).body === 'inproc' ? true : undefined), ROUTED_MS, `${a} in-process`);
    const r = await inproc.route(a);
    assert.equal(r?.members[0]?.usable, true);
  } finally {
    await inproc.stop();
  }
});

test('docker.label_filter: a labelled container without the filter label is not seen at all', { skip: dockerSkip }, async () => {
  // The harness's Bellhop filters on this test process's owner label (TEST_LABELS).
  const seen = alias('seen');
  const unseen = alias('unseen');
  // The foreign one starts first: once the later one answers, Bellhop has seen both events.
  const foreign = await docker.createContainer({
    Image: TEST_IMAGE,
    name: unseen,
    Cmd: ['/bin/sh', '-c', "mkdir -p /www && printf unseen > /www/index.html && exec httpd -f -p 80 -h /www"],
    Labels: { 'bellhop.test': 'true', 'proxy.aliases': unseen },
    ExposedPorts: { '80/tcp': {} },
  });
  containers.push(foreign);
  await foreign.start();
  await httpd({ body: 'seen', labels: { 'proxy.aliases': seen } });
  await firstOk(seen, 'seen');
  assert.equal((await bellhop.get(unseen)).status, 404);
  assert.equal(await bellhop.route(unseen), undefined);
});
