// GoDoxy's rules from labels on real containers (docs/rules.md), through a whole Bellhop
// (in-process) against the real Docker engine: a path rule routes to another container's alias,
// which sleeps and is woken by the routed request (its gate runs), and `error` refuses without
// reaching anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dockerSkip, dockerClient, runHttpd, removeQuietly, waitFor } from '../support/docker-test.ts';
import { startBellhop } from '../support/bellhop-harness.ts';
import { watchEvents } from '../support/docker-events.ts';

test('labels: rules route /api/* to another container\'s alias (woken on demand), error refuses, the rest is the container\'s own', { skip: dockerSkip, timeout: 180_000 }, async (t) => {
  const docker = dockerClient();
  const tag = Math.random().toString(36).slice(2, 8);
  const dash = `nb${tag}`;
  const apiAlias = `nbapi${tag}`;
  const api = await runHttpd(docker, {
    start: false,
    body: 'api-root',
    extraShell: "mkdir -p /www/api && printf '%s' 'from-api' > /www/api/index.html &&",
    labels: { 'proxy.aliases': apiAlias, 'proxy.idle_timeout': '10m' },
  });
  t.after(() => removeQuietly(api));
  const front = await runHttpd(docker, {
    body: 'dash-body',
    labels: {
      'proxy.aliases': dash,
      'proxy.#1.rules': `path glob(/api/*) {\n  route ${apiAlias}\n}\npath /blocked {\n  error 403 "blocked by rule"\n}\n`,
    },
  });
  t.after(() => removeQuietly(front));
  const apiId = (await api.inspect()).Id;
  const ev = await watchEvents(docker, () => [apiId]);
  t.after(() => ev.close());
  const b = await startBellhop({ mode: 'in-process' });
  t.after(() => b.stop());
  await waitFor(async () => ((await b.route(dash)) && (await b.route(apiAlias)) ? true : undefined), 30_000, `routes ${dash} and ${apiAlias}`);
  assert.deepEqual(((await b.route(dash)) as unknown as { middlewares: string[] }).middlewares, ['rules']);

  const blocked = await b.get(dash, '/blocked', { headers: { accept: 'application/json' } });
  assert.equal(blocked.status, 403);
  assert.match(blocked.body, /MIDDLEWARE_RULE_ERROR/);
  assert.match(blocked.body, /blocked by rule/);
  assert.equal((await b.get(dash, '/', { headers: { accept: '*/*' } })).body, 'dash-body');
  assert.equal(ev.count(apiId, 'start'), 0, 'nothing routed to the api alias yet');

  const routed = await b.get(dash, '/api/', { headers: { accept: 'application/json' }, timeoutMs: 60_000 });
  assert.equal(routed.status, 200);
  assert.equal(routed.body, 'from-api');
  assert.equal(ev.count(apiId, 'start'), 1, 'the routed request woke the api container, once');
});
