// GoDoxy access-control labels through a whole Bellhop (started as a user starts it) against
// the real Docker engine: until middlewares exist, an alias whose labels restrict or
// authenticate access refuses service with 503 PROXY_ROUTE_REFUSED. The app behind it is never
// reached (its own request log says so) and never woken; the container's other alias is served.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type Docker from 'dockerode';
import { dockerClient, dockerSkip, removeQuietly, uniqueName, waitFor, TEST_IMAGE, TEST_LABELS } from '../support/docker-test.ts';
import { startBellhop } from '../support/bellhop-harness.ts';

/** busybox httpd that logs every request line (`url:/path`) to the container's log. */
async function loggingHttpd(docker: Docker, labels: Record<string, string>, start: boolean): Promise<Docker.Container> {
  const c = await docker.createContainer({
    Image: TEST_IMAGE,
    name: uniqueName('bellhop-acl'),
    Cmd: ['/bin/sh', '-c', "mkdir -p /www && printf app-body > /www/index.html && printf app-body > /www/open && exec httpd -f -vv -p 80 -h /www"],
    Labels: { ...TEST_LABELS, ...labels },
    ExposedPorts: { '80/tcp': {} },
    HostConfig: { NetworkMode: 'bridge' },
  });
  if (start) await c.start();
  return c;
}

async function requestLog(c: Docker.Container): Promise<string> {
  const buf = await c.logs({ stdout: true, stderr: true, follow: false });
  return buf.toString('utf8');
}

interface RefusedView {
  alias: string;
  members: unknown[];
  summary: string;
  refused: { code: string; labels: string[]; containers: string[]; message: string } | null;
}

test('an alias with a GoDoxy access-control label answers 503 PROXY_ROUTE_REFUSED; the app is never reached or woken', { skip: dockerSkip, timeout: 90_000 }, async (t) => {
  const docker = dockerClient();
  const guarded = uniqueName('guarded');
  const open = uniqueName('open');
  const sleepy = uniqueName('sleepy');
  const guardLabel = `proxy.${guarded}.middlewares.crowdsec.api_key`;
  const containers: Docker.Container[] = [];
  t.after(async () => {
    for (const c of containers) await removeQuietly(c);
  });

  // One container, two aliases: the guarded one behind a middleware Bellhop cannot apply yet (crowdsec), the other open.
  const app = await loggingHttpd(docker, { 'proxy.aliases': `${guarded}, ${open}`, [guardLabel]: 'secret' }, true);
  containers.push(app);
  // A sleeping app behind a captcha (YAML form): a request must neither start it nor reach it.
  const asleep = await loggingHttpd(docker, { 'proxy.aliases': sleepy, 'proxy.idle_timeout': '10m', [`proxy.${sleepy}`]: 'middlewares:\n  hcaptcha: {}\n' }, false);
  containers.push(asleep);
  const appName = (await app.inspect()).Name.replace(/^\//, '');

  const b = await startBellhop();
  t.after(() => b.stop());
  const view = async (alias: string): Promise<RefusedView | undefined> => (await b.route(alias)) as RefusedView | undefined;
  await waitFor(async () => ((await view(guarded))?.refused && (await view(sleepy))?.refused && (await b.route(open)) ? true : undefined), 20_000, 'routes in /api/routes');

  // The open alias of the same container is served: the app works and logs its requests.
  await waitFor(async () => ((await b.get(open, '/open')).status === 200 ? true : undefined), 15_000, 'the open alias to serve');
  const served = await b.get(open, '/open');
  assert.equal(served.body, 'app-body');

  // The guarded alias: Bellhop's own answer, JSON for API clients, HTML for browsers, also for
  // a websocket upgrade; it names the label, never its value.
  const api = await b.get(guarded, '/secret-json', { headers: { accept: 'application/json' } });
  assert.equal(api.status, 503);
  assert.equal(api.headers['cache-control'], 'no-store');
  const body = JSON.parse(api.body) as { error: { code: string; status: number; message: string } };
  assert.equal(body.error.code, 'PROXY_ROUTE_REFUSED');
  assert.equal(body.error.status, 503);
  assert.match(body.error.message, /refused/);
  assert.ok(body.error.message.includes(guardLabel), body.error.message);
  assert.ok(!body.error.message.includes('10.0.0.0'), 'the label value is not shown');
  const page = await b.get(guarded, '/secret-html', { headers: { accept: 'text/html' } });
  assert.equal(page.status, 503);
  assert.match(page.body, /<html>[\s\S]*PROXY_ROUTE_REFUSED/);
  const upgrade = await b.get(guarded, '/secret-ws', { headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } });
  assert.equal(upgrade.status, 503);
  assert.match(upgrade.body, /PROXY_ROUTE_REFUSED/);

  // The sleeping app behind hcaptcha: refused, and still not started.
  const wake = await b.get(sleepy, '/', { headers: { accept: 'text/html', 'sec-fetch-mode': 'navigate' } });
  assert.equal(wake.status, 503);
  assert.match(wake.body, /PROXY_ROUTE_REFUSED/);
  assert.equal((await asleep.inspect()).State.Status, 'created', 'a refused route never wakes its container');

  // The app saw the open request and nothing else.
  const log = await waitFor(async () => {
    const text = await requestLog(app);
    return text.includes('url:/open') ? text : undefined;
  }, 20_000, 'the open request in the app log');
  assert.doesNotMatch(log, /url:\/secret/, `the app was reached for a refused alias:\n${log}`);
  assert.equal(await requestLog(asleep), '');

  // The admin API lists the error by label and shows the route as refused, without members.
  const routes = await b.routes();
  const err = routes.errors.find((e) => e.code === 'LABEL_ACCESS_CONTROL_UNSUPPORTED' && e.key === guardLabel);
  assert.ok(err, JSON.stringify(routes.errors));
  assert.equal(err.source, appName);
  assert.ok(routes.errors.some((e) => e.code === 'LABEL_ACCESS_CONTROL_UNSUPPORTED' && e.key === `proxy.${sleepy}`));
  assert.ok(!routes.warnings.some((w) => w.key === guardLabel), 'no longer just a warning');
  const g = await view(guarded);
  assert.deepEqual(g?.refused?.labels, [guardLabel]);
  assert.deepEqual(g?.refused?.containers, [appName]);
  assert.deepEqual(g?.members, []);
  assert.match(g?.summary ?? '', /^refused/);
  assert.equal((await view(open))?.refused, null);
});
