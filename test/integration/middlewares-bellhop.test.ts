// Every middleware on a route served by a whole Bellhop (createBellhop, config file, real
// sockets, no Docker): rate_limit with concurrent clients from 127.0.0.1 and 127.0.0.2,
// cidr_whitelist, request/response header edits, basic_auth with a hash made by `htpasswd -B`,
// forward_auth against a small server speaking Authelia's protocol, oidc through the whole
// login against oidc-provider, and real_ip / cloudflare_real_ip deciding the client for all
// of them and the access log. Nothing is timed: counts, statuses and headers prove it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { createBellhop, type Bellhop } from '../../cmd/bellhop/app.ts';
import { loadConfig } from '../../internal/config/index.ts';
import { startRecordingBackend, type RecordingBackend } from '../support/recording-backend.ts';
import { freePort, httpGet, type HttpResult } from '../support/bellhop-harness.ts';
import { Browser, CLIENT_ID, CLIENT_SECRET, closeServer, startProvider } from '../support/oidc-provider.ts';

type Answer = HttpResult;

let bellhop: Bellhop;
let port: number;
let apiPort: number;
let backend: RecordingBackend;
let auth: http.Server;
const authSeen: http.IncomingHttpHeaders[] = [];
let provider: { server: http.Server; issuer: string };
let dir: string;
const logs: Record<string, unknown>[] = [];

/** A request to Bellhop from `from` (127.0.0.1 or 127.0.0.2) with Host `host`. */
const get = (host: string, path: string, opts: { from?: string; headers?: Record<string, string>; method?: string } = {}): Promise<HttpResult> => httpGet(port, host, path, opts);

/** Requests the backend saw whose target starts with `prefix`. */
const seen = (prefix: string) => backend.requests.filter((r) => r.target.startsWith(prefix));
const code = (a: Answer): string => (JSON.parse(a.body) as { error: { code: string } }).error.code;

/** Authelia's /api/authz/forward-auth: 200 + Remote-* for a good session cookie, else 302 to the portal with rd=. */
function startAuthServer(): http.Server {
  return http.createServer((req, res) => {
    authSeen.push(req.headers);
    if (req.url !== '/api/authz/forward-auth') {
      res.writeHead(404).end();
      return;
    }
    if ((req.headers.cookie ?? '').includes('authelia_session=good')) {
      res.writeHead(200, { 'remote-user': 'alice', 'remote-groups': 'admins,dev', 'remote-email': 'alice@example.test', 'remote-name': 'Alice', 'x-other': 'not copied' }).end();
      return;
    }
    const rd = `${String(req.headers['x-forwarded-proto'])}://${String(req.headers['x-forwarded-host'])}${String(req.headers['x-forwarded-uri'])}`;
    const body = '<a href="https://auth.example.test/">Found</a>';
    res.writeHead(302, { location: `https://auth.example.test/?rd=${encodeURIComponent(rd)}`, 'set-cookie': 'authelia_flow=1; Path=/', 'content-type': 'text/html', 'content-length': String(body.length) }).end(body);
  });
}

before(async () => {
  backend = await startRecordingBackend();
  auth = startAuthServer();
  await new Promise<void>((r) => auth.listen(0, '127.0.0.1', r));
  const authPort = (auth.address() as AddressInfo).port;
  port = await freePort();
  provider = await startProvider(`http://sso:${String(port)}/.bellhop/oidc/callback`);
  // A bcrypt hash exactly as Debian's htpasswd makes it ($2y$).
  const htpasswd = execFileSync('htpasswd', ['-nbB', '-C', '5', 'admin', 'correct horse'], { encoding: 'utf8' }).trim();
  assert.match(htpasswd, /^admin:\$2y\$05\$/);
  dir = mkdtempSync(join(tmpdir(), 'bellhop-mw-'));
  writeFileSync(join(dir, 'users.htpasswd'), `${execFileSync('htpasswd', ['-nbB', '-C', '5', 'carol', 'from a file'], { encoding: 'utf8' }).trim()}\n`);
  const up = backend.origin;
  const yaml = `docker: { hosts: [] }
sticky:
  secret_file: ${join(dir, 'sticky.key')}
entrypoint:
  middlewares:
    - use: cloudflare_real_ip
      from: [127.0.0.3]
routes:
  limited:
    url: ${up}
    middlewares:
      rate_limit: { average: 3, burst: 3, periods: 1m }
  lan:
    url: ${up}
    middlewares:
      cidr_whitelist: { allow: [127.0.0.2], message: "LAN only" }
  edit:
    url: ${up}
    middlewares:
      request:
        set_headers: { X-From-Bellhop: "yes" }
        hide_headers: [X-Secret]
      response:
        set_headers: { X-Frame-Options: DENY }
        hide_headers: [Server]
  basic:
    url: ${up}
    middlewares:
      basic_auth:
        users: ["${htpasswd}"]
        users_file: ${join(dir, 'users.htpasswd')}
        realm: Family
  fwd:
    url: ${up}
    middlewares:
      forward_auth:
        address: http://127.0.0.1:${String(authPort)}/api/authz/forward-auth
        bypass: ["path /public/*"]
  authsvc:
    url: http://127.0.0.1:${String(authPort)}
  fwdroute:
    url: ${up}
    middlewares:
      forward_auth: { route: authsvc, auth_endpoint: /api/authz/forward-auth }
  sso:
    url: ${up}
    middlewares:
      oidc:
        issuer_url: ${provider.issuer}
        client_id: ${CLIENT_ID}
        client_secret: ${CLIENT_SECRET}
        allowed_groups: [admins]
        bypass: ["path /public/*"]
  rip:
    url: ${up}
    middlewares:
      real_ip: { header: X-Forwarded-For, from: [127.0.0.1] }
      cidr_whitelist: { allow: [203.0.113.0/24] }
      rate_limit: { average: 1, periods: 1m }
`;
  writeFileSync(join(dir, 'config.yml'), yaml);
  const loaded = loadConfig({ env: {}, cwd: dir });
  if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.format()).join('\n'));
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) logs.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  bellhop = createBellhop(loaded.config, pino({ level: 'info' }, sink), new Uint8Array(32).fill(9));
  const ports = await bellhop.start({ http: { host: '127.0.0.1', port }, api: { host: '127.0.0.1', port: 0 } });
  apiPort = ports.apiPort!;
});

after(async () => {
  await bellhop.stop();
  await closeServer(auth);
  await closeServer(provider.server);
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
});

test('rate_limit: concurrent clients from 127.0.0.1 and 127.0.0.2 each get their own bucket; over it 429 + Retry-After', async () => {
  const burst = (from: string) => Promise.all(Array.from({ length: 6 }, (_, i) => get('limited', `/rl/${from}/${String(i)}`, { from })));
  const [one, two] = await Promise.all([burst('127.0.0.1'), burst('127.0.0.2')]);
  for (const answers of [one, two]) {
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 200, 200, 429, 429, 429]);
    for (const a of answers.filter((x) => x.status === 429)) {
      assert.equal(code(a), 'MIDDLEWARE_RATE_LIMITED');
      // 3 per minute: the next token is about 20 s away
      const retry = Number(a.headers['retry-after']);
      assert.ok(retry >= 1 && retry <= 20, `Retry-After ${String(a.headers['retry-after'])}`);
    }
  }
  assert.equal(seen('/rl/127.0.0.1/').length, 3);
  assert.equal(seen('/rl/127.0.0.2/').length, 3);
});

test('cidr_whitelist: 127.0.0.1 is refused with its message and never reaches the member; 127.0.0.2 is let in', async () => {
  const refused = await get('lan', '/lan/a', { from: '127.0.0.1' });
  assert.equal(refused.status, 403);
  assert.equal(code(refused), 'MIDDLEWARE_IP_NOT_ALLOWED');
  assert.match(refused.body, /LAN only/);
  assert.equal((await get('lan', '/lan/b', { from: '127.0.0.2' })).status, 200);
  assert.deepEqual(seen('/lan/').map((r) => r.target), ['/lan/b']);
});

test('cloudflare_real_ip at the entrypoint: from its peers, CF-Connecting-IP is the client for every route without its own rule', async () => {
  const viaCf = await get('lan', '/lan/cf', { from: '127.0.0.3', headers: { 'cf-connecting-ip': '127.0.0.2' } });
  assert.equal(viaCf.status, 200);
  assert.equal(seen('/lan/cf').at(-1)?.header('x-real-ip'), '127.0.0.2');
  // anyone else's CF-Connecting-IP is not believed
  const forged = await get('lan', '/lan/forged', { from: '127.0.0.1', headers: { 'cf-connecting-ip': '127.0.0.2' } });
  assert.equal(forged.status, 403);
});

test('request/response: headers set and hidden both ways', async () => {
  const a = await get('edit', '/edit', { headers: { 'x-secret': 'hunter2', 'x-from-bellhop': 'forged' } });
  assert.equal(a.status, 200);
  assert.equal(a.headers['x-frame-options'], 'DENY');
  const r = seen('/edit').at(-1)!;
  assert.deepEqual(r.headerAll('x-from-bellhop'), ['yes']);
  assert.equal(r.header('x-secret'), undefined);
});

test('basic_auth: an htpasswd -B ($2y$) user and a users_file user get in without their credentials reaching the member; others get 401 + challenge', async () => {
  const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
  const none = await get('basic', '/basic/none');
  assert.equal(none.status, 401);
  assert.equal(code(none), 'MIDDLEWARE_UNAUTHORIZED');
  assert.equal(none.headers['www-authenticate'], 'Basic realm="Family", charset="UTF-8"');
  assert.equal((await get('basic', '/basic/wrong', { headers: { authorization: basic('admin', 'wrong') } })).status, 401);
  assert.equal((await get('basic', '/basic/ok', { headers: { authorization: basic('admin', 'correct horse') } })).status, 200);
  assert.equal((await get('basic', '/basic/file', { headers: { authorization: basic('carol', 'from a file') } })).status, 200);
  assert.deepEqual(seen('/basic/').map((r) => r.target), ['/basic/ok', '/basic/file']);
  assert.ok(seen('/basic/').every((r) => r.header('authorization') === undefined), 'the password never reaches the member');
});

test('forward_auth (Authelia protocol): login redirect relayed; 200 lets the request on with Remote-User; a forged Remote-User never reaches the member', async () => {
  const login = await get('fwd', '/fwd/page?x=1', { from: '127.0.0.2', headers: { 'remote-user': 'root' } });
  assert.equal(login.status, 302);
  assert.equal(login.headers.location, `https://auth.example.test/?rd=${encodeURIComponent(`http://fwd/fwd/page?x=1`)}`);
  assert.match(String(login.headers['set-cookie']), /authelia_flow=1/);
  const asked = authSeen.at(-1)!;
  assert.equal(asked['x-forwarded-method'], 'GET');
  assert.equal(asked['x-forwarded-for'], '127.0.0.2');
  assert.equal(asked['x-forwarded-uri'], '/fwd/page?x=1');
  assert.equal(seen('/fwd/').length, 0, 'nothing reached the member');

  const ok = await get('fwd', '/fwd/in', { headers: { cookie: 'authelia_session=good; theme=dark', 'remote-user': 'root', 'Remote_Groups': 'everyone' } });
  assert.equal(ok.status, 200);
  const r = seen('/fwd/in').at(-1)!;
  assert.deepEqual(r.headerAll('remote-user'), ['alice']);
  assert.equal(r.headers.filter(([k]) => k.toLowerCase().replaceAll('_', '-') === 'remote-groups').map(([, v]) => v).join(), 'admins,dev');
  assert.equal(r.header('x-other'), undefined, 'only the named headers are copied');

  // bypassed paths skip the auth server but still lose the forged identity
  const before = authSeen.length;
  const pub = await get('fwd', '/public/logo.png', { headers: { 'remote-user': 'root' } });
  assert.equal(pub.status, 200);
  assert.equal(authSeen.length, before, 'a bypassed path does not ask the auth server');
  assert.equal(seen('/public/logo.png').at(-1)?.header('remote-user'), undefined);
});

test('forward_auth with GoDoxy\'s route: the auth server is asked at its route\'s member', async () => {
  const login = await get('fwdroute', '/fr/page');
  assert.equal(login.status, 302);
  assert.match(String(login.headers.location), /^https:\/\/auth\.example\.test\/\?rd=/);
  const ok = await get('fwdroute', '/fr/in', { headers: { cookie: 'authelia_session=good', 'remote-user': 'root' } });
  assert.equal(ok.status, 200);
  assert.deepEqual(seen('/fr/').map((r) => [r.target, r.header('remote-user')]), [['/fr/in', 'alice']]);
});

test('oidc through Bellhop: the whole login dance against oidc-provider, then the member sees the user; bypass still strips the identity', async () => {
  const browser = new Browser(port, 'sso');
  const answers = await browser.browse(browser.app('/dashboard?tab=2'), 'alice');
  const first = answers[0]!;
  assert.equal(first.status, 302);
  assert.equal(new URL(first.headers.location!).searchParams.get('redirect_uri'), `http://sso:${String(port)}/.bellhop/oidc/callback`);
  const last = answers.at(-1)!;
  assert.equal(last.status, 200, JSON.stringify(answers.map((a) => [a.status, a.url.href])));
  const got = seen('/dashboard').at(-1)!;
  assert.equal(got.target, '/dashboard?tab=2');
  assert.equal(got.header('remote-user'), 'alice');
  assert.equal(seen('/dashboard').length, 1, 'only the signed-in request reached the member');
  assert.equal(seen('/.bellhop/').length, 0, 'the callback is Bellhop\'s');

  // carol is in no allowed group: 403, nothing upstream
  const carol = new Browser(port, 'sso');
  const refused = (await carol.browse(carol.app('/dashboard/carol'), 'carol')).at(-1)!;
  assert.equal(refused.status, 403);
  assert.equal(seen('/dashboard/carol').length, 0);

  // a bypassed path reaches the member unauthenticated, without forged identity or Bellhop's cookies
  const session = [...browser.cookies(`sso:${String(port)}`)].map(([k, v]) => `${k}=${v}`).join('; ');
  const pub = await get('sso', '/public/x', { headers: { 'remote-user': 'root', cookie: `${session}; theme=dark` } });
  assert.equal(pub.status, 200);
  const p = seen('/public/x').at(-1)!;
  assert.equal(p.header('remote-user'), undefined);
  assert.equal(p.header('cookie'), 'theme=dark');
});

test('oidc sessions are sealed with a key derived from the sticky key: another Bellhop with the same key accepts them, one with another key does not', async () => {
  const browser = new Browser(port, 'sso');
  assert.equal((await browser.browse(browser.app('/restart/login'), 'alice')).at(-1)?.status, 200);
  const cookie = [...browser.cookies(`sso:${String(port)}`)].map(([k, v]) => `${k}=${v}`).join('; ');
  const loaded = loadConfig({ env: {}, cwd: dir });
  if (!loaded.ok) throw new Error('config');
  for (const [secret, signedIn] of [[9, true], [8, false]] as const) {
    const other = createBellhop(loaded.config, pino({ level: 'silent' }), new Uint8Array(32).fill(secret));
    const p = await other.start({ http: { host: '127.0.0.1', port: 0 }, api: { host: '127.0.0.1', port: 0 } });
    try {
      const a = await new Promise<Answer>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: p.httpPort, path: `/restart/${String(secret)}`, agent: false, headers: { host: 'sso', cookie, accept: 'text/html' } }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' }));
        });
        req.on('error', reject);
        req.end();
      });
      assert.equal(a.status, signedIn ? 200 : 302, `sticky key filled with ${String(secret)}`);
      if (signedIn) assert.equal(seen(`/restart/${String(secret)}`).at(-1)?.header('remote-user'), 'alice');
    } finally {
      await other.stop();
    }
  }
});

test('real_ip on a route: from its peer, X-Forwarded-For is the client for cidr_whitelist, rate_limit, X-Real-IP and the access log', async () => {
  const a = await get('rip', '/rip/a', { headers: { 'x-forwarded-for': '198.51.100.1, 203.0.113.5' } });
  assert.equal(a.status, 200);
  assert.equal(seen('/rip/a').at(-1)?.header('x-real-ip'), '203.0.113.5');
  // the same client again: its bucket is empty (1 per minute); another client has its own
  assert.equal((await get('rip', '/rip/b', { headers: { 'x-forwarded-for': '203.0.113.5' } })).status, 429);
  assert.equal((await get('rip', '/rip/c', { headers: { 'x-forwarded-for': '203.0.113.6' } })).status, 200);
  // 127.0.0.2 is not in from: its header is not believed, and 127.0.0.2 is not allowed
  assert.equal((await get('rip', '/rip/d', { from: '127.0.0.2', headers: { 'x-forwarded-for': '203.0.113.7' } })).status, 403);
  assert.deepEqual(seen('/rip/').map((r) => r.target), ['/rip/a', '/rip/c']);
  const access = logs.filter((l) => l['module'] === 'access' && String(l['path']).startsWith('/rip/')).map((l) => [l['path'], l['client'], l['status']]);
  assert.deepEqual(access, [['/rip/a', '203.0.113.5', 200], ['/rip/b', '203.0.113.5', 429], ['/rip/c', '203.0.113.6', 200], ['/rip/d', '127.0.0.2', 403]]);
});

test('/api/routes lists each route\'s middlewares in run order (the client rule first)', async () => {
  const res = await fetch(`http://127.0.0.1:${String(apiPort)}/api/routes`);
  const view = await res.json() as { routes: { alias: string; middlewares?: string[] }[] };
  const of = (alias: string) => view.routes.find((r) => r.alias === alias)?.middlewares;
  assert.deepEqual(of('rip'), ['real_ip', 'cidr_whitelist', 'rate_limit']);
  assert.deepEqual(of('edit'), ['request', 'response']);
  assert.deepEqual(of('sso'), ['oidc']);
});
