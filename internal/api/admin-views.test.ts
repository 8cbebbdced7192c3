import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DockerWatcherStatus } from '../docker/index.ts';
import type { MemberHealthStatus } from '../health/index.ts';
import { LiveRoutes } from '../pools/index.ts';
import { buildRouteTable, type RouteError } from '../routes/index.ts';
import { containerOf, memberSpec, routeSpec } from '../../test/fixtures/route-specs.ts';
import { createAdminViews, type AdminViewSources } from './admin-views.ts';

const idle = { idleTimeoutMs: 60_000, wakeTimeoutMs: 180_000, stopTimeoutMs: 30_000, stopMethod: 'stop' as const, noLoadingPage: false, dependsOn: [] };

function setup(opts: { table?: boolean } = {}) {
  const usable = new Set(['web-1', 'wiki-1']);
  const states = new Map([['wiki-1', 'asleep'], ['web-1', 'awake']]);
  const status = (health: MemberHealthStatus['health'], reason: string): MemberHealthStatus => ({
    health, usable: health === 'healthy', reason, lastCheck: '2026-01-01T00:00:00.000Z', latencyMs: 3, consecutiveFailures: 0, consecutiveSuccesses: 2, paused: false,
  });
  const live = new LiveRoutes({ health: { isUsable: (id) => usable.has(id), report: () => undefined }, stickySecret: new Uint8Array(32) });
  if (opts.table !== false) {
    live.update(buildRouteTable([
      routeSpec('web', [
        memberSpec('web-1', 'http://10.0.0.1:80', {}, { weight: 3, container: containerOf('web-1', 'http://10.0.0.1:80') }),
        memberSpec('web-2', 'http://10.0.0.2:80', {}, { weight: 1, container: containerOf('web-2', 'http://10.0.0.2:80') }),
      ], { aliases: ['web', 'www.example.com'] }),
      routeSpec('wiki', [memberSpec('wiki-1', '', {}, { container: containerOf('wiki-1', '', { idle }) })]),
      routeSpec('vault', [], { refused: { code: 'LABEL_ACCESS_CONTROL_UNSUPPORTED', keys: ['proxy.vault.middlewares.oidc'], sources: ['vault'], message: 'vault asks for oidc' } }),
      routeSpec('nas', [memberSpec('nas-1', 'http://127.0.0.1:5000')], { source: 'file' }),
      routeSpec('grpc', [memberSpec('grpc-1', 'http://10.0.0.9:50051', {}, { h2c: true })], { source: 'file' }),
    ], { matchDomains: ['home.example.com'] }).table);
  }
  const watcher: DockerWatcherStatus = { host: 'unix:///var/run/docker.sock', state: 'synced', lastSyncAt: 1_000, lastError: undefined, containers: 4, reconnects: 0 };
  const configErrors: RouteError[] = [{ code: 'CONFIG_BAD_URL', source: 'config.yml', key: 'routes.x.url', message: 'bad', line: 3 }];
  const labelErrors: RouteError[] = [{ code: 'LABEL_BAD_PORT', source: 'app', key: 'proxy.app.port', message: 'bad port' }];
  let lag = 1.26;
  const src: AdminViewSources = {
    live,
    health: {
      status: (id) => (id === 'web-1' ? status('healthy', 'HTTP 200 from /') : id === 'web-2' ? status('unhealthy', 'connect ECONNREFUSED') : undefined),
      poolSummary: (route) => (route === 'web' ? '1/2 members healthy' : '0/1 members healthy'),
      isUsable: (id) => usable.has(id),
    },
    wake: { stateOf: (id) => states.get(id), status: () => [{ name: 'wiki-1', state: 'asleep' }] },
    docker: { watchers: () => [{ status: () => watcher, secondsSinceLastSync: () => lag }] },
    errors: () => [...configErrors, ...labelErrors],
    warnings: () => [],
  };
  return { views: createAdminViews(src), live, setLag: (v: number) => (lag = v) };
}

test('/api/routes: every route with its pool, members, sleep state, refusal; config errors first', () => {
  const { views, setLag } = setup();
  const v = views.routes();
  assert.deepEqual(v.routes.map((r) => [r.alias, r.summary]), [
    ['grpc', '0/1 members healthy'],
    ['nas', '0/1 members healthy'],
    ['vault', 'refused: asks for access control Bellhop cannot apply yet'],
    ['web', '1/2 members healthy'],
    ['wiki', '0/1 members healthy, 1 asleep'],
  ]);
  // an h2c member shows the scheme it is spoken to with
  assert.equal(v.routes.find((r) => r.alias === 'grpc')?.members[0]?.url, 'h2c://10.0.0.9:50051');
  const web = v.routes.find((r) => r.alias === 'web')!;
  assert.deepEqual(web.hosts, ['web', 'www.example.com']);
  assert.deepEqual(web.load_balance, { mode: 'roundrobin', sticky: false, sticky_max_age_ms: 0, options: null });
  assert.deepEqual(web.members.map((m) => [m.name, m.configured_weight, m.normalised_weight, m.health, m.usable, m.state, m.reason]), [
    ['web-1', 3, 75, 'healthy', true, 'awake', 'HTTP 200 from /'],
    ['web-2', 1, 25, 'unhealthy', false, 'awake', 'connect ECONNREFUSED'],
  ]);
  assert.equal(web.refused, null);
  const wiki = v.routes.find((r) => r.alias === 'wiki')!.members[0]!;
  assert.deepEqual([wiki.state, wiki.reason, wiki.health, wiki.last_check, wiki.container_id], ['asleep', 'asleep (idle_timeout): the next request wakes it', 'starting', null, 'wiki-1']);
  assert.deepEqual(v.routes.find((r) => r.alias === 'vault')!.refused, { code: 'LABEL_ACCESS_CONTROL_UNSUPPORTED', labels: ['proxy.vault.middlewares.oidc'], containers: ['vault'], message: 'vault asks for oidc' });
  assert.equal(v.routes.find((r) => r.alias === 'nas')!.members[0]!.container_id, null);
  assert.deepEqual(v.match_domains, ['home.example.com']);
  assert.deepEqual(v.containers, [{ name: 'wiki-1', state: 'asleep' }]);
  assert.deepEqual(v.errors.map((e) => e.code), ['CONFIG_BAD_URL', 'LABEL_BAD_PORT']);
  assert.equal(v.docker[0]!.seconds_since_sync, 1.3);
  assert.equal(v.docker[0]!.state, 'synced');
  setLag(Number.POSITIVE_INFINITY);
  assert.equal(views.routes().docker[0]!.seconds_since_sync, null, 'never synced');
  assert.doesNotThrow(() => JSON.stringify(views.routes()));
});

test('/api/explain: the rule that matched and the pool behind it; no table yet says so', () => {
  const { views } = setup();
  const ex = views.explain('www.example.com');
  assert.equal(ex.rule, 'exact');
  assert.ok('pool' in ex && ex.pool !== null);
  assert.equal(ex.pool.summary, '1/2 members healthy');
  assert.deepEqual(ex.pool.members.map((m) => m.name), ['web-1', 'web-2']);
  const viaDomain = views.explain('vault.home.example.com');
  assert.ok('refused' in viaDomain);
  assert.equal(viaDomain.refused, 'vault asks for oidc');
  const none = views.explain('nothing.example.org');
  assert.equal(none.rule, 'none');
  assert.ok('pool' in none && none.pool === null);
  assert.deepEqual(setup({ table: false }).views.explain('web'), { host: 'web', rule: 'none', reason: 'no route table yet' });
});

test('metrics figures: in-flight over every pool; a sleeping member is reported asleep, not as a health problem', () => {
  const { views, live } = setup();
  const release = live.route('web')!.begin('web-1');
  live.route('web')!.begin('web-2');
  assert.equal(views.inFlight(), 2);
  release({ ok: true, status: 200 });
  assert.equal(views.inFlight(), 1);
  assert.deepEqual(views.memberHealth().filter((m) => m.route === 'wiki' || m.route === 'web'), [
    { route: 'web', member: 'web-1', healthy: true, asleep: false },
    { route: 'web', member: 'web-2', healthy: false, asleep: false },
    { route: 'wiki', member: 'wiki-1', healthy: true, asleep: true },
  ]);
});
