// GoDoxy's route rules (docs/rules.md) in a whole Bellhop (createBellhop, config file, real
// sockets, no Docker), with two loopback backends: a path rule routes to another alias, `error`
// refuses, `require_basic_auth` challenges and a `basic_auth` matcher lets the user in, `remote`
// judges the real client IP (trusted proxies applied), the default rule, rewrite and header
// edits, route loops and unknown aliases, GoDoxy's NetBird example routing gRPC and API
// paths to their own aliases. Nothing is timed: statuses, headers and what each backend saw.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import bcrypt from 'bcryptjs';
import { createBellhop, type Bellhop } from '../../cmd/bellhop/app.ts';
import { loadConfig } from '../../internal/config/index.ts';
import { startRecordingBackend, type RecordingBackend } from '../support/recording-backend.ts';
import { freePort, httpGet, type HttpResult } from '../support/bellhop-harness.ts';

type Answer = HttpResult;

let bellhop: Bellhop;
let port: number;
let front: RecordingBackend;
let back: RecordingBackend;
let dir: string;
let ws: http.Server;
const wsSockets = new Set<Socket>();

const get = (host: string, path: string, opts: { from?: string; headers?: Record<string, string>; method?: string } = {}): Promise<HttpResult> => httpGet(port, host, path, opts);

const code = (a: Answer): string => (JSON.parse(a.body) as { error: { code: string } }).error.code;
const seenBy = (b: RecordingBackend, prefix: string) => b.requests.filter((r) => r.target.startsWith(prefix));
const basic = (user: string, pass: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` });

before(async () => {
  front = await startRecordingBackend();
  back = await startRecordingBackend();
  // a websocket member: 101 at once, then echoes what it gets
  ws = http.createServer((_req, res) => res.writeHead(426).end());
  ws.on('upgrade', (_req: http.IncomingMessage, socket: Socket) => {
    wsSockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Server: ws\r\n\r\n');
    socket.on('data', (c: Buffer) => socket.write(c));
  });
  await new Promise<void>((r) => ws.listen(0, '127.0.0.1', r));
  port = await freePort();
  dir = mkdtempSync(join(tmpdir(), 'bellhop-rules-'));
  const hash = bcrypt.hashSync('open sesame', 4);
  const yaml = `docker: { hosts: [] }
sticky:
  secret_file: ${join(dir, 'sticky.key')}
entrypoint:
  trusted_proxies: [127.0.0.3]
routes:
  app:
    url: ${front.origin}
    rules: |
      header Connection Upgrade &
      header Upgrade websocket {
        route wsback
      }
      path glob(/api/*) {
        set header X-Routed-By rules
        route back
      }
      path /forbidden {
        error 403 "No entry here"
      }
      basic_auth admin "${hash}" & path glob(/private/*) {
        pass
      }
      path glob(/private/*) {
        require_basic_auth "Private area"
      }
      remote 203.0.113.0/24 {
        error 403 "Documentation network"
      }
      path glob(/old/*) {
        rewrite /old /new
        set resp_header X-Rewritten yes
      }
      default {
        set resp_header X-Default yes
        remove header X-Drop-Me
      }
  back:
    url: ${back.origin}
  wsback:
    url: http://127.0.0.1:${String((ws.address() as AddressInfo).port)}
  loop-a:
    url: ${front.origin}
    rules: |
      { route loop-b }
  loop-b:
    url: ${back.origin}
    rules: |
      { route loop-a }
  ghost:
    url: ${front.origin}
    rules:
      - name: nowhere
        do: route does-not-exist
  netbird:
    url: ${front.origin}
    rules: |
      path glob(/signalexchange.SignalExchange/*) | path glob(/management.ManagementService/*) | path glob(/management.ProxyService/*) {
        route netbird-grpc
      }
      header Content-Type glob(application/grpc*) {
        route netbird-grpc
      }
      path glob(/relay*) | path glob(/ws-proxy/*) | path glob(/api/*) | path glob(/oauth2/*) {
        route netbird-api
      }
  netbird-grpc:
    url: ${back.origin}
    rules: |
      { set header X-Netbird grpc }
  netbird-api:
    url: ${back.origin}
    rules: |
      { set header X-Netbird api }
`;
  writeFileSync(join(dir, 'config.yml'), yaml);
  const loaded = loadConfig({ env: {}, cwd: dir });
  if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.format()).join('\n'));
  bellhop = createBellhop(loaded.config, pino({ level: 'silent' }), new Uint8Array(32).fill(7));
  await bellhop.start({ http: { host: '127.0.0.1', port } });
});

after(async () => {
  await bellhop.stop();
  await front.close();
  await back.close();
  for (const sk of wsSockets) sk.destroy();
  await new Promise<void>((r) => ws.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

test('route <alias>: a path rule sends the request to the other alias\'s member, with the rule\'s header edits', async () => {
  const a = await get('app', '/api/users?x=1');
  assert.equal(a.status, 200);
  assert.equal(seenBy(front, '/api/').length, 0, 'the app member never sees it');
  const r = seenBy(back, '/api/users?x=1');
  assert.equal(r.length, 1);
  assert.equal(r[0]!.header('x-routed-by'), 'rules');
  assert.equal(r[0]!.header('host'), 'app', 'the client\'s Host goes along, as in GoDoxy');
});

test('error <code> <message>: answered in Bellhop\'s error shape, nothing reaches a member', async () => {
  const a = await get('app', '/forbidden');
  assert.equal(a.status, 403);
  assert.equal(code(a), 'MIDDLEWARE_RULE_ERROR');
  assert.match(a.body, /No entry here/);
  assert.equal(seenBy(front, '/forbidden').length + seenBy(back, '/forbidden').length, 0);
});

test('require_basic_auth challenges; a basic_auth matcher with the right password lets the user in (and the next one from memory)', async () => {
  const none = await get('app', '/private/x');
  assert.equal(none.status, 401);
  assert.equal(none.headers['www-authenticate'], 'Basic realm="Private area"');
  assert.equal(code(none), 'MIDDLEWARE_UNAUTHORIZED');
  const wrong = await get('app', '/private/x', { headers: basic('admin', 'nope') });
  assert.equal(wrong.status, 401);
  for (let i = 0; i < 2; i++) assert.equal((await get('app', `/private/ok${String(i)}`, { headers: basic('admin', 'open sesame') })).status, 200);
  assert.deepEqual(seenBy(front, '/private/').map((r) => r.target), ['/private/ok0', '/private/ok1']);
});

test('remote judges the real client IP: X-Forwarded-For from a trusted proxy counts, from anyone else it does not', async () => {
  const viaProxy = await get('app', '/r/1', { from: '127.0.0.3', headers: { 'x-forwarded-for': '203.0.113.9' } });
  assert.equal(viaProxy.status, 403);
  assert.match(viaProxy.body, /Documentation network/);
  const forged = await get('app', '/r/2', { from: '127.0.0.2', headers: { 'x-forwarded-for': '203.0.113.9' } });
  assert.equal(forged.status, 200);
  assert.deepEqual(seenBy(front, '/r/').map((r) => r.target), ['/r/2']);
});

test('the default rule runs only when no other rule matched; rewrite and resp_header edits', async () => {
  const plain = await get('app', '/home', { headers: { 'x-drop-me': '1' } });
  assert.equal(plain.status, 200);
  assert.equal(plain.headers['x-default'], 'yes');
  assert.equal(seenBy(front, '/home').at(-1)?.header('x-drop-me'), undefined);
  const old = await get('app', '/old/page?q=2', { headers: { 'x-drop-me': '1' } });
  assert.equal(old.status, 200);
  assert.equal(old.headers['x-rewritten'], 'yes');
  assert.equal(old.headers['x-default'], undefined, 'another rule matched: no default');
  const r = seenBy(front, '/new/page?q=2');
  assert.equal(r.length, 1, 'the member sees the rewritten path with its query');
  assert.equal(r[0]!.header('x-drop-me'), '1');
});

test('rules routing in a loop are cut (508 PROXY_RULE_LOOP); an unknown alias is 503 PROXY_RULE_NO_ROUTE', async () => {
  const loop = await get('loop-a', '/l');
  assert.equal(loop.status, 508);
  assert.equal(code(loop), 'PROXY_RULE_LOOP');
  const ghost = await get('ghost', '/g');
  assert.equal(ghost.status, 503);
  assert.equal(code(ghost), 'PROXY_RULE_NO_ROUTE');
  assert.match(ghost.body, /does-not-exist/);
  assert.equal(seenBy(front, '/l').length + seenBy(back, '/l').length + seenBy(front, '/g').length, 0);
});

test('GoDoxy\'s NetBird example: gRPC paths and content types reach netbird-grpc, API paths netbird-api (their own rules run), the rest the dashboard', async () => {
  assert.equal((await get('netbird', '/management.ManagementService/Login', { method: 'POST' })).status, 200);
  assert.equal((await get('netbird', '/x.Service/Call', { method: 'POST', headers: { 'content-type': 'application/grpc+proto' } })).status, 200);
  assert.equal((await get('netbird', '/api/peers')).status, 200);
  assert.equal((await get('netbird', '/relay')).status, 200);
  assert.equal((await get('netbird', '/peers')).status, 200);
  const at = (prefix: string) => seenBy(back, prefix).map((r) => r.header('x-netbird'));
  assert.deepEqual(at('/management.'), ['grpc']);
  assert.deepEqual(at('/x.Service'), ['grpc']);
  assert.deepEqual(at('/api/peers'), ['api']);
  assert.deepEqual(at('/relay'), ['api']);
  assert.deepEqual(seenBy(front, '/peers').length, 1, 'the dashboard serves the rest');
});

test('GoDoxy\'s WebSocket example: an upgrade matched by header rules is tunnelled to the other alias', async () => {
  const client = net.connect(port, '127.0.0.1');
  client.on('error', () => undefined);
  await new Promise<void>((r) => client.once('connect', () => r()));
  let got = '';
  const until = (re: RegExp) => new Promise<void>((resolve) => {
    const check = (): void => {
      if (re.test(got)) resolve();
      else client.once('data', (c: Buffer) => { got += c.toString('latin1'); check(); });
    };
    check();
  });
  client.write('GET /socket HTTP/1.1\r\nHost: app\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  await until(/\r\n\r\n/);
  assert.match(got, /^HTTP\/1.1 101 /);
  assert.match(got, /x-server: ws/i);
  client.write('ping-through-rules');
  await until(/ping-through-rules/);
  client.destroy();
  assert.equal(seenBy(front, '/socket').length, 0);
});
