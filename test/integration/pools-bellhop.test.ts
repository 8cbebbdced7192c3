// Pools through a whole in-process Bellhop (config.yml → live pools → proxy → admin API), with
// real node:http members on 127.0.0.1 port 0: iphash with the pool's own real-IP options
// (docs/client-ip.md), sticky cookies through the real wiring (docs/balancing.md), and what the upstream latency
// histogram counts (README.md "Admin API and metrics").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createBellhop } from '../../cmd/bellhop/app.ts';
import { loadConfig } from '../../internal/config/index.ts';
import { httpGet, type HttpResult } from '../support/bellhop-harness.ts';
import { rawConnect, rawRequest } from '../support/raw-client.ts';

// ── members ──────────────────────────────────────────────────────────────────────────────

interface Member {
  name: string;
  url: string;
  /** Headers of every request this member received. */
  seen: IncomingHttpHeaders[];
  close(): Promise<void>;
}

type Behaviour = (req: IncomingMessage, res: ServerResponse, name: string) => void;

const answerName: Behaviour = (_req, res, name) => {
  res.writeHead(200, { 'content-type': 'text/plain' }).end(name);
};

async function member(name: string, behaviour: Behaviour = answerName): Promise<Member> {
  const sockets = new Set<Socket>();
  const seen: IncomingHttpHeaders[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(req.headers);
    behaviour(req, res, name);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    name,
    url: `http://127.0.0.1:${String(port)}`,
    seen,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

/** A port nothing listens on (bound, read, closed). */
async function refusedUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return `http://127.0.0.1:${String(port)}`;
}

// ── Bellhop ──────────────────────────────────────────────────────────────────────────────

interface Running {
  httpPort: number;
  apiPort: number;
  get(host: string, headers?: Record<string, string>): Promise<HttpResult>;
  metrics(): Promise<string>;
}

async function startBellhop(t: { after(fn: () => Promise<void>): void }, yaml: string): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'bellhop-pools-'));
  writeFileSync(join(dir, 'config.yml'), `docker: { hosts: [] }\n${yaml}\n`);
  const loaded = loadConfig({ env: {}, cwd: dir });
  if (!loaded.ok) throw new Error(`config: ${loaded.errors.map((e) => e.format()).join('\n')}`);
  const bellhop = createBellhop(loaded.config, pino({ level: 'silent' }), new Uint8Array(32).fill(7));
  const ports = await bellhop.start({ http: { host: '127.0.0.1', port: 0 }, api: { host: '127.0.0.1', port: 0 } });
  t.after(async () => {
    await bellhop.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const apiPort = ports.apiPort!;
  return {
    httpPort: ports.httpPort,
    apiPort,
    get: (host, headers = {}) => httpGet(ports.httpPort, host, '/', { headers }),
    metrics: async () => (await httpGet(apiPort, '127.0.0.1', '/metrics')).body,
  };
}

function route(name: string, members: { name: string; url: string }[], extra: string[] = [], healthcheck = '{ disable: true }'): string {
  return [
    `  ${name}:`,
    '    members:',
    ...members.map((m) => `      - { name: ${m.name}, url: "${m.url}" }`),
    `    healthcheck: ${healthcheck}`,
    ...extra.map((l) => `    ${l}`),
  ].join('\n');
}

async function members3(t: { after(fn: () => Promise<void>): void }): Promise<Member[]> {
  const ms = await Promise.all(['m1', 'm2', 'm3'].map((n) => member(n)));
  t.after(async () => {
    await Promise.all(ms.map((m) => m.close()));
  });
  return ms;
}

// ── iphash with load_balance.options ─────────────────────────────────────────────────────

test('iphash with options: a header from a peer in `from` picks the member; from elsewhere it is ignored', async (t) => {
  const ms = await members3(t);
  const run = await startBellhop(t, [
    'routes:',
    route('hash', ms, ['load_balance: { mode: iphash, options: { header: X-Real-IP, from: [127.0.0.1/32] } }']),
    route('far', ms, ['load_balance: { mode: iphash, options: { header: X-Real-IP, from: [10.0.0.0/8] } }']),
  ].join('\n'));

  // the same header value always lands on the same member
  for (const ip of ['198.51.100.7', '203.0.113.200', '2001:db8::42']) {
    const bodies = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const r = await run.get('hash', { 'X-Real-IP': ip });
      assert.equal(r.status, 200);
      bodies.add(r.body);
    }
    assert.equal(bodies.size, 1, `${ip} went to ${[...bodies].join(', ')}`);
  }

  // 200 different header values (every request comes from 127.0.0.1) spread over all members
  const by = new Map<string, number>();
  for (let i = 0; i < 200; i++) {
    const r = await run.get('hash', { 'X-Real-IP': `10.${String(i >> 8)}.${String(i & 255)}.${String((i * 7) % 250 + 1)}` });
    assert.equal(r.status, 200);
    by.set(r.body, (by.get(r.body) ?? 0) + 1);
  }
  assert.deepEqual([...by.keys()].sort(), ['m1', 'm2', 'm3'], `spread: ${JSON.stringify([...by])}`);

  // the options only change the hash input: what the member receives still follows
  // entrypoint.trusted_proxies (none here), so the client's X-Real-IP is replaced by the peer
  const last = ms.flatMap((m) => m.seen).at(-1)!;
  assert.equal(last['x-real-ip'], '127.0.0.1');

  // 127.0.0.1 is not in 10.0.0.0/8: the header means nothing, every request hashes the peer
  const far = new Set<string>();
  for (let i = 0; i < 60; i++) {
    const r = await run.get('far', { 'X-Real-IP': `203.0.113.${String(i + 1)}` });
    assert.equal(r.status, 200);
    far.add(r.body);
  }
  assert.equal(far.size, 1, `from outside \`from\`: ${[...far].join(', ')}`);
});

// ── sticky through the real wiring ───────────────────────────────────────────────────────

const STICKY = 'bellhop_lb_sticky';

function stickyToken(r: HttpResult): string | undefined {
  const set = r.headers['set-cookie'];
  const line = (Array.isArray(set) ? set : []).find((c) => c.startsWith(`${STICKY}=`));
  return line === undefined ? undefined : line.slice(STICKY.length + 1, line.indexOf(';'));
}

function setCookieLine(r: HttpResult): string {
  const set = r.headers['set-cookie'];
  return (Array.isArray(set) ? set : []).find((c) => c.startsWith(`${STICKY}=`)) ?? '';
}

test('sticky pool: cookie on the first answer, pinned afterwards, stripped upstream, forged → fresh, Secure from a trusted https proxy', async (t) => {
  const ms = await members3(t);
  const run = await startBellhop(t, [
    'entrypoint:',
    '  trusted_proxies: [127.0.0.1/32]',
    'routes:',
    route('app', ms, ['load_balance: { sticky: true }']),
  ].join('\n'));

  const first = await run.get('app');
  assert.equal(first.status, 200);
  const token = stickyToken(first);
  assert.ok(token, `Set-Cookie: ${JSON.stringify(first.headers['set-cookie'])}`);
  const line = setCookieLine(first);
  assert.match(line, /; Path=\//);
  assert.match(line, /; HttpOnly/);
  assert.match(line, /; SameSite=Lax/);
  assert.doesNotMatch(line, /Secure/, 'plain http, no X-Forwarded-Proto: no Secure');

  // round robin would rotate over three members; the cookie pins every request to the first one
  for (let i = 0; i < 9; i++) {
    const r = await run.get('app', { cookie: `a=1; ${STICKY}=${token}; b=2` });
    assert.equal(r.status, 200);
    assert.equal(r.body, first.body, `request ${String(i)}`);
    assert.equal(stickyToken(r), undefined, 'a fresh token is not re-issued');
  }
  const pinned = ms.find((m) => m.name === first.body)!;
  const upstreamCookie = pinned.seen.at(-1)!.cookie;
  assert.equal(upstreamCookie, 'a=1; b=2', 'our cookie is removed, the others are kept');

  // a forged cookie: a normal pick and a fresh cookie, never an error; not sent upstream either
  const before = ms.reduce((n, m) => n + m.seen.length, 0);
  const forged = await run.get('app', { cookie: `${STICKY}=Zm9yZ2Vk.bm9wZQ; theme=dark` });
  assert.equal(forged.status, 200);
  const fresh = stickyToken(forged);
  assert.ok(fresh !== undefined && fresh !== 'Zm9yZ2Vk.bm9wZQ');
  const got = ms.flatMap((m) => m.seen).length;
  assert.equal(got, before + 1);
  const forgedSeen = ms.find((m) => m.name === forged.body)!.seen.at(-1)!;
  assert.equal(forgedSeen.cookie, 'theme=dark');
  // the fresh cookie pins to the member that answered
  assert.equal((await run.get('app', { cookie: `${STICKY}=${fresh}` })).body, forged.body);

  // a trusted proxy says the client used https: the cookie is Secure
  const https = await run.get('app', { 'x-forwarded-proto': 'https' });
  assert.match(setCookieLine(https), /; Secure/);
});

// ── the upstream latency histogram ───────────────────────────────────────────────────────

function sample(text: string, name: string, route: string): number | undefined {
  const m = new RegExp(`^bellhop_upstream_latency_seconds_${name}\\{route="${route}"\\} (\\S+)$`, 'm').exec(text);
  return m === null ? undefined : Number(m[1]);
}

function requests(text: string, route: string, status: number): number {
  const m = new RegExp(`^bellhop_requests_total\\{route="${route}",status="${String(status)}",member="[^"]*"\\} (\\S+)$`, 'm').exec(text);
  return m === null ? 0 : Number(m[1]);
}

test('upstream latency: only requests a member answered are observed, from dispatch on the last attempt', async (t) => {
  const slow = await member('slow', (_req, res, name) => {
    setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end(name), 150);
  });
  const notFound = await member('nf', (_req, res) => res.writeHead(404).end('no such page'));
  // takes the request, thinks for 1.5 s, then resets it: the GET is retried on `quick`
  const resetter = await member('resetter', (req) => {
    setTimeout(() => req.socket.destroy(), 1500);
  });
  const quick = await member('quick');
  t.after(async () => {
    await Promise.all([slow, notFound, resetter, quick].map((m) => m.close()));
  });
  const refused = await refusedUrl();
  const run = await startBellhop(t, [
    'routes:',
    route('slow', [slow]),
    route('nf', [notFound]),
    route('retry', [resetter, quick]),
    route('refused', [{ name: 'gone', url: refused }]),
    // never healthy (its checks are refused): Bellhop answers 503 itself
    route('down', [{ name: 'gone', url: refused }], [], '{ path: /health, interval: 10s, timeout: 1s }'),
  ].join('\n'));

  // Bellhop's own answers: no route (404), a bad request (400), nothing usable (503), a member
  // that refuses connections (502): counted as requests, never as upstream latency
  assert.equal((await run.get('nowhere')).status, 404);
  const bad = await rawRequest(run.httpPort, 'GET / HTTP/1.1\r\nHost: slow\r\nHost: nf\r\n\r\n', 10_000);
  assert.equal(bad.responses[0]?.status, 400);
  assert.equal((await run.get('down')).status, 503);
  assert.equal((await run.get('refused')).status, 502);
  let text = await run.metrics();
  assert.equal(requests(text, '-', 404), 1);
  assert.equal(requests(text, '-', 400), 1);
  assert.equal(requests(text, 'down', 503), 1);
  assert.equal(requests(text, 'refused', 502), 1);
  assert.doesNotMatch(text, /^bellhop_upstream_latency_seconds_count/m, 'no member answered anything yet');

  // a member's own 404 is an answer: observed
  assert.equal((await run.get('nf')).status, 404);
  // the member's time is in it
  assert.equal((await run.get('slow')).status, 200);
  text = await run.metrics();
  assert.equal(sample(text, 'count', 'nf'), 1);
  assert.equal(sample(text, 'count', 'slow'), 1);
  assert.ok(sample(text, 'sum', 'slow')! >= 0.15, `slow: ${String(sample(text, 'sum', 'slow'))} s`);

  // the retry: the exchange took over 1.5 s, the last attempt (on `quick`) a moment. Checked by
  // containment, not by a bound on this machine's speed: a last attempt begins after the 1.5 s
  // the resetter held the first, so it fits in the client's time minus that hold. (1 s of the
  // hold is counted, for timer slack; an exchange measured whole would still exceed it by 1 s.)
  const timedGet = async (host: string): Promise<HttpResult & { s: number }> => {
    const t0 = performance.now();
    const r = await run.get(host);
    return { ...r, s: (performance.now() - t0) / 1000 };
  };
  const r1 = await timedGet('retry');
  const r2 = await timedGet('retry');
  assert.deepEqual([r1.status, r1.body, r2.status, r2.body], [200, 'quick', 200, 'quick']);
  assert.ok(resetter.seen.length >= 1, 'the first attempt went to the resetter');
  text = await run.metrics();
  assert.equal(sample(text, 'count', 'retry'), 2);
  const lastAttemptsAtMost = r1.s + r2.s - resetter.seen.length * 1;
  assert.ok(sample(text, 'sum', 'retry')! < lastAttemptsAtMost,
    `retry: ${String(sample(text, 'sum', 'retry'))} s is the last attempt only (clients waited ${r1.s.toFixed(3)} + ${r2.s.toFixed(3)} s, ${String(resetter.seen.length)} held 1.5 s by the resetter)`);
});

test('upstream latency of a websocket is the time to the member\'s 101, not the tunnel\'s lifetime', async (t) => {
  // the member accepts the upgrade at once and keeps the tunnel open until the client leaves
  const sockets = new Set<Socket>();
  const server = await new Promise<Server>((resolve) => {
    const s = createServer((_req, res) => res.writeHead(426).end());
    s.on('upgrade', (_req: IncomingMessage, socket: Socket) => {
      sockets.add(socket);
      socket.on('error', () => socket.destroy());
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    });
    s.listen(0, '127.0.0.1', () => resolve(s));
  });
  t.after(() => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  }));
  const run = await startBellhop(t, ['routes:', route('ws', [{ name: 'ws', url: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}` }])].join('\n'));

  const client = await rawConnect(run.httpPort);
  const head = new Promise<string>((resolve) => client.once('data', (c: Buffer) => resolve(c.toString('latin1'))));
  const t0 = performance.now();
  client.write('GET /ws HTTP/1.1\r\nHost: ws\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  assert.match(await head, /^HTTP\/1.1 101 /);
  // Bellhop's dispatch → 101 lies inside the client's write → 101; the tunnel's lifetime does not.
  const clientTo101 = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 1200));
  client.destroy();
  let text = '';
  for (const deadline = performance.now() + 10_000; sample(text, 'count', 'ws') === undefined && performance.now() < deadline;) {
    await new Promise((r) => setTimeout(r, 10));
    text = await run.metrics();
  }
  assert.equal(requests(text, 'ws', 101), 1);
  assert.equal(sample(text, 'count', 'ws'), 1);
  assert.ok(sample(text, 'sum', 'ws')! <= clientTo101,
    `ws: ${String(sample(text, 'sum', 'ws'))} s, more than the ${clientTo101.toFixed(3)} s the client waited for its 101; the tunnel was open 1.2 s`);
});

// ── hot reload of entrypoint.trusted_proxies ─────────────────────────────────────────────

test('a hot reload of entrypoint.trusted_proxies applies to the next request, on a kept-alive connection too', async (t) => {
  const m = await member('m');
  t.after(() => m.close());
  const dir = mkdtempSync(join(tmpdir(), 'bellhop-trusted-'));
  const load = (trusted: string) => {
    writeFileSync(join(dir, 'config.yml'), `docker: { hosts: [] }\nentrypoint: { trusted_proxies: ${trusted} }\nroutes:\n${route('web', [m])}\n`);
    const loaded = loadConfig({ env: {}, cwd: dir });
    if (!loaded.ok) throw new Error(`config: ${loaded.errors.map((e) => e.format()).join('\n')}`);
    return loaded.config;
  };
  const bellhop = createBellhop(load('[]'), pino({ level: 'silent' }), new Uint8Array(32).fill(7));
  const ports = await bellhop.start({ http: { host: '127.0.0.1', port: 0 }, api: { host: '127.0.0.1', port: 0 } });
  t.after(async () => {
    await bellhop.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const sockets = new Set<unknown>();
  const get = () =>
    new Promise<IncomingHttpHeaders>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: ports.httpPort, path: '/', agent, headers: { host: 'web', 'x-forwarded-for': '203.0.113.9' } }, (res) => {
        sockets.add(req.socket);
        res.resume();
        res.on('end', () => resolve(m.seen[m.seen.length - 1]!));
      });
      req.on('error', reject);
      req.end();
    });

  assert.equal((await get())['x-real-ip'], '127.0.0.1', 'untrusted peer: its X-Forwarded-For claim is dropped');
  bellhop.applyConfig(load('[127.0.0.1/32]'));
  const after = await get();
  assert.equal(after['x-real-ip'], '203.0.113.9', 'trusted now: the claimed client is believed');
  assert.equal(after['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
  bellhop.applyConfig(load('[]'));
  assert.equal((await get())['x-real-ip'], '127.0.0.1', 'and untrusted again');
  assert.equal(sockets.size, 1, 'all three on one kept-alive connection');
});
