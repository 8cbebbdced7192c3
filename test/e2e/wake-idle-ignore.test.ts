// proxy.idle_ignore through the whole Bellhop (in-process) against the real Docker engine: an
// uptime monitor polling every 300 ms neither keeps a container awake nor wakes it. Starts and
// stops are read from Docker's own event stream and state, not from Bellhop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dockerSkip, dockerClient, runHttpd, removeQuietly, waitFor } from '../support/docker-test.ts';
import { startBellhop, type HttpResult } from '../support/bellhop-harness.ts';
import { watchEvents } from '../support/docker-events.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const MONITOR = { 'user-agent': 'Uptime-Kuma/1.23', accept: '*/*' };

test('through Bellhop: an uptime monitor (proxy.idle_ignore.user_agents) neither keeps the container awake nor wakes it', { skip: dockerSkip }, async () => {
  const docker = dockerClient();
  const name = `wg${Math.random().toString(36).slice(2, 8)}`;
  const c = await runHttpd(docker, {
    start: false,
    body: 'real-body',
    // kill: exited at once when idle, so the test waits for nothing but the idle clock
    labels: { 'proxy.aliases': name, 'proxy.idle_timeout': '2s', 'proxy.stop_method': 'kill', 'proxy.idle_ignore.user_agents': 'Uptime-Kuma' },
  });
  const id = (await c.inspect()).Id;
  const ev = await watchEvents(docker, () => [id]);
  const b = await startBellhop({ mode: 'in-process' });
  try {
    await waitFor(async () => ((await b.route(name)) ? true : undefined), 10_000, `route ${name}`);
    const first = await b.get(name, '/', { headers: { accept: '*/*' }, timeoutMs: 20_000 });
    assert.equal(first.status, 200);
    assert.equal(first.body, 'real-body');
    // The last real request, to the awake container: quick, so its start bounds the idle clock's
    // start from below (the clock starts when it ends), whatever the machine's speed.
    const lastRealSent = Date.now();
    assert.equal((await b.get(name, '/', { headers: { accept: '*/*' } })).body, 'real-body');
    const lastReal = Date.now();

    // (1) A monitor every 300 ms: proxied while awake, but the container still sleeps 2 s after
    // the last real request. Without the rule it would never sleep: the monitor keeps polling
    // until the container dies, for up to 30 s.
    const awakeAnswers: HttpResult[] = [];
    while (ev.count(id, 'die') === 0 && Date.now() - lastReal < 30_000) {
      const r = await b.get(name, '/', { headers: MONITOR });
      if (ev.count(id, 'die') === 0 && r.status === 200) awakeAnswers.push(r);
      await sleep(300);
    }
    assert.equal(ev.count(id, 'die'), 1, `never stopped while the monitor polled; events ${JSON.stringify(ev.events)}`);
    const diedAt = ev.events.find((e) => e.action === 'die')!.at;
    // Docker's event time is in whole ms, hence 1999.
    assert.ok(diedAt - lastRealSent >= 1999, `stopped ${diedAt - lastRealSent} ms after the last real request began, before idle_timeout (2 s)`);
    assert.ok(awakeAnswers.length >= 1, 'the monitor was proxied to the awake container');
    for (const r of awakeAnswers) assert.equal(r.body, 'real-body');

    // (2) Asleep: the monitor gets 503 + X-Bellhop-State: asleep, and nothing starts it.
    await waitFor(async () => ((await b.route(name))?.members[0]?.state === 'asleep' ? true : undefined), 20_000, 'asleep in /api/routes');
    for (let i = 0; i < 3; i++) {
      const r = await b.get(name, '/', { headers: MONITOR });
      assert.equal(r.status, 503);
      assert.equal(r.headers['x-bellhop-state'], 'asleep');
      assert.equal(r.headers['cache-control'], 'no-store');
      assert.ok(Number(r.headers['retry-after']) >= 1);
      assert.doesNotMatch(r.body, /<html/i);
      await sleep(300);
    }
    assert.equal((await c.inspect()).State.Status, 'exited');
    assert.equal(ev.count(id, 'start'), 1);

    // (3) A real visitor wakes it and gets the real body.
    const again = await b.get(name, '/', { headers: { accept: '*/*' }, timeoutMs: 20_000 });
    assert.equal(again.status, 200);
    assert.equal(again.body, 'real-body');
    assert.equal(ev.count(id, 'start'), 2);
  } finally {
    ev.close();
    await b.stop();
    await removeQuietly(c);
  }
});
