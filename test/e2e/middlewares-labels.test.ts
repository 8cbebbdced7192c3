// Middlewares from labels on real containers, through a whole Bellhop (in-process) against the
// real Docker engine. A request a middleware refuses touches nothing behind it: a sleeping
// container behind cidr_whitelist is not started (Docker's own state and events say so), and
// refused requests to an awake one do not keep it awake (its idle clock ignores them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dockerSkip, dockerClient, runHttpd, removeQuietly, waitFor } from '../support/docker-test.ts';
import { startBellhop } from '../support/bellhop-harness.ts';
import { watchEvents } from '../support/docker-events.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
// Made by Debian's htpasswd -B (apache2-utils): in a compose file this label is written with $$ for each $.
const ADMIN = 'admin:$2y$05$.9CZIItoiXzEfqAOSkvZLO9jMA1rUCjeSBbrqAGtAm4VNLsPt.h/O';
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

test('labels: a sleeping container behind cidr_whitelist that refuses 127.0.0.1 gets 403 and is never started', { skip: dockerSkip, timeout: 120_000 }, async (t) => {
  const docker = dockerClient();
  const name = `mwsleep${Math.random().toString(36).slice(2, 8)}`;
  const c = await runHttpd(docker, {
    start: false,
    body: 'sleepy-body',
    labels: { 'proxy.aliases': name, 'proxy.idle_timeout': '10m', [`proxy.${name}.middlewares.cidr_whitelist.allow`]: '10.99.0.0/16, 192.0.2.1' },
  });
  t.after(() => removeQuietly(c));
  const id = (await c.inspect()).Id;
  const ev = await watchEvents(docker, () => [id]);
  t.after(() => ev.close());
  const b = await startBellhop({ mode: 'in-process' });
  t.after(() => b.stop());
  await waitFor(async () => ((await b.route(name))?.members[0]?.state === 'asleep' ? true : undefined), 20_000, `route ${name} asleep`);
  for (const accept of ['text/html', 'application/json']) {
    const r = await b.get(name, '/', { headers: { accept, 'sec-fetch-mode': 'navigate' } });
    assert.equal(r.status, 403);
    assert.match(r.body, /MIDDLEWARE_IP_NOT_ALLOWED/);
  }
  const route = await b.route(name) as unknown as { middlewares: string[]; members: { state: string }[] };
  assert.deepEqual(route.middlewares, ['cidr_whitelist']);
  assert.equal(route.members[0]?.state, 'asleep');
  assert.equal((await c.inspect()).State.Status, 'created', 'a refused request never starts the container');
  assert.equal(ev.count(id, 'start'), 0);
});

test('labels: refused requests (cidr_whitelist 403, basic_auth 401) do not keep an awake container awake; basic_auth with an htpasswd -B hash lets its user in', { skip: dockerSkip, timeout: 120_000 }, async (t) => {
  const docker = dockerClient();
  const tag = Math.random().toString(36).slice(2, 8);
  const open = `mwopen${tag}`;
  const guarded = `mwguard${tag}`;
  const locked = `mwlock${tag}`;
  const c = await runHttpd(docker, {
    start: false,
    body: 'real-body',
    // kill: exited at once when idle, so the test waits for nothing but the idle clock
    labels: {
      'proxy.aliases': `${open}, ${guarded}, ${locked}`,
      'proxy.idle_timeout': '2s',
      'proxy.stop_method': 'kill',
      [`proxy.${guarded}.middlewares.cidr_whitelist.allow`]: '10.99.0.0/16',
      [`proxy.${locked}.middlewares`]: `basic_auth:\n  users:\n    - "${ADMIN}"\n  realm: Lab\n`,
    },
  });
  t.after(() => removeQuietly(c));
  const id = (await c.inspect()).Id;
  const ev = await watchEvents(docker, () => [id]);
  t.after(() => ev.close());
  const b = await startBellhop({ mode: 'in-process' });
  t.after(() => b.stop());
  await waitFor(async () => ((await b.route(locked)) ? true : undefined), 20_000, `route ${locked}`);
  assert.deepEqual(((await b.route(locked)) as unknown as { middlewares: string[] }).middlewares, ['basic_auth']);

  const woken = await b.get(open, '/', { headers: { accept: '*/*' }, timeoutMs: 30_000 });
  assert.equal(woken.status, 200);
  const signedIn = await b.get(locked, '/', { headers: { accept: '*/*', authorization: basic('admin', 's3cret') } });
  assert.equal(signedIn.status, 200);
  assert.equal(signedIn.body, 'real-body');
  // The last real request: its start bounds the idle clock's start from below.
  const lastRealSent = Date.now();
  assert.equal((await b.get(open, '/', { headers: { accept: '*/*' } })).status, 200);
  const lastReal = Date.now();

  // Refused requests every 300 ms: if they counted as activity the container would never sleep.
  let refused = 0;
  while (ev.count(id, 'die') === 0 && Date.now() - lastReal < 30_000) {
    const g = await b.get(guarded, '/', { headers: { accept: '*/*' } });
    const l = await b.get(locked, '/', { headers: { accept: '*/*', authorization: basic('admin', 'wrong') } });
    if (ev.count(id, 'die') === 0) {
      assert.equal(g.status, 403);
      assert.equal(l.status, 401);
      assert.equal(l.headers['www-authenticate'], 'Basic realm="Lab", charset="UTF-8"');
      refused += 2;
    }
    await sleep(300);
  }
  assert.equal(ev.count(id, 'die'), 1, `never stopped while refused requests came; events ${JSON.stringify(ev.events)}`);
  assert.ok(refused >= 2, 'refused requests were sent while it was awake');
  const diedAt = ev.events.find((e) => e.action === 'die')!.at;
  // Docker's event time is in whole ms, hence 1999.
  assert.ok(diedAt - lastRealSent >= 1999, `stopped ${String(diedAt - lastRealSent)} ms after the last real request began, before idle_timeout (2 s)`);
  // Asleep now: a refused request still does not start it.
  await waitFor(async () => ((await b.route(open))?.members[0]?.state === 'asleep' ? true : undefined), 20_000, 'asleep in /api/routes');
  assert.equal((await b.get(guarded, '/', { headers: { accept: 'text/html' } })).status, 403);
  assert.equal((await b.get(locked, '/', { headers: { accept: 'text/html' } })).status, 401);
  assert.equal(ev.count(id, 'start'), 1);
  assert.equal((await c.inspect()).State.Status, 'exited');
});
