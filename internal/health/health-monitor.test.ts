import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HealthcheckSpec, MemberSpec } from '../routes/index.ts';
import type { Logger } from '../../pkg/log/index.ts';
import { HealthMonitor } from './health-monitor.ts';
import { memberSpec } from '../../test/fixtures/route-specs.ts';

function member(id: string, url: string, hc: Partial<HealthcheckSpec> = {}): MemberSpec {
  return memberSpec(id, url, { path: '/health', intervalMs: 60_000, timeoutMs: 500, ...hc });
}

/** Deadline of a wait for an eventual state: only a broken monitor misses it (the wait ends as soon as the state holds). */
const EVENTUALLY_MS = 10_000;

async function waitUntil(fn: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!fn()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 3));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function statusServer(t: { after(fn: () => Promise<void>): void }) {
  const state = { status: 200, hits: 0 };
  const server = createServer((_req, res: ServerResponse) => {
    state.hits += 1;
    res.writeHead(state.status).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { state, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function recordingLogger() {
  const lines: { level: string; msg: string }[] = [];
  const rec = (level: string) => (_obj: object, msg: string) => void lines.push({ level, msg });
  const logger: Logger = { debug: rec('debug'), info: rec('info'), warn: rec('warn'), error: rec('error') };
  return { lines, logger };
}

test('a new member that keeps failing goes from starting to unhealthy after `fall` probes', async (t) => {
  const srv = await statusServer(t);
  srv.state.status = 503;
  const hm = new HealthMonitor({ fastIntervalMs: 20 });
  t.after(() => hm.close());
  hm.sync([{ name: 'p', members: [member('a', srv.url, { fall: 3 })] }]);
  await waitUntil(() => srv.state.hits >= 1 && hm.status('a')?.lastCheck !== null, EVENTUALLY_MS, 'first probe');
  assert.equal(hm.status('a')?.health, 'starting', 'one failure: still starting');
  assert.equal(hm.status('a')?.reason, 'HTTP 503 from /health');
  await waitUntil(() => hm.status('a')?.health === 'unhealthy', EVENTUALLY_MS, 'unhealthy');
  assert.ok(srv.state.hits >= 3);
});

test('a starting member whose probe failed is re-probed soon, not at its jittered slot; those extra failures do not count toward fall', async (t) => {
  // The process in a container starts listening a moment after Docker reports the start, so
  // the first probe often fails. 'slow' hashes to ~97 % of the interval: its scheduled second
  // probe is ~10 minutes away here, so only the readiness probes can make it healthy in time.
  const srv = await statusServer(t);
  srv.state.status = 503;
  const hm = new HealthMonitor({ fastIntervalMs: 600_000 });
  t.after(() => hm.close());
  hm.sync([{ name: 'p', members: [member('slow', srv.url, { intervalMs: 600_000, fall: 2 })] }]);
  await waitUntil(() => srv.state.hits >= 4, 20_000, 'readiness probes');
  assert.equal(hm.status('slow')?.health, 'starting', 'still starting: readiness failures are not scheduled failures');
  assert.equal(hm.status('slow')?.consecutiveFailures, 1, 'only the first (scheduled) probe counted');
  assert.equal(hm.status('slow')?.reason, 'HTTP 503 from /health');
  srv.state.status = 200;
  await waitUntil(() => hm.isUsable('slow'), 20_000, 'healthy after a readiness probe');
  const hits = srv.state.hits;
  await sleep(200);
  assert.equal(srv.state.hits, hits, 'healthy: back on its schedule, no more readiness probes');
});

test('fall: 1 — a new member whose first probe fails is unhealthy at once (readiness probes are only for starting members)', async (t) => {
  const srv = await statusServer(t);
  srv.state.status = 500;
  const hm = new HealthMonitor({ fastIntervalMs: 600_000 });
  t.after(() => hm.close());
  hm.sync([{ name: 'p', members: [member('slow', srv.url, { intervalMs: 600_000, fall: 1 })] }]);
  await waitUntil(() => hm.status('slow')?.health === 'unhealthy', 20_000, 'unhealthy');
  await sleep(200);
  assert.equal(srv.state.hits, 1, 'no readiness probes for an unhealthy member');
});

test('unhealthy members are re-probed on the shorter interval; a healthy one shows its failure count', async (t) => {
  // The member's own interval is 60 s and each failure is provoked by a changed check (probed at
  // once), so any further probes within the test can only come from the 30 ms fast interval:
  // counted, not timed, so a slow machine cannot fail it.
  const srv = await statusServer(t);
  const hm = new HealthMonitor({ fastIntervalMs: 30 });
  t.after(() => hm.close());
  const sync = (timeoutMs: number) => hm.sync([{ name: 'p', members: [member('a', srv.url, { intervalMs: 60_000, timeoutMs, fall: 2, rise: 1 })] }]);
  sync(500);
  await waitUntil(() => hm.isUsable('a'), 10_000, 'healthy');
  srv.state.status = 500;
  sync(501);
  await waitUntil(() => hm.status('a')?.consecutiveFailures === 1, 10_000, 'one failure');
  assert.equal(hm.status('a')?.reason, 'HTTP 500 from /health (1/2 failures)');
  assert.equal(hm.isUsable('a'), true);
  sync(502);
  await waitUntil(() => !hm.isUsable('a'), 10_000, 'unhealthy');
  const hits = srv.state.hits;
  await waitUntil(() => srv.state.hits - hits >= 5, 20_000, 'five more probes: fast re-probing (the interval alone would give none for 60 s)');
});

test('a changed check keeps the verdict and re-probes at once; disable toggles', async (t) => {
  const srv = await statusServer(t);
  const hm = new HealthMonitor();
  t.after(() => hm.close());
  hm.sync([{ name: 'p', members: [member('a', srv.url)] }]);
  await waitUntil(() => hm.isUsable('a'), EVENTUALLY_MS, 'healthy');
  srv.state.status = 500;
  hm.sync([{ name: 'p', members: [member('a', srv.url, { path: '/other', fall: 3 })] }]);
  assert.equal(hm.isUsable('a'), true, 'state kept: a new path is not a new member');
  await waitUntil(() => srv.state.hits === 2, EVENTUALLY_MS, 're-probed at once');
  await waitUntil(() => hm.status('a')?.consecutiveFailures === 1, EVENTUALLY_MS, 'failure applied');
  assert.equal(hm.isUsable('a'), true, 'one failure of three');

  hm.sync([{ name: 'p', members: [member('a', srv.url, { disable: true })] }]);
  assert.equal(hm.isUsable('a'), true);
  assert.equal(hm.status('a')?.reason, 'healthcheck disabled');
  await sleep(50);
  assert.equal(srv.state.hits, 2, 'disabled: no probes');

  hm.sync([{ name: 'p', members: [member('a', srv.url)] }]);
  assert.equal(hm.status('a')?.health, 'starting', 're-enabled: "disabled" proved nothing');
  srv.state.status = 200;
  await waitUntil(() => hm.isUsable('a'), EVENTUALLY_MS, 'healthy again');
});

test('a change of only healthcheck.status is a changed check: re-probed at once, health kept', async (t) => {
  const srv = await statusServer(t);
  srv.state.status = 404;
  const hm = new HealthMonitor();
  t.after(() => hm.close());
  hm.sync([{ name: 'p', members: [member('a', srv.url, { rise: 1, fall: 1, status: [[200, 499]] })] }]);
  await waitUntil(() => hm.isUsable('a'), EVENTUALLY_MS, 'a 404 is healthy with 200-499');
  assert.equal(srv.state.hits, 1);

  // Same status again (a fresh but equal array): not a change, no probe.
  hm.sync([{ name: 'p', members: [member('a', srv.url, { rise: 1, fall: 1, status: [[200, 499]] })] }]);
  await sleep(50);
  assert.equal(srv.state.hits, 1, 'an equal status is no change');

  hm.sync([{ name: 'p', members: [member('a', srv.url, { rise: 1, fall: 1 })] }]);
  assert.equal(hm.status('a')?.health, 'healthy', 'not reset to starting');
  assert.equal(hm.isUsable('a'), true);
  await waitUntil(() => srv.state.hits === 2, EVENTUALLY_MS, 're-probed at once (interval is 60s)');
  await waitUntil(() => hm.status('a')?.health === 'unhealthy', EVENTUALLY_MS, 'the default 200-399 rejects 404');
  assert.equal(hm.status('a')?.reason, 'HTTP 404 from /health');
});

test('a member listed twice with different urls is checked once, and the conflict is logged', async (t) => {
  const srv = await statusServer(t);
  const { lines, logger } = recordingLogger();
  const hm = new HealthMonitor({ logger });
  t.after(() => hm.close());
  hm.sync([
    { name: 'one', members: [member('a', srv.url)] },
    { name: 'two', members: [member('a', 'http://127.0.0.1:9'), member('a', 'http://127.0.0.1:9')] },
  ]);
  await waitUntil(() => hm.isUsable('a'), EVENTUALLY_MS, 'healthy');
  assert.equal(srv.state.hits, 1);
  assert.equal(hm.poolSummary('two'), '1/1 members healthy');
  assert.ok(lines.some((l) => l.level === 'warn' && l.msg.includes('listed twice')));
});

test('a shouldProbe hook that throws is logged and the probe runs', async (t) => {
  const srv = await statusServer(t);
  const { lines, logger } = recordingLogger();
  const hm = new HealthMonitor({
    logger,
    shouldProbe: () => {
      throw new Error('hook bug');
    },
  });
  t.after(() => hm.close());
  hm.sync([{ name: 'p', members: [member('a', srv.url)] }]);
  await waitUntil(() => hm.isUsable('a'), EVENTUALLY_MS, 'healthy');
  assert.ok(lines.some((l) => l.level === 'error' && l.msg.includes('shouldProbe threw')));
});

test('a probe result from before a url change is discarded', async (t) => {
  // The old address hangs; the new one answers. The late timeout must not mark the member down.
  const slow = createServer(() => undefined);
  await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        slow.closeAllConnections();
        slow.close(() => resolve());
      }),
  );
  const good = await statusServer(t);
  const hm = new HealthMonitor();
  t.after(() => hm.close());
  const slowUrl = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
  hm.sync([{ name: 'p', members: [member('a', slowUrl, { timeoutMs: 150, fall: 1 })] }]);
  await sleep(20);
  hm.sync([{ name: 'p', members: [member('a', good.url, { timeoutMs: 150, fall: 1 })] }]);
  await waitUntil(() => hm.isUsable('a'), EVENTUALLY_MS, 'healthy at the new address');
  await sleep(250);
  assert.equal(hm.isUsable('a'), true);
  assert.equal(hm.status('a')?.reason, 'HTTP 200 from /health');
});

test('active recovery (rise successes after a confirmed failure) ends a passive cool-down; a trial failure re-ejects', async (t) => {
  const bad = await statusServer(t);
  const good = await statusServer(t);
  const hm = new HealthMonitor({ fastIntervalMs: 20, passive: { baseEjectMs: 60_000 } });
  t.after(() => hm.close());
  hm.sync([{ name: 'p', members: [member('a', bad.url, { fall: 2, rise: 2, intervalMs: 20 }), member('b', good.url)] }]);
  await waitUntil(() => hm.isUsable('a') && hm.isUsable('b'), EVENTUALLY_MS, 'both healthy');
  for (let i = 0; i < 3; i++) hm.report('a', { ok: false, error: 'ECONNREFUSED' });
  assert.match(hm.status('a')?.reason ?? '', /^ejected: 3 failures/);
  bad.state.status = 500;
  await waitUntil(() => hm.status('a')?.reason.startsWith('HTTP 500') === true, EVENTUALLY_MS, 'active checks to see a down');
  assert.equal(hm.isUsable('a'), false);
  bad.state.status = 200;
  await waitUntil(() => hm.isUsable('a'), EVENTUALLY_MS, 'a back after rise successes, long before the 60 s cool-down');
  assert.match(hm.status('a')?.reason ?? '', /^half-open/);
  hm.report('a', { ok: false, error: 'ECONNRESET' });
  assert.equal(hm.isUsable('a'), false, 'the trial failed: ejected again');
  assert.match(hm.status('a')?.reason ?? '', /trial request failed/);
});

test('a passive ejection of a member whose active checks never failed runs its full cool-down', async (t) => {
  const srv = await statusServer(t);
  const other = await statusServer(t);
  const hm = new HealthMonitor({ fastIntervalMs: 20, passive: { baseEjectMs: 60_000 } });
  t.after(() => hm.close());
  hm.sync([{ name: 'p', members: [member('a', srv.url, { intervalMs: 20 }), member('b', other.url)] }]);
  await waitUntil(() => hm.isUsable('a') && hm.isUsable('b'), EVENTUALLY_MS, 'both healthy');
  for (let i = 0; i < 3; i++) hm.report('a', { ok: false, status: 502 });
  const hits = srv.state.hits;
  await waitUntil(() => srv.state.hits >= hits + 4, EVENTUALLY_MS, 'more passing probes');
  assert.equal(hm.isUsable('a'), false, 'passing probes alone do not end the cool-down');
});
