import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../config/index.ts';
import type { ContainerRecord } from '../docker/index.ts';
import type { DockerHealth, PoolMembers } from '../health/index.ts';
import { LiveRoutes } from '../pools/index.ts';
import type { MemberSpec } from '../routes/index.ts';
import type { WakeSyncInput } from '../wake/index.ts';
import { matchesLabelFilter } from './label-filter.ts';
import { Reconciler, type ReconcileHealth, type ReconcileWake } from './reconciler.ts';

function configOf(yaml: string): Config {
  const dir = mkdtempSync(join(tmpdir(), 'bellhop-reconcile-'));
  try {
    writeFileSync(join(dir, 'config.yml'), yaml);
    const loaded = loadConfig({ env: {}, cwd: dir });
    if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.format()).join('\n'));
    return loaded.config;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A container as DockerHub lists it: on network `net` at `ip` ('' when stopped), exposing 80. */
function record(name: string, labels: Record<string, string>, ip = '172.18.0.5', over: Partial<ContainerRecord> = {}): ContainerRecord {
  return {
    id: `id-${name}`,
    name,
    dockerHost: 'unix:///var/run/docker.sock',
    labels,
    image: 'example/app:1',
    createdAt: 1_000,
    state: ip === '' ? 'exited' : 'running',
    networkMode: 'bridge',
    networks: [{ name: 'net', ip }],
    exposedPorts: [80],
    publishedPorts: {},
    composeDependsOn: [],
    ...over,
  };
}

class HealthSpy implements ReconcileHealth {
  readonly syncs: PoolMembers[][] = [];
  readonly ready: string[] = [];
  readonly dockerHealth: [string, DockerHealth | undefined][] = [];
  sync(pools: readonly PoolMembers[]): void {
    this.syncs.push([...pools]);
  }
  markReady(memberId: string): void {
    this.ready.push(memberId);
  }
  setDockerHealth(memberId: string, health: DockerHealth | undefined): void {
    this.dockerHealth.push([memberId, health]);
  }
  /** The members of the last sync, by id. */
  lastMembers(): Map<string, MemberSpec> {
    return new Map((this.syncs.at(-1) ?? []).flatMap((p) => p.members.map((m) => [m.id, m] as const)));
  }
}

class WakeSpy implements ReconcileWake {
  readonly syncs: WakeSyncInput[] = [];
  readonly states = new Map<string, string>();
  readonly urls = new Map<string, string>();
  sync(input: WakeSyncInput): void {
    this.syncs.push(input);
  }
  stateOf(memberId: string): string | undefined {
    return this.states.get(memberId);
  }
  upstreamUrl(memberId: string, fallback: string): string {
    return this.urls.get(memberId) ?? fallback;
  }
}

function setup(yaml = 'docker: { hosts: [] }\n', opts: { now?: () => number } = {}) {
  const config = configOf(yaml);
  let records: ContainerRecord[] = [];
  const health = new HealthSpy();
  const wake = new WakeSpy();
  const warnings: object[] = [];
  const live = new LiveRoutes({ health: { isUsable: () => true, report: () => undefined }, stickySecret: new Uint8Array(32) });
  const reconciler = new Reconciler({
    config: () => config,
    self: () => ({ networks: [] }),
    records: () => records,
    live,
    health,
    wake,
    logger: { debug: () => undefined, warn: (obj) => warnings.push(obj) },
    recreateGraceMs: 60_000,
    now: opts.now,
  });
  return {
    config, health, wake, live, reconciler, warnings,
    /** Docker reports this picture: every record is a fresh object, as after a real inspect. */
    docker(...list: ContainerRecord[]) {
      records = structuredClone(list);
    },
    memberId(route: string, i = 0): string {
      return live.route(route)!.spec.members[i]!.id;
    },
  };
}

// ── docker.label_filter ──────────────────────────────────────────────────────────────────

test('label filter: `key` needs the label with any value, `key=value` that exact value (which may hold "="); all entries must match', () => {
  const labels = { 'bellhop.instance': 'home', flag: '', expr: 'a=b' };
  assert.ok(matchesLabelFilter(labels, []));
  assert.ok(matchesLabelFilter(labels, ['bellhop.instance']));
  assert.ok(matchesLabelFilter(labels, ['flag']));
  assert.ok(matchesLabelFilter(labels, ['flag=']));
  assert.ok(matchesLabelFilter(labels, ['bellhop.instance=home', 'expr=a=b']));
  assert.equal(matchesLabelFilter(labels, ['bellhop.instance=work']), false);
  assert.equal(matchesLabelFilter(labels, ['bellhop.instance=home', 'missing']), false);
  assert.equal(matchesLabelFilter(labels, ['bellhop.instance=']), false);
  assert.equal(matchesLabelFilter(labels, ['toString']), false, 'only the container\'s own labels count');
});

test('a container without the filter labels gets no route and is not handed to wake', () => {
  const s = setup('docker: { hosts: [], label_filter: ["bellhop.instance=home"] }\n');
  s.docker(
    record('mine', { 'proxy.mine.port': '80', 'bellhop.instance': 'home' }),
    record('theirs', { 'proxy.theirs.port': '80', 'bellhop.instance': 'work' }, '172.18.0.6'),
    record('unmarked', { 'proxy.unmarked.port': '80' }, '172.18.0.7'),
  );
  assert.deepEqual(s.reconciler.visible().map((r) => r.name), ['mine']);
  s.reconciler.recompute();
  assert.deepEqual(s.live.all().map((r) => r.name), ['mine']);
  assert.deepEqual(s.wake.syncs.at(-1)!.containers!.map((c) => c.name), ['mine']);
});

// ── recompute: which routes stay, go, or are left alone ──────────────────────────────────

test('file routes serve before Docker says anything; container routes come and go with their containers', () => {
  const s = setup('docker: { hosts: [] }\nroutes:\n  nas: { url: "http://127.0.0.1:5000", healthcheck: { disable: true } }\n');
  assert.deepEqual(s.reconciler.recompute(), { added: ['nas'], changed: [], removed: [] });
  s.docker(record('app', { 'proxy.app.port': '80' }), record('api', { 'proxy.api.port': '80' }, '172.18.0.6'));
  assert.deepEqual(s.reconciler.recompute(), { added: ['api', 'app'], changed: [], removed: [] });
  assert.equal(s.live.resolver.resolve('app')?.name, 'app');
  s.docker(record('app', { 'proxy.app.port': '80' }));
  assert.deepEqual(s.reconciler.recompute(), { added: [], changed: [], removed: ['api'] });
  assert.equal(s.live.resolver.resolve('api'), undefined, 'a plain container that is removed is gone at once (404)');
  assert.deepEqual([...s.health.lastMembers().keys()].sort(), [s.memberId('app'), s.memberId('nas')].sort());
});

test('a compose service whose container vanished keeps its route without members until the grace ends', () => {
  let now = 0;
  const s = setup(undefined, { now: () => now });
  const compose = { composeProject: 'shop', composeService: 'shop' };
  s.docker(record('shop-web-1', { 'proxy.shop.port': '80' }, '172.18.0.5', compose));
  s.reconciler.recompute();
  s.docker();
  // both of its default hosts: the service name and the container name (docs/labels.md)
  assert.deepEqual(s.reconciler.recompute(), { added: [], changed: ['shop', 'shop-web-1'], removed: [] });
  assert.deepEqual(s.live.route('shop')!.spec.members, [], 'kept as a placeholder: requests are held or get 503, never 404');
  assert.deepEqual(s.live.route('shop-web-1')!.spec.members, []);
  now += 60_000;
  assert.deepEqual(s.reconciler.recompute(), { added: [], changed: [], removed: ['shop', 'shop-web-1'] });
  s.reconciler.close();
});

test('an event that changes one route of many touches that route only: LiveRoutes, health targets and Docker health of the others are left alone', () => {
  const s = setup();
  const a = record('a', { 'proxy.a.port': '80' }, '172.18.0.5');
  const b = record('b', { 'proxy.b.port': '80' }, '172.18.0.6', { dockerHealth: 'starting' });
  const c = record('c', { 'proxy.c.port': '80' }, '172.18.0.7', { dockerHealth: 'healthy' });
  s.docker(a, b, c);
  s.reconciler.recompute();
  assert.equal(s.health.syncs.length, 1);
  const routesBefore = new Map(s.live.all().map((r) => [r.name, r]));
  const membersBefore = s.health.lastMembers();
  s.health.dockerHealth.length = 0;

  // Docker reports b healthy: every record (and so every spec) is rebuilt from scratch.
  s.docker(a, { ...b, dockerHealth: 'healthy' }, c);
  assert.deepEqual(s.reconciler.recompute(), { added: [], changed: ['b'], removed: [] });
  assert.equal(s.health.syncs.length, 2, 'health learns the new membership once');
  const membersAfter = s.health.lastMembers();
  for (const name of ['a', 'c']) {
    const id = s.memberId(name);
    assert.equal(membersAfter.get(id), membersBefore.get(id), `${name}: health gets the member object it already has`);
    assert.equal(s.live.route(name), routesBefore.get(name), `${name}: same LiveRoute`);
  }
  assert.notEqual(membersAfter.get(s.memberId('b')), membersBefore.get(s.memberId('b')));
  assert.deepEqual(s.health.dockerHealth, [[s.memberId('b'), 'healthy']], 'Docker health is set for the changed route only');

  // An event that changes no route (an unlabelled container started): health is not touched at all.
  s.docker(a, { ...b, dockerHealth: 'healthy' }, c, record('db', {}, '172.18.0.8'));
  const wakeSyncs = s.wake.syncs.length;
  assert.deepEqual(s.reconciler.recompute(), { added: [], changed: [], removed: [] });
  assert.equal(s.health.syncs.length, 2, 'no health.sync when no route changed');
  assert.deepEqual(s.health.dockerHealth, [[s.memberId('b'), 'healthy']]);
  assert.equal(s.wake.syncs.length, wakeSyncs + 1, 'wake still sees every container (dependencies need not have routes)');
  assert.ok(s.wake.syncs.at(-1)!.containers!.some((r) => r.name === 'db'));
});

test('label errors are reported, and logged once until they change', () => {
  const s = setup();
  s.docker(record('app', { 'proxy.app.port': 'abc' }));
  s.reconciler.recompute();
  s.reconciler.recompute();
  assert.deepEqual(s.reconciler.errors.map((e) => [e.source, e.key]), [['app', 'proxy.app.port']]);
  assert.equal(s.warnings.length, 1);
  s.docker(record('app', { 'proxy.app.port': '80' }));
  s.reconciler.recompute();
  assert.deepEqual(s.reconciler.errors, []);
  assert.equal(s.live.route('app')?.spec.members[0]?.url, 'http://172.18.0.5:80');
});

// ── the readiness handshake between wake and health ──────────────────────────────────────

function sleeper(ip: string): ContainerRecord {
  return record('app', { 'proxy.app.port': '80', 'proxy.idle_timeout': '15m' }, ip);
}

test('a woken member keeps the readiness the wake proved when discovery lists it at the probed address', () => {
  const s = setup();
  s.docker(sleeper(''));
  s.reconciler.recompute();
  const id = s.memberId('app');
  assert.equal(s.live.route('app')!.spec.members[0]!.url, '', 'a stopped container is listed without an address');

  // The wake started it and probed it at its new address.
  s.wake.urls.set(id, 'http://172.18.0.9:80');
  s.wake.states.set(id, 'awake');
  s.reconciler.wakeDone({ containerId: 'id-app', container: 'app', ok: true, durationMs: 1200 });
  assert.deepEqual(s.health.ready, [id], 'ready at once: held requests are not turned away');

  // An unrelated event before discovery has the address: still waiting.
  s.reconciler.recompute();
  assert.deepEqual(s.health.ready, [id]);

  // Discovery lists it at that address: health.sync saw a new target, the wake's verdict is kept.
  s.docker(sleeper('172.18.0.9'));
  s.reconciler.recompute();
  assert.deepEqual(s.health.ready, [id, id]);
  assert.ok(s.health.syncs.at(-1)!.some((p) => p.members.some((m) => m.id === id && m.url === 'http://172.18.0.9:80')));

  // Settled: later events leave it to the health monitor.
  s.docker(sleeper('172.18.0.9'), record('other', { 'proxy.other.port': '80' }, '172.18.0.6'));
  s.reconciler.recompute();
  assert.deepEqual(s.health.ready, [id, id]);
});

test('a woken member listed at another address, or asleep again, loses the wake\'s verdict; a failed wake proves nothing', () => {
  const s = setup();
  s.docker(sleeper(''));
  s.reconciler.recompute();
  const id = s.memberId('app');
  s.reconciler.wakeDone({ containerId: 'id-app', container: 'app', ok: false, durationMs: 3000, code: 'WAKE_TIMEOUT' });
  assert.deepEqual(s.health.ready, []);

  s.wake.urls.set(id, 'http://172.18.0.9:80');
  s.wake.states.set(id, 'awake');
  s.reconciler.wakeDone({ containerId: 'id-app', container: 'app', ok: true, durationMs: 1200 });
  s.docker(sleeper('172.18.0.10'));
  s.reconciler.recompute();
  assert.deepEqual(s.health.ready, [id], 'another address: the probe there proved nothing');
  // Even if it comes back at the probed address later, that old verdict is gone.
  s.docker(sleeper('172.18.0.9'));
  s.reconciler.recompute();
  assert.deepEqual(s.health.ready, [id]);

  s.docker(sleeper(''));
  s.reconciler.recompute();
  s.reconciler.wakeDone({ containerId: 'id-app', container: 'app', ok: true, durationMs: 1200 });
  s.wake.states.set(id, 'asleep');
  s.docker(sleeper('172.18.0.9'));
  s.reconciler.recompute();
  assert.deepEqual(s.health.ready, [id, id], 'listed at the address but asleep again: not marked ready');
});
