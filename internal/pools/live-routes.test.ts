import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LiveRoutes } from './live-routes.ts';
import { LOAD_WAKE_IN_FLIGHT, type HealthGate } from './live-route.ts';
import { buildRouteTable, type MemberSpec, type RouteSpec } from '../routes/index.ts';
import { containerOf, memberSpec, routeSpec } from '../../test/fixtures/route-specs.ts';

function member(id: string, url: string, extra: Partial<MemberSpec> = {}): MemberSpec {
  return memberSpec(id, url, {}, { container: containerOf(id, url, { composeProject: 'p', composeService: 'web' }), ...extra });
}

function route(name: string, members: MemberSpec[], source: 'docker' | 'file' = 'docker'): RouteSpec {
  return routeSpec(name, members, { source });
}

function table(...routes: RouteSpec[]) {
  return buildRouteTable(routes, { matchDomains: [] }).table;
}

class FakeHealth implements HealthGate {
  readonly usable = new Set<string>();
  isUsable(id: string): boolean {
    return this.usable.has(id);
  }
  report(): void {}
}

const req = {} as IncomingMessage;
function fakeRes(): ServerResponse & EventEmitter {
  return new EventEmitter() as unknown as ServerResponse & EventEmitter;
}
const ctx = { clientIp: '127.0.0.1', cookieHeader: undefined, secure: false };

function setup(opts: { holdMs?: number; graceMs?: number; now?: () => number } = {}) {
  const health = new FakeHealth();
  const live = new LiveRoutes({ health, stickySecret: new Uint8Array(32), recreateHoldMs: opts.holdMs, recreateGraceMs: opts.graceMs, now: opts.now });
  return { health, live };
}

test('a request in a recreate gap is held until the new member is usable, then picks it', async () => {
  const { health, live } = setup({ holdMs: 5000 });
  health.usable.add('old');
  live.update(table(route('web', [member('old', 'http://10.0.0.2:80')])));
  const r = live.resolver.resolve('web')!;
  assert.equal(r.gate!(req, fakeRes(), ctx), 'proceed', 'no gap: no hold');
  // die: the old container keeps its membership but loses its address
  live.update(table(route('web', [member('old', '')])));
  // destroy: RecreateGrace's placeholder has no members
  live.update(table(route('web', [])));
  assert.equal(live.resolver.resolve('web'), r, 'same LiveRoute object through the gap');
  const held = r.gate!(req, fakeRes(), ctx);
  assert.ok(held instanceof Promise);
  let settled = false;
  void held.then(() => (settled = true));
  await new Promise((res) => setTimeout(res, 60));
  assert.equal(settled, false, 'still held while nothing is usable');
  live.update(table(route('web', [member('new', 'http://10.0.0.3:80')])));
  await new Promise((res) => setTimeout(res, 60));
  assert.equal(settled, false, 'an addressed but not yet healthy member does not release it');
  health.usable.add('new');
  assert.equal(await held, 'proceed');
  assert.equal(r.pick(ctx, new Set())?.member.id, 'new');
  assert.equal(r.gate!(req, fakeRes(), ctx), 'proceed', 'the gap is over');
});

test('the hold ends after recreateHoldMs; then the pick finds nothing (proxy answers 503)', async () => {
  const { health, live } = setup({ holdMs: 40 });
  health.usable.add('old');
  live.update(table(route('web', [member('old', 'http://10.0.0.2:80')])));
  live.update(table(route('web', [])));
  const r = live.resolver.resolve('web')!;
  const t0 = Date.now();
  assert.equal(await r.gate!(req, fakeRes(), ctx), 'proceed');
  assert.ok(Date.now() - t0 >= 35);
  assert.equal(r.pick(ctx, new Set()), undefined);
});

test('a client that goes away ends its hold', async () => {
  const { health, live } = setup({ holdMs: 60_000 });
  health.usable.add('old');
  live.update(table(route('web', [member('old', 'http://10.0.0.2:80')])));
  live.update(table(route('web', [member('old', '')])));
  const res = fakeRes();
  const g = live.resolver.resolve('web')!.gate!(req, res, ctx);
  res.emit('close');
  assert.equal(await g, 'handled');
});

test('no hold after the grace period, for routes that never had an address, for file routes, or with hold 0', () => {
  let now = 0;
  const { health, live } = setup({ graceMs: 1000, now: () => now });
  health.usable.add('old');
  live.update(table(route('web', [member('old', 'http://10.0.0.2:80')]), route('never', [member('n', '')])));
  live.update(table(route('web', []), route('never', [member('n', '')])));
  now = 1000;
  assert.equal(live.resolver.resolve('web')!.gate!(req, fakeRes(), ctx), 'proceed');
  assert.equal(live.resolver.resolve('never')!.gate!(req, fakeRes(), ctx), 'proceed');
  live.update(table(route('f', [member('file:f/a', 'http://127.0.0.1:1', { container: undefined })], 'file')));
  assert.equal('gate' in live.resolver.resolve('f')!, false);
  const off = setup({ holdMs: 0 }).live;
  off.update(table(route('web', [member('old', 'http://10.0.0.2:80')])));
  assert.equal('gate' in off.resolver.resolve('web')!, false);
});

test('a plain (non-compose) container route never holds: 503 at once', () => {
  const { health, live } = setup({ holdMs: 5000 });
  health.usable.add('c');
  const plain = (url: string) => member('c', url, { container: { id: 'c', name: 'c', dockerHost: 'local', createdAt: 0, state: url ? 'running' : 'exited' } });
  live.update(table(route('solo', [plain('http://10.0.0.2:80')])));
  live.update(table(route('solo', [plain('')])));
  assert.equal(live.resolver.resolve('solo')!.gate!(req, fakeRes(), ctx), 'proceed');
});

test('a route dropped from the table releases the requests it holds', async () => {
  const { health, live } = setup({ holdMs: 60_000 });
  health.usable.add('old');
  live.update(table(route('web', [member('old', 'http://10.0.0.2:80')])));
  live.update(table(route('web', [member('old', '')])));
  const r = live.resolver.resolve('web')!;
  const g = r.gate!(req, fakeRes(), ctx);
  live.update(table());
  assert.equal(live.resolver.resolve('web'), undefined);
  assert.equal(await g, 'proceed');
  assert.equal(r.pick(ctx, new Set()), undefined);
});

test('a sleeping pool asks the wake module to wake the member this client would get (iphash)', () => {
  const health = new FakeHealth();
  const asked: (string | undefined)[] = [];
  const wake = {
    isUsable: () => false,
    begin: () => () => undefined,
    upstreamUrl: (_id: string, url: string) => url,
    gate: (_req: IncomingMessage, _res: ServerResponse, c: { route: string; preferMember?: (() => string | undefined) | undefined }) => {
      asked.push(c.preferMember?.());
      return 'handled' as const;
    },
  };
  const idle = { idleTimeoutMs: 60_000, wakeTimeoutMs: 1000, stopTimeoutMs: 1000, stopMethod: 'stop' as const, noLoadingPage: false, dependsOn: [] };
  const sleeper = (id: string) => member(id, '', { container: { id, name: id, dockerHost: 'local', createdAt: 0, state: 'exited', idle } });
  const live = new LiveRoutes({ health, wake, stickySecret: new Uint8Array(32) });
  const spec = route('pool', [sleeper('a'), sleeper('b'), sleeper('c')]);
  live.update(table({ ...spec, loadBalance: { mode: 'iphash', sticky: false, stickyMaxAgeMs: 0 } }));
  const r = live.resolver.resolve('pool')!;
  const ips = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6'];
  for (const ip of ips) {
    void r.gate!(req, fakeRes(), { ...ctx, clientIp: ip });
    void r.gate!(req, fakeRes(), { ...ctx, clientIp: ip });
  }
  // the same client always prefers the same member, and different clients spread over members
  for (let i = 0; i < ips.length; i++) assert.equal(asked[2 * i], asked[2 * i + 1]);
  assert.ok(new Set(asked).size > 1, `preferred: ${asked.join(',')}`);
  assert.ok(asked.every((id) => id === 'a' || id === 'b' || id === 'c'));
});

test('a client that went away (499) is not reported to health as a success or a failure', () => {
  const reports: unknown[] = [];
  const health = { isUsable: () => true, report: (_id: string, o: unknown) => reports.push(o) };
  const live = new LiveRoutes({ health, stickySecret: new Uint8Array(32) });
  live.update(table(route('web', [member('a', 'http://10.0.0.2:80')], 'file')));
  const r = live.resolver.resolve('web')!;
  r.begin('a')({ ok: true, status: 499 });
  r.begin('a')({ ok: false, status: 502, error: 'UPSTREAM_CONNECT' });
  r.begin('a')({ ok: true, status: 200 });
  assert.deepEqual(reports, [{ ok: false, status: 502, error: 'UPSTREAM_CONNECT' }, { ok: true, status: 200 }]);
});

test('awaitMember: true once the table catches up (the member lost its address / another is usable / it moved); false after the bound', async () => {
  const health = new FakeHealth();
  const live = new LiveRoutes({ health, stickySecret: new Uint8Array(32), memberWaitMs: 150 });
  health.usable.add('a');
  live.update(table(route('web', [member('a', 'http://10.0.0.2:80')])));
  const r = live.route('web')!;
  const tried = new Set(['a']);

  // nothing changes: false after the bound
  const t0 = Date.now();
  assert.equal(await r.awaitMember(tried, new AbortController().signal), false);
  assert.ok(Date.now() - t0 >= 140, 'waited for the bound');

  // the die event arrives: the member loses its address → true
  let p = r.awaitMember(tried, new AbortController().signal);
  live.update(table(route('web', [member('a', '')])));
  assert.equal(await p, true);

  // a new member becomes usable → true (the proxy picks it)
  live.update(table(route('web', [member('a', 'http://10.0.0.2:80'), member('b', 'http://10.0.0.3:80')])));
  p = r.awaitMember(tried, new AbortController().signal);
  health.usable.add('b');
  assert.equal(await p, true);

  // already true when called: another usable member exists
  assert.equal(await r.awaitMember(tried, new AbortController().signal), true);

  // the tried member moved to a new address → true
  live.update(table(route('web', [member('a', 'http://10.0.0.2:80')])));
  p = r.awaitMember(tried, new AbortController().signal);
  live.update(table(route('web', [member('a', 'http://10.0.0.9:80')])));
  assert.equal(await p, true);

  // the client leaves → false at once; the route leaves the table → true
  const ac = new AbortController();
  p = r.awaitMember(tried, ac.signal);
  ac.abort();
  assert.equal(await p, false);
  p = r.awaitMember(new Set(['a']), new AbortController().signal);
  live.update(table());
  assert.equal(await p, true);
});

test('awaitMember: never for file routes or with memberWaitMs 0', async () => {
  const health = new FakeHealth();
  health.usable.add('f');
  const live = new LiveRoutes({ health, stickySecret: new Uint8Array(32) });
  live.update(table(route('files', [member('f', 'http://127.0.0.1:9', { container: undefined })], 'file')));
  assert.equal(await live.route('files')!.awaitMember(new Set(['f']), new AbortController().signal), false);
  const off = new LiveRoutes({ health, stickySecret: new Uint8Array(32), memberWaitMs: 0 });
  off.update(table(route('web', [member('f', 'http://10.0.0.2:80')])));
  assert.equal(await off.route('web')!.awaitMember(new Set(['f']), new AbortController().signal), false);
});

test('onOriginsGone: a Docker member that stopped or went away is dead; one that moved or a file route is not', () => {
  const calls: { origins: string[]; dead: string[] }[] = [];
  const live = new LiveRoutes({
    health: new FakeHealth(), stickySecret: new Uint8Array(32),
    onOriginsGone: (origins, dead) => calls.push({ origins: [...origins].sort(), dead: [...dead].sort() }),
  });
  live.update(table(
    route('web', [member('stops', 'http://10.0.0.2:80'), member('removed', 'http://10.0.0.3:80'), member('moves', 'http://10.0.0.4:80')]),
    route('files', [member('f', 'http://127.0.0.1:9000', { container: undefined })], 'file'),
  ));
  live.update(table(
    route('web', [member('stops', ''), member('moves', 'http://10.0.1.4:80')]),
    route('files', [member('f', 'http://127.0.0.1:9001', { container: undefined })], 'file'),
  ));
  assert.deepEqual(calls, [{
    origins: ['http://10.0.0.2:80', 'http://10.0.0.3:80', 'http://10.0.0.4:80', 'http://127.0.0.1:9000'],
    dead: ['http://10.0.0.2:80', 'http://10.0.0.3:80'],
  }]);
});

test('a rebuilt table touches only the routes whose spec changed; the others keep their LiveRoute, spec object and pool state', () => {
  const { health, live } = setup();
  for (const id of ['a1', 'a2', 'b1', 'c1']) health.usable.add(id);
  // Every Docker event rebuilds every spec: each table is built from fresh objects.
  const specs = (bUrl: string, extra: RouteSpec[] = []) => [
    route('a', [member('a1', 'http://10.0.0.1:80'), member('a2', 'http://10.0.0.2:80')]),
    route('b', [member('b1', bUrl)]),
    route('c', [member('c1', 'http://10.0.0.4:80')]),
    ...extra,
  ];
  assert.deepEqual(live.update(table(...specs('http://10.0.0.3:80'))), { added: ['a', 'b', 'c'], changed: [], removed: [] });
  const before = new Map(live.all().map((r) => [r.name, { route: r, spec: r.spec }]));
  const updates = new Map<string, number>();
  for (const r of live.all()) {
    const update = r.update.bind(r);
    r.update = (spec) => {
      updates.set(r.name, (updates.get(r.name) ?? 0) + 1);
      update(spec);
    };
  }
  const a = live.route('a')!;
  assert.deepEqual([a.pick(ctx, new Set())?.member.id, a.pick(ctx, new Set())?.member.id], ['a1', 'a2']);
  assert.equal(a.pick(ctx, new Set())?.member.id, 'a1'); // round robin is now on a2

  // An event that changes nothing (an unrelated container started): nothing is touched.
  assert.deepEqual(live.update(table(...specs('http://10.0.0.3:80'))), { added: [], changed: [], removed: [] });
  assert.deepEqual([...updates], []);

  // An event for b's container: only b is updated; a and c keep their spec objects.
  assert.deepEqual(live.update(table(...specs('http://10.0.0.9:80', [route('d', [member('d1', 'http://10.0.0.5:80')])]))), { added: ['d'], changed: ['b'], removed: [] });
  assert.deepEqual([...updates], [['b', 1]]);
  for (const name of ['a', 'c']) {
    assert.equal(live.route(name), before.get(name)!.route, `${name}: same LiveRoute`);
    assert.equal(live.route(name)!.spec, before.get(name)!.spec, `${name}: spec object untouched`);
  }
  assert.equal(live.route('b'), before.get('b')!.route, 'a changed route keeps its LiveRoute too');
  assert.equal(live.route('b')!.spec.members[0]!.url, 'http://10.0.0.9:80');
  assert.equal(live.resolver.resolve('a'), a);
  assert.equal(a.pick(ctx, new Set())?.member.id, 'a2', 'round robin carried on');

  assert.deepEqual(live.update(table(...specs('http://10.0.0.9:80').filter((s) => s.name !== 'c'))), { added: [], changed: [], removed: ['c', 'd'] });
  assert.equal(live.resolver.resolve('c'), undefined);
});

/** Pool of a (awake) and b (asleep), both able to sleep; `woken` records background wakes. */
function sleepingPool(usable: string[]) {
  const health = new FakeHealth();
  for (const id of usable) health.usable.add(id);
  const states = new Map([['a', 'awake'], ['b', 'asleep']]);
  const woken: string[] = [];
  const wake = {
    isUsable: (id: string) => states.get(id) === 'awake',
    begin: () => () => undefined,
    upstreamUrl: (_id: string, url: string) => url,
    gate: () => 'proceed' as const,
    stateOf: (id: string) => states.get(id),
    ensureAwake: (id: string) => {
      woken.push(id);
      states.set(id, 'waking');
      return Promise.resolve({ ok: true });
    },
  };
  const idle = { idleTimeoutMs: 60_000, wakeTimeoutMs: 1000, stopTimeoutMs: 1000, stopMethod: 'stop' as const, noLoadingPage: false, dependsOn: [] };
  const sleeper = (id: string, url: string) => member(id, url, { container: { id, name: id, dockerHost: 'local', createdAt: 0, state: 'running', idle } });
  const live = new LiveRoutes({ health, wake, stickySecret: new Uint8Array(32) });
  live.update(table(route('pool', [sleeper('a', 'http://10.0.0.2:80'), sleeper('b', '')])));
  return { r: live.resolver.resolve('pool')!, woken };
}

test('a pool with a sleeping member wakes it in the background only once the awake ones are loaded', () => {
  const { r, woken } = sleepingPool(['a', 'b']);
  const releases: ((o: { ok: boolean }) => void)[] = [];
  for (let i = 0; i < LOAD_WAKE_IN_FLIGHT - 1; i++) {
    const p = r.pick(ctx, new Set())!;
    assert.equal(p.member.id, 'a');
    releases.push(r.begin('a'));
  }
  r.pick(ctx, new Set());
  assert.deepEqual(woken, [], `${String(LOAD_WAKE_IN_FLIGHT - 1)} in flight: no need yet`);
  releases.push(r.begin('a'));
  r.pick(ctx, new Set());
  r.pick(ctx, new Set());
  assert.deepEqual(woken, ['b'], 'loaded: b is woken, once');
  for (const rel of releases) rel({ ok: true });
});

test('a pool whose awake member is unusable wakes a sleeping one instead of staying dark', () => {
  const { r, woken } = sleepingPool(['b']); // a is awake but unhealthy
  assert.equal(r.pick(ctx, new Set()), undefined, 'nothing usable right now');
  assert.deepEqual(woken, ['b'], 'the sleeping member is woken');
  assert.equal(r.pick(ctx, new Set()), undefined);
  assert.deepEqual(woken, ['b'], 'once: it is waking');
});

// ── iphash with the pool's own real-IP options (docs/client-ip.md) ─────────────────────────────────────

function iphashPool(options: RouteSpec['loadBalance']['options'], sticky = false, mode: 'iphash' | 'roundrobin' = 'iphash') {
  const health = new FakeHealth();
  for (const id of ['a', 'b', 'c']) health.usable.add(id);
  const live = new LiveRoutes({ health, stickySecret: new Uint8Array(32) });
  const members = ['a', 'b', 'c'].map((id) => memberSpec(id, `http://10.0.0.${id.charCodeAt(0) - 96}:80`));
  const spec = (o: typeof options, m: typeof mode = mode) => routeSpec('pool', members, { source: 'file', loadBalance: { mode: m, sticky, stickyMaxAgeMs: 3_600_000, options: o } });
  live.update(table(spec(options)));
  return { live, health, spec, r: live.route('pool')! };
}

/** A request from `peer` carrying `X-Real-IP: realIp` (and a trusted-proxy client IP that never varies). */
function fromPeer(peer: string, realIp: string | undefined, extra: Partial<typeof ctx> = {}) {
  const rawHeaders = ['Host', 'pool', ...(realIp === undefined ? [] : ['x-real-ip', realIp])];
  return { ...ctx, clientIp: '192.168.1.1', peerIp: peer, rawHeaders, ...extra };
}

const OPTS = { header: 'X-Real-IP', from: ['10.0.0.0/8'], recursive: false };
const HEADER_IPS = Array.from({ length: 60 }, (_, i) => `203.0.113.${String(i + 1)}`);

test('iphash with options hashes the header from a peer in `from`: the same header sticks, different ones spread', () => {
  const { r } = iphashPool(OPTS);
  assert.equal(r.pickReadsHeaders, true, 'the proxy must pass peer and headers to this route');
  const got = HEADER_IPS.map((ip) => r.pick(fromPeer('10.1.2.3', ip), new Set())!.member.id);
  assert.deepEqual(HEADER_IPS.map((ip) => r.pick(fromPeer('10.9.9.9', ip), new Set())!.member.id), got, 'same header, same member (whichever peer in `from`)');
  assert.deepEqual(new Set(got), new Set(['a', 'b', 'c']), 'the clientIp is constant, so only the header can spread them');
  // the wake preference follows the same address
  assert.deepEqual(HEADER_IPS.map((ip) => r.wouldPick(fromPeer('10.1.2.3', ip))), got);
});

test('iphash with options: a peer outside `from`, or no header, hashes the peer address, not the header', () => {
  const { r } = iphashPool(OPTS);
  const outside = new Set(HEADER_IPS.map((ip) => r.pick(fromPeer('172.16.0.9', ip), new Set())!.member.id));
  assert.equal(outside.size, 1, 'header ignored from a peer not in `from`');
  const viaPeer = r.pick({ ...ctx, clientIp: '172.16.0.9' }, new Set())!.member.id;
  assert.deepEqual([...outside], [viaPeer], 'hashed exactly as if the peer were the client');
  const noHeader = new Set(['10.0.0.7', '10.0.0.8'].map((peer) => r.pick(fromPeer(peer, undefined), new Set())!.member.id));
  assert.deepEqual(noHeader, new Set(['10.0.0.7', '10.0.0.8'].map((ip) => r.pick({ ...ctx, clientIp: ip }, new Set())!.member.id)));
});

test('without options, in another mode, or without headers from the proxy, iphash hashes ctx.clientIp', () => {
  for (const { r, why } of [
    { r: iphashPool(undefined).r, why: 'no options' },
    { r: iphashPool(OPTS, false, 'roundrobin').r, why: 'roundrobin' },
  ]) {
    assert.equal(r.pickReadsHeaders, false, why);
  }
  const { r } = iphashPool(undefined);
  const picked = new Set(HEADER_IPS.map((ip) => r.pick(fromPeer('10.1.2.3', ip), new Set())!.member.id));
  assert.equal(picked.size, 1, 'the header means nothing without options');
  const withOpts = iphashPool(OPTS).r;
  // a context built before the route had options (no rawHeaders): the client IP, no crash
  assert.equal(withOpts.pick({ ...ctx, clientIp: '203.0.113.5' }, new Set())!.member.id, r.pick({ ...ctx, clientIp: '203.0.113.5' }, new Set())!.member.id);
});

test('sticky iphash with options: a new visitor is placed by the header, and a failover pick skips tried members', () => {
  const { r } = iphashPool(OPTS, true);
  const plain = iphashPool(OPTS).r;
  const placed = new Set<string>();
  for (const ip of HEADER_IPS.slice(0, 20)) {
    const p = r.pick(fromPeer('10.1.2.3', ip), new Set())!;
    placed.add(p.member.id);
    assert.ok(p.setCookie?.startsWith('bellhop_lb_sticky='), 'a fresh cookie');
    assert.equal(p.member.id, plain.pick(fromPeer('10.1.2.3', ip), new Set())!.member.id, ip);
    assert.equal(r.wouldPick(fromPeer('10.1.2.3', ip)), p.member.id);
    const next = r.pick(fromPeer('10.1.2.3', ip), new Set([p.member.id]))!;
    assert.notEqual(next.member.id, p.member.id);
  }
  assert.deepEqual(placed, new Set(['a', 'b', 'c']), 'one clientIp, spread by the header');
});

test('changed options are recompiled on update; removed options stop reading headers', () => {
  const { live, spec, r } = iphashPool({ ...OPTS, from: ['172.16.0.0/12'] });
  const spread = () => new Set(HEADER_IPS.map((ip) => r.pick(fromPeer('10.1.2.3', ip), new Set())!.member.id)).size;
  assert.equal(spread(), 1, '10.1.2.3 is not in 172.16/12: header ignored');
  live.update(table(spec(OPTS)));
  assert.equal(live.route('pool'), r);
  assert.equal(spread(), 3, 'now 10/8 is believed');
  live.update(table(spec({ ...OPTS, header: 'X-Client' })));
  assert.equal(spread(), 1, 'X-Real-IP is no longer the header');
  live.update(table(spec(undefined)));
  assert.equal(r.pickReadsHeaders, false);
  live.update(table(spec(OPTS, 'roundrobin')));
  assert.equal(r.pickReadsHeaders, false, 'options only matter for iphash');
  live.update(table(spec(OPTS, 'iphash')));
  assert.equal(r.pickReadsHeaders, true);
  assert.equal(spread(), 3);
});

test('options pkg/realip refuses (a zone in `from`) leave the pool hashing the client IP', () => {
  const { r } = iphashPool({ ...OPTS, from: ['fe80::1%eth0'] });
  assert.equal(r.pickReadsHeaders, false);
  assert.ok(r.pick(fromPeer('10.1.2.3', '203.0.113.1'), new Set()));
});

test('a sleeping member: the gate gets the real client IP and begin() hands the same request to wake (proxy.idle_ignore)', () => {
  const health = new FakeHealth();
  health.usable.add('a');
  const seen: { gateIp?: string | undefined; gateReq?: IncomingMessage; beginReq?: IncomingMessage | undefined; begins: number } = { begins: 0 };
  const wake = {
    isUsable: () => true,
    begin: (_id: string, r?: IncomingMessage) => {
      seen.begins++;
      seen.beginReq = r;
      return () => undefined;
    },
    upstreamUrl: (_id: string, url: string) => url,
    gate: (r: IncomingMessage, _res: ServerResponse, c: { route: string; clientIp?: string | undefined }) => {
      seen.gateIp = c.clientIp;
      seen.gateReq = r;
      return 'proceed' as const;
    },
  };
  const idle = { idleTimeoutMs: 60_000, wakeTimeoutMs: 1000, stopTimeoutMs: 1000, stopMethod: 'stop' as const, noLoadingPage: false, dependsOn: [] };
  const live = new LiveRoutes({ health, wake, stickySecret: new Uint8Array(32) });
  live.update(table(route('app', [member('a', 'http://10.0.0.2:80', { container: { id: 'a', name: 'a', dockerHost: 'local', createdAt: 0, state: 'running', idle } })])));
  const r = live.resolver.resolve('app')!;
  const monitor = { url: '/health', headers: { 'user-agent': 'Uptime-Kuma/1.23' } } as unknown as IncomingMessage;
  assert.equal(r.gate!(monitor, fakeRes(), { ...ctx, clientIp: '10.0.5.7' }), 'proceed');
  assert.equal(seen.gateIp, '10.0.5.7');
  assert.equal(seen.gateReq, monitor);
  r.begin('a', monitor)({ ok: true, status: 200 });
  assert.equal(seen.beginReq, monitor);
  assert.equal(seen.begins, 1);
});
