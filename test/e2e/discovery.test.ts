// Docker discovery end to end on the real engine: a Bellhop child process (as a user runs it)
// turns labelled busybox httpd containers into routes and pools, live from the event stream.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type Docker from 'dockerode';
import { dockerSkip, dockerClient, runHttpd, removeQuietly, uniqueName, waitFor, type HttpdOptions } from '../support/docker-test.ts';
import { freePort, startBellhop, type BellhopUnderTest, type HttpResult } from '../support/bellhop-harness.ts';

const docker = dockerClient();
const containers: Docker.Container[] = [];
let bellhop: BellhopUnderTest;
const firstResponseMs: number[] = [];

async function httpd(opts: HttpdOptions): Promise<Docker.Container> {
  const c = await runHttpd(docker, opts);
  containers.push(c);
  return c;
}

/** Polls through the proxy until `host` answers 200 with `body`; returns ms since `since`. */
async function firstOk(host: string, body: string, since: number, timeoutMs = 10_000): Promise<number> {
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
  return Date.now() - since;
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
  if (firstResponseMs.length > 0) {
    const s = [...firstResponseMs].sort((a, b) => a - b);
    const median = s[Math.floor(s.length / 2)]!;
    process.stderr.write(`[discovery] docker start → first proxied 200: median ${String(median)} ms over ${String(s.length)} runs (${s.join(', ')})\n`);
  }
});

test('a labelled bridge container answers through Bellhop within 1 s of its start', { skip: dockerSkip }, async () => {
  for (let i = 0; i < 3; i++) {
    const a = alias('br');
    const c = await runHttpd(docker, { name: a, body: `bridge-${a}`, labels: { 'proxy.aliases': a }, start: false });
    containers.push(c);
    const t0 = Date.now();
    await c.start();
    const ms = await firstOk(a, `bridge-${a}`, t0);
    firstResponseMs.push(ms);
    assert.ok(ms < 1000, `bridge container answered after ${String(ms)} ms (want < 1000)`);
  }
});

test('a labelled host-network container answers on its label port within 1 s of its start', { skip: dockerSkip }, async () => {
  for (let i = 0; i < 3; i++) {
    const a = alias('hn');
    const port = await freePort();
    const c = await runHttpd(docker, { name: a, body: `host-${a}`, port, networkMode: 'host', labels: { [`proxy.${a}.port`]: String(port), 'proxy.aliases': a }, start: false });
    containers.push(c);
    const t0 = Date.now();
    await c.start();
    const ms = await firstOk(a, `host-${a}`, t0);
    firstResponseMs.push(ms);
    assert.ok(ms < 1000, `host-network container answered after ${String(ms)} ms (want < 1000)`);
    const r = await bellhop.route(a);
    assert.equal(r?.members[0]?.url, `http://127.0.0.1:${String(port)}`);
  }
});

test('a bad port label gets no route and is listed with container, label and problem; others unaffected', { skip: dockerSkip }, async () => {
  const bad = alias('bad');
  const good = alias('good');
  await httpd({ name: bad, body: 'bad', labels: { [`proxy.${bad}.port`]: 'abc', 'proxy.aliases': bad } });
  await httpd({ name: good, body: 'good', labels: { 'proxy.aliases': good } });
  await firstOk(good, 'good', Date.now());
  const view = await waitFor(async () => {
    const v = await bellhop.routes();
    return v.errors.some((e) => e.source === bad) ? v : undefined;
  }, 5000, 'the label error to be listed');
  const err = view.errors.find((e) => e.source === bad)!;
  assert.equal(err.key, `proxy.${bad}.port`);
  assert.match(err.message, /abc/);
  assert.match(err.code, /PORT/);
  assert.equal(view.routes.find((r) => r.alias === bad), undefined);
  const r = await bellhop.get(bad);
  assert.equal(r.status, 404);
  assert.ok(!view.errors.some((e) => e.source === good));
});
