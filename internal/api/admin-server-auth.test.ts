// api.auth and the actions over real sockets: 401 without or with wrong credentials, 200 with a
// Bearer token or a basic-auth user, /healthz always open; without api.auth the actions work on
// a loopback listener and are refused (403) on one beyond loopback. The non-loopback listener
// binds 0.0.0.0 port 0 for the duration of one test; every request still goes to 127.0.0.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import bcrypt from 'bcryptjs';
import { createAdminServer, type AdminServerOptions } from './admin-server.ts';
import { createAdminAuth, isLoopbackListen } from './admin-auth.ts';
import { Metrics } from './metrics.ts';

const TOKEN = 'tok-3f9a0c1e7b2d4a5f';

function setup(opts: AdminServerOptions, calls: string[] = []) {
  const metrics = new Metrics({ inFlight: () => 0, memberHealth: () => [], dockerSyncLag: () => [] }, { defaultMetrics: false });
  return createAdminServer(
    {
      serving: () => true,
      routes: () => ({ routes: [] }),
      explain: (host) => ({ host }),
      wakeNow: (name) => {
        calls.push(`wake ${name}`);
        return name === 'app' ? Promise.resolve({ ok: true }) : undefined;
      },
      sleepNow: (name) => {
        calls.push(`sleep ${name}`);
        return name === 'app' ? true : undefined;
      },
    },
    metrics,
    opts,
  );
}

const basic = (user: string, pass: string): string => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

test('api.auth: 401 without or with wrong credentials, 200 with the token or a user; /healthz open', async (t) => {
  const hash = bcrypt.hashSync('s3cret pass', 4).replace(/^\$2b\$/, '$2y$'); // as htpasswd -nbB writes it
  const admin = setup({ auth: createAdminAuth({ token: TOKEN, users: [{ name: 'ops', hash }] }) });
  const { port } = await admin.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => admin.close());
  const base = `http://127.0.0.1:${String(port)}`;
  const get = async (path: string, authorization?: string): Promise<Response> => {
    const res = await fetch(`${base}${path}`, authorization === undefined ? {} : { headers: { authorization } });
    await res.arrayBuffer();
    return res;
  };

  assert.equal((await get('/healthz')).status, 200);
  for (const path of ['/', '/api/routes', '/api/events', '/metrics', '/nope']) {
    const res = await get(path);
    assert.equal(res.status, 401, path);
    assert.match(res.headers.get('www-authenticate') ?? '', /Basic realm="Bellhop admin"/);
  }
  for (const wrong of [`Bearer ${TOKEN}x`, 'Bearer ', `bearer ${TOKEN.slice(0, -1)}`, basic('ops', 'wrong'), basic('nobody', 's3cret pass'), basic('ops', ''), 'Basic !!!', `Token ${TOKEN}`]) {
    assert.equal((await get('/api/routes', wrong)).status, 401, wrong);
  }
  const ok = await fetch(`${base}/api/routes`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { routes: [] });
  assert.equal((await get('/api/routes', basic('ops', 's3cret pass'))).status, 200);
  assert.equal((await get('/api/routes', basic('ops', 's3cret pass'))).status, 200); // the remembered check
  assert.equal((await get('/api/routes', basic('anyone', TOKEN))).status, 200); // the token as a password (browsers)
  const page = await fetch(`${base}/`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  assert.match(await page.text(), /<title>Bellhop<\/title>/);

  const post = (path: string, authorization?: string): Promise<Response> =>
    fetch(`${base}${path}`, { method: 'POST', headers: authorization === undefined ? {} : { authorization } });
  let res = await post('/api/containers/app/wake');
  assert.equal(res.status, 401);
  await res.body?.cancel();
  // with auth, actions work on any listener
  res = await post('/api/containers/app/wake', `Bearer ${TOKEN}`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { container: 'app', state: 'awake' });
});

test('without api.auth: actions work on loopback, 404 for unknown names, 405 elsewhere, refused cross-origin', async (t) => {
  const calls: string[] = [];
  const admin = setup({}, calls);
  const { port } = await admin.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => admin.close());
  const base = `http://127.0.0.1:${String(port)}`;
  assert.equal(admin.actionsAllowed(), true);
  let res = await fetch(`${base}/api/containers/app/sleep`, { method: 'POST' });
  assert.equal(res.status, 202);
  assert.deepEqual(await res.json(), { container: 'app', state: 'draining' });
  res = await fetch(`${base}/api/containers/ghost/wake`, { method: 'POST' });
  assert.equal(res.status, 404);
  assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'API_NO_CONTAINER');
  res = await fetch(`${base}/api/containers/app/wake`);
  assert.equal(res.status, 405);
  assert.equal(res.headers.get('allow'), 'POST');
  await res.body?.cancel();
  res = await fetch(`${base}/api/containers/app/wake`, { method: 'POST', headers: { origin: 'http://evil.example' } });
  assert.equal(res.status, 403);
  assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'API_CROSS_ORIGIN');
  res = await fetch(`${base}/api/containers/app/wake`, { method: 'POST', headers: { origin: base } });
  assert.equal(res.status, 200);
  await res.body?.cancel();
  assert.deepEqual(calls, ['sleep app', 'wake ghost', 'wake app']);
});

test('without api.auth on a listener beyond loopback: reads work, actions are 403', async (t) => {
  const calls: string[] = [];
  const admin = setup({}, calls);
  const { port } = await admin.listen({ host: '0.0.0.0', port: 0 });
  t.after(() => admin.close());
  const base = `http://127.0.0.1:${String(port)}`;
  assert.equal(admin.actionsAllowed(), false);
  let res = await fetch(`${base}/api/routes`);
  assert.equal(res.status, 200);
  await res.body?.cancel();
  for (const verb of ['wake', 'sleep']) {
    res = await fetch(`${base}/api/containers/app/${verb}`, { method: 'POST' });
    assert.equal(res.status, 403);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'API_ACTIONS_FORBIDDEN');
  }
  assert.deepEqual(calls, [], 'nothing reached wake');
});

test('isLoopbackListen', () => {
  for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) assert.equal(isLoopbackListen({ host, port: 1 }), true, host);
  for (const host of [undefined, '0.0.0.0', '::', '192.168.1.2', 'bellhop.lan']) assert.equal(isLoopbackListen({ host, port: 1 }), false, String(host));
});
