import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAdminServer } from './admin-server.ts';
import { Metrics } from './metrics.ts';

function setup(serving = true) {
  const metrics = new Metrics(
    {
      inFlight: () => 3,
      memberHealth: () => [{ route: 'web', member: 'web-1', healthy: true }, { route: 'web', member: 'web-2', healthy: false }],
      dockerSyncLag: () => [{ host: 'unix:///var/run/docker.sock', seconds: 1.5 }],
    },
    { defaultMetrics: false },
  );
  const admin = createAdminServer(
    {
      serving: () => serving,
      routes: () => ({ routes: [{ alias: 'web' }], errors: [] }),
      explain: (host) => ({ host, route: 'web' }),
    },
    metrics,
  );
  return { admin, metrics };
}

test('healthz, routes, explain and 404', async (t) => {
  const { admin } = setup();
  const { port } = await admin.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => admin.close());
  const base = `http://127.0.0.1:${port}`;
  let res = await fetch(`${base}/healthz`);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'ok\n');
  res = await fetch(`${base}/api/routes`);
  assert.deepEqual(await res.json(), { routes: [{ alias: 'web' }], errors: [] });
  res = await fetch(`${base}/api/explain?host=web.example.com`);
  assert.deepEqual(await res.json(), { host: 'web.example.com', route: 'web' });
  res = await fetch(`${base}/api/explain`);
  assert.equal(res.status, 400);
  await res.body?.cancel();
  res = await fetch(`${base}/nope`);
  assert.equal(res.status, 404);
  await res.body?.cancel();
  res = await fetch(`${base}/healthz`, { method: 'POST' });
  assert.equal(res.status, 405);
  await res.body?.cancel();
});

test('healthz is 503 when not serving', async (t) => {
  const { admin } = setup(false);
  const { port } = await admin.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => admin.close());
  const res = await fetch(`http://127.0.0.1:${port}/healthz`);
  assert.equal(res.status, 503);
  await res.body?.cancel();
});

test('metrics expose requests, latency, in-flight, health, wakes and sync lag', async (t) => {
  const { admin, metrics } = setup();
  metrics.requestDone('web', 'web-1', 200, 0.004);
  metrics.requestDone('web', 'web-1', 200, 0.004);
  metrics.requestDone('nope', '-', 404, undefined);
  metrics.wakeDone('app', true, 1.2);
  metrics.wakeDone('app', false, 3);
  const { port } = await admin.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => admin.close());
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  const text = await res.text();
  assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
  assert.match(text, /bellhop_requests_total\{route="web",status="200",member="web-1"\} 2/);
  assert.match(text, /bellhop_requests_total\{route="nope",status="404",member="-"\} 1/);
  assert.match(text, /bellhop_upstream_latency_seconds_count\{route="web"\} 2/);
  assert.match(text, /bellhop_in_flight_requests 3/);
  assert.match(text, /bellhop_member_healthy\{route="web",member="web-2"\} 0/);
  assert.match(text, /bellhop_docker_sync_lag_seconds\{host="unix:\/\/\/var\/run\/docker.sock"\} 1.5/);
  assert.match(text, /bellhop_wakes_total\{container="app",result="failed"\} 1/);
  assert.match(text, /bellhop_wake_duration_seconds_count 1/);
});
