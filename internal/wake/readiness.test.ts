// Wake readiness is health's own check (internal/health's Prober) at the address Docker gave the
// start: the member's HTTP health path judged by its healthcheck.status, else a TCP connect.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PROBE_USER_AGENT } from '../health/index.ts';
import type { HealthcheckSpec } from '../routes/index.ts';
import { WakeManager } from './index.ts';
import { FakeControl, idleSpec, member, route } from './fake-control.test-support.ts';

/** A server whose every answer is `status`; the User-Agents it saw. */
async function app(status: number): Promise<{ url: string; agents: string[]; close(): Promise<void> }> {
  const agents: string[] = [];
  const server = createServer((req, res) => {
    agents.push(req.headers['user-agent'] ?? '');
    res.writeHead(status).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    agents,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

/**
 * Wakes a stopped container `a` whose one member is `url` with `healthcheck` overrides. A wake
 * expected to succeed gets a wake_timeout no loaded machine reaches; one expected never to be
 * ready a short one.
 */
async function wakeOnce(url: string, hc: Partial<HealthcheckSpec>, expectReady: boolean): Promise<{ ok: boolean; code: string | undefined }> {
  const control = new FakeControl();
  control.add({ id: 'a', state: 'exited' });
  const wake = new WakeManager({ control });
  const m = member('a', url, 'exited', idleSpec({ wakeTimeoutMs: expectReady ? 30_000 : 300 }));
  wake.sync({ routes: [route('app', [{ ...m, healthcheck: { ...m.healthcheck, ...hc } }])] });
  try {
    const out = await wake.ensureAwake('m-a');
    return { ok: out.ok, code: out.ok ? undefined : out.error.code };
  } finally {
    wake.close();
  }
}

test("HTTP readiness follows the member's healthcheck.status (default 200–399), with health's User-Agent", async (t) => {
  const notFound = await app(404);
  const unavailable = await app(503);
  const redirect = await app(302);
  t.after(async () => {
    for (const s of [notFound, unavailable, redirect]) await s.close();
  });
  assert.deepEqual(await wakeOnce(notFound.url, {}, false), { ok: false, code: 'WAKE_TIMEOUT' }, '404 is not ready by default');
  assert.deepEqual(await wakeOnce(notFound.url, { status: [[200, 499]] }, true), { ok: true, code: undefined }, '404 is ready with status 200-499');
  assert.deepEqual(await wakeOnce(unavailable.url, { status: [[200, 499]] }, false), { ok: false, code: 'WAKE_TIMEOUT' });
  assert.deepEqual(await wakeOnce(redirect.url, {}, true), { ok: true, code: undefined }, 'a redirect is ready (not followed)');
  assert.deepEqual(await wakeOnce(redirect.url, { status: [[200, 200], [204, 204]] }, false), { ok: false, code: 'WAKE_TIMEOUT' });
  assert.ok(notFound.agents.length > 0);
  assert.ok(notFound.agents.every((a) => a === PROBE_USER_AGENT), notFound.agents.join(', '));
});

test('without a health path (and no Docker HEALTHCHECK) a TCP connect decides; a disabled HTTP check falls back to it', async (t) => {
  const listening = await app(500); // answers 500 to HTTP: only the connection counts
  t.after(() => listening.close());
  assert.deepEqual(await wakeOnce(listening.url, { path: undefined }, true), { ok: true, code: undefined });
  assert.deepEqual(await wakeOnce(listening.url, { path: '/health', disable: true }, true), { ok: true, code: undefined });
  assert.equal(listening.agents.length, 0, 'no HTTP request was sent');
  const closed = await app(200);
  const url = closed.url;
  await closed.close();
  assert.deepEqual(await wakeOnce(url, { path: undefined }, false), { ok: false, code: 'WAKE_TIMEOUT' }, 'nothing listens there');
});
