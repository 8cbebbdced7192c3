// wake.show_logs: who sees a failed wake's container log lines. A container that exits at once
// ('fatal: missing config' in its log) behind a tiny proxy that works out the client IP as the
// real one does (pkg/realip: the peer, or the X-Forwarded-For walk from a trusted peer).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { clientIp, parseTrustedProxies } from '../../pkg/realip/index.ts';
import { WakeManager } from './index.ts';
import { LogDisclosure } from './log-disclosure.ts';
import type { ShowLogs } from './log-disclosure.ts';
import { FakeControl, idleSpec, member, route } from './fake-control.test-support.ts';

interface Rig {
  wake: WakeManager;
  control: FakeControl;
  url: string;
  close(): Promise<void>;
}

async function rig(opts: { showLogs?: ShowLogs; trustedProxies?: string[] } = {}): Promise<Rig> {
  const control = new FakeControl();
  control.add({ id: 'a', state: 'exited', behaviour: 'exit' });
  const wake = new WakeManager({ control, coolDownMs: 60_000, heartbeatMs: 50, showLogs: opts.showLogs, trustedProxies: opts.trustedProxies });
  wake.sync({ routes: [route('app', [member('a', 'http://127.0.0.1:9', 'exited', idleSpec())])] });
  const trusted = parseTrustedProxies(opts.trustedProxies ?? []);
  const server: Server = createServer((req, res) => {
    const ip = clientIp(req.socket.remoteAddress, req.headers['x-forwarded-for'], trusted);
    void Promise.resolve(wake.gate(req, res, { route: 'app', clientIp: ip })).then((r) => {
      if (r === 'proceed') res.end('proxied');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    wake,
    control,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      wake.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const NAVIGATE = { accept: 'text/html', 'sec-fetch-mode': 'navigate' };

/** Every view of the failure one client gets: the API answer (which wakes it), page, events, status. */
async function views(r: Rig, headers: Record<string, string>): Promise<{ api: string; page: string; events: string; status: string }> {
  const api = await get(`${r.url}/api`, { ...headers, accept: 'application/json' });
  assert.equal(api.status, 503);
  const page = await get(`${r.url}/`, { ...headers, ...NAVIGATE });
  assert.equal(page.status, 503);
  const events = await get(`${r.url}/.bellhop/wake/events`, headers);
  const status = await get(`${r.url}/.bellhop/wake/status`, headers);
  return { api: api.body, page: page.body, events: events.body, status: status.body };
}

function assertShown(v: { page: string; events: string; status: string }): void {
  assert.match(v.page, /fatal: missing config/);
  assert.match(v.events, /"logs":"starting app\\nfatal: missing config"/);
  assert.match((JSON.parse(v.status) as { error: { logs?: string } }).error.logs ?? '', /fatal: missing config/);
}

/** No log line anywhere; the code, the message and the exit code still are. */
function assertHidden(v: { api: string; page: string; events: string; status: string }): void {
  for (const [where, text] of Object.entries(v)) assert.doesNotMatch(text, /missing config|starting app/, `log lines in the ${where}`);
  assert.match(v.page, /exited with code 3/);
  assert.match(v.page, /Exit code <b>3<\/b>/);
  assert.match(v.page, /not shown to this address/);
  assert.match(v.events, /"type":"failed"/);
  assert.match(v.events, /"code":"WAKE_EXITED"/);
  assert.match(v.events, /"exitCode":3/);
  assert.match(v.events, /"logsHidden":true/);
  const status = JSON.parse(v.status) as { error: { code: string; exitCode: number; logs?: string; logsHidden?: boolean } };
  assert.deepEqual({ ...status.error, message: '' }, { code: 'WAKE_EXITED', message: '', exitCode: 3, logsHidden: true });
  const api = JSON.parse(v.api) as { error: { code: string; exitCode: number; logs?: string } };
  assert.match(api.error.code, /^WAKE_(EXITED|COOLING_DOWN)$/); // the first answer, then the cool-down's
  assert.equal(api.error.exitCode, 3);
  assert.equal(api.error.logs, undefined);
}

test('show_logs private (default): a loopback client sees the log lines on the page, in the events and in the status JSON', async () => {
  const r = await rig();
  try {
    assertShown(await views(r, {}));
    assert.equal(r.control.count('start a'), 1);
  } finally {
    await r.close();
  }
});

test('show_logs private: a public client behind a trusted proxy (X-Forwarded-For from 127.0.0.1) gets code, message and exit code, never the log lines', async () => {
  const r = await rig({ trustedProxies: ['127.0.0.1'] });
  try {
    assertHidden(await views(r, { 'x-forwarded-for': '203.0.113.7' }));
    // The same failure, a LAN client through the same proxy: shown.
    assertShown(await views(r, { 'x-forwarded-for': '192.168.1.20' }));
  } finally {
    await r.close();
  }
});

test('show_logs private: a request relayed by a peer nobody listed in trusted_proxies is not local, even from loopback', async () => {
  const r = await rig();
  try {
    // A reverse proxy on the same host that Bellhop was not told about: the client behind it is unknown.
    assertHidden(await views(r, { 'x-forwarded-for': '203.0.113.7' }));
    assertHidden(await views(r, { forwarded: 'for=203.0.113.7' }));
  } finally {
    await r.close();
  }
});

test('show_logs always: every client sees them; never: not even loopback; a reload applies at once', async () => {
  const r = await rig({ showLogs: 'always', trustedProxies: ['127.0.0.1'] });
  try {
    assertShown(await views(r, { 'x-forwarded-for': '203.0.113.7' }));
    r.wake.setLogDisclosure({ showLogs: 'never' });
    assertHidden(await views(r, {}));
    r.wake.setLogDisclosure({ showLogs: 'private' });
    assertShown(await views(r, {}));
  } finally {
    await r.close();
  }
});

test('LogDisclosure: loopback, RFC 1918, link-local, unique-local and the trusted networks are private; the rest, CGNAT and unknown are not', () => {
  const d = new LogDisclosure({ trustedProxies: ['198.51.100.0/24'] });
  const req = { headers: {}, socket: { remoteAddress: '127.0.0.1' } } as unknown as IncomingMessage;
  for (const ip of ['127.0.0.1', '127.9.9.9', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.20', '169.254.1.1', '::1', 'fd00::1', 'fe80::1', '::ffff:10.0.0.1', '198.51.100.7']) {
    assert.equal(d.allows(req, ip), true, ip);
  }
  for (const ip of ['203.0.113.7', '172.32.0.1', '100.64.0.1', '8.8.8.8', '2001:db8::1', 'garbage', '']) {
    assert.equal(d.allows(req, ip), false, ip);
  }
  // No client IP from the caller: the connection (and X-Forwarded-For from a trusted peer) decides.
  assert.equal(d.allows(req, undefined), true);
  assert.equal(d.allows({ headers: {}, socket: { remoteAddress: '::ffff:203.0.113.7' } } as unknown as IncomingMessage, undefined), false);
  assert.equal(d.allows({ headers: {} } as unknown as IncomingMessage, undefined), false, 'no socket: unknown');
  const relayed = { headers: { 'x-forwarded-for': '10.0.0.9' }, socket: { remoteAddress: '198.51.100.1' } } as unknown as IncomingMessage;
  assert.equal(d.allows(relayed, undefined), true, 'a LAN client behind a trusted proxy');
  const bad = new LogDisclosure({ trustedProxies: ['not-an-ip'] }); // never expected: config validated it
  assert.equal(bad.allows(req, '198.51.100.7'), false);
  assert.equal(bad.allows(req, '10.0.0.1'), true);
});
