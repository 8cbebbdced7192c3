// The dashboard feed: request rates per 10 s bucket, the recent-events ring fed by comparing
// pictures, and the server-sent event stream over a real socket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DashboardFeed, type DashboardSnapshot } from './dashboard-feed.ts';
import { RequestRates, RATE_BUCKETS } from './request-rates.ts';

test('request rates: per route and bucket, 15 minutes kept, open bucket once 3 s old', () => {
  let now = 1_000_000;
  const rates = new RequestRates({ now: () => now, autoRotate: false });
  for (let i = 0; i < 50; i++) rates.count('web');
  rates.count('api');
  now += 10_000;
  rates.rotate();
  for (let i = 0; i < 20; i++) rates.count('web');
  now += 5_000;
  const s = rates.series();
  assert.deepEqual(s.at, [1_000_000, 1_010_000]);
  assert.deepEqual(s.routes, { web: [5, 4], api: [0.1, 0] });
  for (let i = 0; i < RATE_BUCKETS + 10; i++) {
    now += 10_000;
    rates.rotate();
  }
  assert.equal(rates.series().at.length, RATE_BUCKETS - 1, 'a bucket open for less than 3 s is left out');
  now += 5_000;
  assert.equal(rates.series().at.length, RATE_BUCKETS);
  assert.deepEqual(rates.series().routes, {});
  rates.close();
});

function snapshot(over: Partial<DashboardSnapshot> = {}): DashboardSnapshot {
  return { routes: [], containers: [], docker: [], errors: [], warnings: [], certs: [], ...over };
}

test('recent events: routes, members, containers, Docker, certificates and errors as they change', () => {
  let snap = snapshot();
  const feed = new DashboardFeed(() => snap, { tickMs: 3_600_000 });
  const member = (health: string, state = 'awake') => ({ name: 'web-1', health, state, reason: health === 'unhealthy' ? 'connect refused' : '' });
  feed.tick();
  snap = snapshot({
    routes: [{ alias: 'web', hosts: ['web.lan'], members: [member('healthy')] }],
    containers: [{ name: 'web-1', state: 'awake' }],
    docker: [{ host: 'unix:///var/run/docker.sock', state: 'synced' }],
    certs: [{ names: ['web.lan'], state: 'valid', not_after: '2027-01-01T00:00:00.000Z', last_error: null }],
  });
  feed.tick();
  snap = { ...snap, routes: [{ alias: 'web', hosts: ['web.lan'], members: [member('unhealthy')] }], docker: [{ host: 'unix:///var/run/docker.sock', state: 'disconnected' }] };
  feed.tick();
  snap = {
    ...snap,
    routes: [{ alias: 'web', hosts: ['web.lan'], members: [member('healthy')] }],
    containers: [{ name: 'web-1', state: 'asleep' }],
    certs: [{ names: ['web.lan'], state: 'valid', not_after: '2027-03-01T00:00:00.000Z', last_error: null }],
    errors: [{ code: 'LABEL_BAD_PORT', key: 'proxy.port', message: 'not a port', source: 'web-1' }],
  };
  feed.tick();
  snap = { ...snap, routes: [], certs: [{ names: ['web.lan'], state: 'failed', not_after: '2027-03-01T00:00:00.000Z', last_error: 'rate limited' }] };
  feed.tick();
  feed.wakeDone({ container: 'web-1', ok: true, durationMs: 1234 });
  const events = (feed.state() as { events: { kind: string; level: string; text: string }[] }).events.map((e) => `${e.kind}/${e.level}: ${e.text}`).reverse();
  assert.deepEqual(events, [
    'route/info: route web added (web.lan)',
    'member/warn: web/web-1 ejected: connect refused',
    'docker/warn: Docker unix:///var/run/docker.sock: synced → disconnected',
    'member/info: web/web-1 back in the pool',
    'container/info: web-1 went to sleep',
    'certificate/info: certificate web.lan renewed (until 2027-03-01T00:00:00.000Z)',
    'config/warn: LABEL_BAD_PORT web-1 proxy.port: not a port',
    'route/info: route web removed',
    'certificate/warn: certificate web.lan failed: rate limited',
    'container/info: web-1 woke (1.2 s)',
  ]);
  feed.close();
});

test('GET /api/events streams state messages over a real socket', async (t) => {
  let snap = snapshot();
  const feed = new DashboardFeed(() => snap, { tickMs: 3_600_000 });
  const server = createServer((_req, res) => feed.attach(res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    feed.close();
    server.closeAllConnections();
    server.close();
  });
  const res = await fetch(`http://127.0.0.1:${String((server.address() as AddressInfo).port)}/`);
  assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  const next = async (): Promise<{ routes: { alias: string }[] }> => {
    for (;;) {
      const end = text.indexOf('\n\n', text.indexOf('event: state'));
      if (text.includes('event: state') && end >= 0) {
        const block = text.slice(text.indexOf('event: state'), end);
        text = text.slice(end + 2);
        return JSON.parse(block.split('\n').find((l) => l.startsWith('data: '))!.slice(6)) as { routes: { alias: string }[] };
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended');
      text += value;
    }
  };
  assert.deepEqual((await next()).routes, []);
  snap = snapshot({ routes: [{ alias: 'web', hosts: ['web.lan'], members: [] }] });
  feed.tick();
  assert.deepEqual((await next()).routes.map((r) => r.alias), ['web']);
  assert.equal(feed.streams, 1);
  await reader.cancel();
});
