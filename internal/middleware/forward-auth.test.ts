// forward_auth over real sockets: a small auth server speaking Authelia's protocol, a recording
// upstream, and the middleware run by a minimal proxy (auth-harness.test-support.ts).
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { startRecordingBackend, type RecordingBackend } from '../../test/support/recording-backend.ts';
import { CLIENT_IP_HEADER, startAuthHarness, type Harness } from './auth-harness.test-support.ts';
import { forwardAuth } from './forward-auth.ts';
import type { Middleware, MiddlewareDeps, MiddlewareProblem, MiddlewareSpec } from './middleware.ts';

const deps: MiddlewareDeps = { now: () => Date.now(), readFile: () => { throw new Error('no files here'); } };

function spec(options: Record<string, unknown>): MiddlewareSpec {
  return { name: 'forward_auth', priority: 10, bypass: [], options, key: 'proxy.app.middlewares.forward_auth' };
}

function build(options: Record<string, unknown>): Middleware {
  const mw = forwardAuth.create(spec(options), deps);
  assert.ok(!Array.isArray(mw), `problems: ${JSON.stringify(mw)}`);
  return mw;
}

function problems(options: Record<string, unknown>): MiddlewareProblem[] {
  const out = forwardAuth.create(spec(options), deps);
  assert.ok(Array.isArray(out), 'expected problems');
  return out;
}

// ---- an Authelia-like auth server ----

interface AuthSeen { url: string; headers: http.IncomingHttpHeaders }
/** 'identity': 200 with identity headers; 'bare': 200 without; 'forbidden': 403 for the right cookie. */
let authMode: 'identity' | 'bare' | 'forbidden' = 'identity';
const authSeen: AuthSeen[] = [];
const LOGIN_BODY = '<a href="https://auth.example.test/?rd=x">Found</a>.\n';

function authHandler(req: http.IncomingMessage, res: http.ServerResponse): void {
  authSeen.push({ url: req.url ?? '', headers: req.headers });
  const h = req.headers;
  const target = `${String(h['x-forwarded-proto'])}://${String(h['x-forwarded-host'])}${String(h['x-forwarded-uri'])}`;
  const session = /(?:^|;\s*)authelia_session=good(?:;|$)/.test(h.cookie ?? '');
  if (!session) {
    res.writeHead(302, [
      'Location', `https://auth.example.test/?rd=${encodeURIComponent(target)}&rm=${String(h['x-forwarded-method'])}`,
      'Set-Cookie', 'authelia_flow=abc; Path=/; HttpOnly',
      'Set-Cookie', 'authelia_theme=dark; Path=/',
      'Content-Type', 'text/html; charset=utf-8',
      'X-Auth-Trace', 'login',
    ]);
    res.end(LOGIN_BODY);
    return;
  }
  if (authMode === 'forbidden') {
    res.writeHead(403, { 'content-type': 'text/plain' });
    res.end('403 Forbidden\n');
    return;
  }
  const identity = authMode === 'identity'
    ? ['Remote-User', 'alice', 'Remote-Groups', 'admins,dev', 'Remote-Email', 'alice@example.test', 'Remote-Name', 'Alice', 'X-Internal', 'secret']
    : [];
  res.writeHead(200, identity);
  res.end();
}

let auth: http.Server;
let authOrigin = '';
let backend: RecordingBackend;
const harnesses: Harness[] = [];
const middlewares: Middleware[] = [];

before(async () => {
  auth = http.createServer(authHandler);
  await new Promise<void>((resolve) => auth.listen(0, '127.0.0.1', resolve));
  authOrigin = `http://127.0.0.1:${(auth.address() as AddressInfo).port}`;
  backend = await startRecordingBackend();
});

after(async () => {
  for (const mw of middlewares) mw.close?.();
  for (const h of harnesses) await h.close();
  await backend.close();
  auth.closeAllConnections();
  await new Promise<void>((resolve) => auth.close(() => resolve()));
});

async function proxyWith(options: Record<string, unknown>, secure = false): Promise<Harness> {
  const mw = build(options);
  middlewares.push(mw);
  const h = await startAuthHarness(mw, backend.origin, { secure });
  harnesses.push(h);
  return h;
}

function lastAuth(): AuthSeen {
  const seen = authSeen.at(-1);
  assert.ok(seen !== undefined, 'the auth server saw no request');
  return seen;
}

// ---- option checks ----

test('options: address or route required (not both), bad endpoint and header names named', () => {
  const none = problems({});
  assert.deepEqual(none.map((p) => [p.code, p.key]), [['MIDDLEWARE_BAD_OPTION', 'proxy.app.middlewares.forward_auth.address']]);
  const viaRoute = forwardAuth.create(spec({ route: 'tinyauth' }), deps);
  assert.ok(!Array.isArray(viaRoute), 'GoDoxy\'s route (auth_endpoint defaults to /api/auth/nginx)');
  viaRoute.close?.();
  const both = problems({ route: 'authelia', address: 'http://authelia:9091/api/authz/forward-auth' });
  assert.equal(both.length, 1);
  assert.equal(both[0]!.key, 'proxy.app.middlewares.forward_auth.route');
  assert.equal(problems({ route: '' })[0]!.key, 'proxy.app.middlewares.forward_auth.route');
  assert.equal(problems({ route: 'tinyauth', auth_endpoint: 'nope' })[0]!.key, 'proxy.app.middlewares.forward_auth.auth_endpoint');
  assert.equal(problems({ address: 'ftp://x/' })[0]!.key, 'proxy.app.middlewares.forward_auth.address');
  assert.equal(problems({ address: 'not a url' })[0]!.key, 'proxy.app.middlewares.forward_auth.address');
  assert.equal(problems({ address: 'http://u:p@auth:9091/' })[0]!.key, 'proxy.app.middlewares.forward_auth.address');
  assert.equal(problems({ address: 'http://auth:9091', auth_endpoint: 'api/verify' })[0]!.key, 'proxy.app.middlewares.forward_auth.auth_endpoint');
  assert.equal(problems({ address: 'http://auth:9091', auth_endpoint: '//evil/x' })[0]!.key, 'proxy.app.middlewares.forward_auth.auth_endpoint');
  const framing = problems({ address: 'http://auth:9091/', headers: ['Remote-User', 'Content-Length', 'bad name'] });
  assert.equal(framing.length, 1);
  assert.match(framing[0]!.message, /Content-Length/);
  assert.match(framing[0]!.message, /bad name/);
  assert.equal(problems({ address: 'http://auth:9091/', headers: 7 })[0]!.key, 'proxy.app.middlewares.forward_auth.headers');
  assert.equal(forwardAuth.restrictsAccess, true);
  assert.deepEqual([...forwardAuth.options].sort(), ['address', 'auth_endpoint', 'headers', 'route']);
});

// ---- requests ----

test('no session: the login redirect goes back to the client unchanged (status, Location, both Set-Cookie, body)', async () => {
  const h = await proxyWith({ address: `${authOrigin}/api/authz/forward-auth`, headers: ['Remote-User', 'Remote-Groups'] });
  const before = backend.requests.length;
  const res = await request(`${h.origin}/app/page?x=1`, { headers: { host: 'app.example.test' } });
  const body = await res.body.text();
  assert.equal(res.statusCode, 302);
  assert.equal(res.headers['location'], `https://auth.example.test/?rd=${encodeURIComponent('http://app.example.test/app/page?x=1')}&rm=GET`);
  assert.deepEqual(res.headers['set-cookie'], ['authelia_flow=abc; Path=/; HttpOnly', 'authelia_theme=dark; Path=/']);
  assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(res.headers['x-auth-trace'], 'login');
  assert.equal(body, LOGIN_BODY);
  assert.equal(lastAuth().url, '/api/authz/forward-auth');
  assert.equal(backend.requests.length, before, 'the member saw nothing');
});

test('session: 2xx continues and copies only the named headers from the auth answer', async () => {
  authMode = 'identity';
  const h = await proxyWith({ address: `${authOrigin}/api/authz/forward-auth`, headers: ['Remote-User', 'Remote-Groups'] });
  const res = await request(`${h.origin}/dash`, { headers: { host: 'app.example.test', cookie: 'authelia_session=good' } });
  assert.equal(res.statusCode, 200);
  assert.equal(await res.body.text(), 'ok GET /dash');
  const got = backend.requests.at(-1)!;
  assert.deepEqual(got.headerAll('remote-user'), ['alice']);
  assert.deepEqual(got.headerAll('remote-groups'), ['admins,dev']);
  assert.deepEqual(got.headerAll('remote-email'), [], 'not named in headers');
  assert.deepEqual(got.headerAll('x-internal'), []);
  assert.deepEqual(got.headerAll('cookie'), ['authelia_session=good'], 'the member still gets its cookies');
});

test('default headers are GoDoxy\'s four identity headers', async () => {
  authMode = 'identity';
  const h = await proxyWith({ address: `${authOrigin}/api/authz/forward-auth` });
  const res = await request(`${h.origin}/`, { headers: { host: 'app.example.test', cookie: 'authelia_session=good' } });
  assert.equal(res.statusCode, 200);
  await res.body.dump();
  const got = backend.requests.at(-1)!;
  assert.deepEqual(
    ['remote-user', 'remote-groups', 'remote-email', 'remote-name', 'x-internal'].map((n) => got.headerAll(n)),
    [['alice'], ['admins,dev'], ['alice@example.test'], ['Alice'], []],
  );
});

test('a client-forged Remote-User never reaches the member: with and without the auth answer carrying it', async () => {
  const h = await proxyWith({ address: `${authOrigin}/api/authz/forward-auth`, headers: ['Remote-User', 'X-Team'] });
  const forged = {
    host: 'app.example.test', cookie: 'authelia_session=good',
    'remote-user': 'mallory', 'remote_user': 'mallory', 'REMOTE-USER': 'mallory2', 'x-team': 'red', 'remote-email': 'boss@example.test',
  };
  authMode = 'identity';
  let res = await request(`${h.origin}/a`, { headers: forged });
  assert.equal(res.statusCode, 200);
  await res.body.dump();
  let got = backend.requests.at(-1)!;
  assert.deepEqual(got.headerAll('remote-user'), ['alice']);
  assert.deepEqual(got.headerAll('remote_user'), []);
  assert.deepEqual(got.headerAll('x-team'), []);
  assert.deepEqual(got.headerAll('remote-email'), [], 'default identity headers are always stripped');

  authMode = 'bare';
  res = await request(`${h.origin}/b`, { headers: forged });
  assert.equal(res.statusCode, 200);
  await res.body.dump();
  got = backend.requests.at(-1)!;
  assert.equal(got.target, '/b');
  for (const n of ['remote-user', 'remote_user', 'x-team', 'remote-email']) assert.deepEqual(got.headerAll(n), [], n);
  authMode = 'identity';
});

test('X-Forwarded-* describe the client request; client-sent forwarding headers are not passed to the auth server', async () => {
  authMode = 'identity';
  const h = await proxyWith({ address: `${authOrigin}/ignored?x=1`, auth_endpoint: '/api/verify?rd=https%3A%2F%2Fauth' }, true);
  const res = await request(`${h.origin}/app/x?y=1&z=%20a`, {
    method: 'POST',
    body: 'payload',
    headers: {
      host: 'App.Example.test:8443', cookie: 'a=1; authelia_session=good', authorization: 'Bearer t0k',
      accept: 'application/json', 'x-requested-with': 'XMLHttpRequest', 'user-agent': 'test-agent',
      'x-forwarded-for': '6.6.6.6', 'x-forwarded-host': 'evil.test', 'x-forwarded-uri': '/evil', 'x-other': 'no',
      [CLIENT_IP_HEADER]: '203.0.113.7',
    },
  });
  assert.equal(res.statusCode, 200);
  await res.body.dump();
  const seen = lastAuth();
  assert.equal(seen.url, '/api/verify?rd=https%3A%2F%2Fauth', 'auth_endpoint replaces the address path and query');
  const hd = seen.headers;
  assert.equal(hd['x-forwarded-method'], 'POST');
  assert.equal(hd['x-forwarded-proto'], 'https');
  assert.equal(hd['x-forwarded-host'], 'App.Example.test:8443');
  assert.equal(hd['x-forwarded-uri'], '/app/x?y=1&z=%20a');
  assert.equal(hd['x-forwarded-for'], '203.0.113.7');
  assert.equal(hd['x-original-url'], 'https://App.Example.test:8443/app/x?y=1&z=%20a');
  assert.equal(hd['x-original-method'], 'POST');
  assert.equal(hd.cookie, 'a=1; authelia_session=good');
  assert.equal(hd.authorization, 'Bearer t0k');
  assert.equal(hd.accept, 'application/json');
  assert.equal(hd['x-requested-with'], 'XMLHttpRequest');
  assert.equal(hd['user-agent'], 'test-agent');
  assert.equal(hd['x-other'], undefined);
  assert.equal(hd['content-length'], undefined, 'the auth request is a GET without the body');
  const got = backend.requests.at(-1)!;
  assert.equal(got.method, 'POST');
  assert.equal(got.body.toString(), 'payload', 'the body still reaches the member');
});

test('a refusal other than a redirect (403) is relayed as is; HEAD gets the head only', async () => {
  authMode = 'forbidden';
  const h = await proxyWith({ address: `${authOrigin}/api/authz/forward-auth` });
  const before = backend.requests.length;
  let res = await request(`${h.origin}/x`, { headers: { host: 'app.example.test', cookie: 'authelia_session=good' } });
  assert.equal(res.statusCode, 403);
  assert.equal(await res.body.text(), '403 Forbidden\n');
  res = await request(`${h.origin}/x`, { method: 'HEAD', headers: { host: 'app.example.test', cookie: 'authelia_session=good' } });
  assert.equal(res.statusCode, 403);
  assert.equal(res.headers['content-length'], '14');
  assert.equal(await res.body.text(), '');
  assert.equal(backend.requests.length, before);
  authMode = 'identity';
});

test('auth server down: fail closed with 502 MIDDLEWARE_AUTH_UNREACHABLE, the member sees nothing', async () => {
  // A port that was just listening and is now closed: connection refused.
  const gone = http.createServer();
  await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve));
  const port = (gone.address() as AddressInfo).port;
  await new Promise<void>((resolve) => gone.close(() => resolve()));
  const h = await proxyWith({ address: `http://127.0.0.1:${port}/api/authz/forward-auth` });
  const before = backend.requests.length;
  const res = await request(`${h.origin}/x`, { headers: { host: 'app.example.test', cookie: 'authelia_session=good', 'remote-user': 'mallory' } });
  assert.equal(res.statusCode, 502);
  const body = await res.body.json() as { error: { code: string } };
  assert.equal(body.error.code, 'MIDDLEWARE_AUTH_UNREACHABLE');
  assert.equal(backend.requests.length, before);
  const page = await request(`${h.origin}/x`, { headers: { host: 'app.example.test', accept: 'text/html' } });
  assert.equal(page.statusCode, 502);
  assert.match(await page.body.text(), /MIDDLEWARE_AUTH_UNREACHABLE/);
});

test('auth server resets the connection mid-answer: fail closed (502), never continue', async () => {
  const broken = http.createServer((req, res) => {
    res.writeHead(200, { 'content-length': '100' });
    res.write('partial');
    setImmediate(() => res.socket?.destroy());
  });
  await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
  try {
    const h = await proxyWith({ address: `http://127.0.0.1:${(broken.address() as AddressInfo).port}/` });
    const before = backend.requests.length;
    const res = await request(`${h.origin}/x`, { headers: { host: 'app.example.test' } });
    assert.equal(res.statusCode, 502);
    await res.body.dump();
    assert.equal(backend.requests.length, before);
  } finally {
    broken.closeAllConnections();
    await new Promise<void>((resolve) => broken.close(() => resolve()));
  }
});

test('auth server accepts but never answers: 504 MIDDLEWARE_AUTH_TIMEOUT after its 5 s, never continue', async () => {
  const silent = http.createServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  try {
    const h = await proxyWith({ address: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/` });
    const before = backend.requests.length;
    const res = await request(`${h.origin}/x`, { headers: { host: 'app.example.test', cookie: 'authelia_session=good' } });
    assert.equal(res.statusCode, 504);
    assert.equal((await res.body.json() as { error: { code: string } }).error.code, 'MIDDLEWARE_AUTH_TIMEOUT');
    assert.equal(backend.requests.length, before);
  } finally {
    silent.closeAllConnections();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  }
});

test('a client that leaves while the auth server thinks: nothing is answered or forwarded', async () => {
  let asked!: () => void;
  const askedP = new Promise<void>((resolve) => { asked = resolve; });
  const slow = http.createServer(() => asked());
  await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
  try {
    const h = await proxyWith({ address: `http://127.0.0.1:${(slow.address() as AddressInfo).port}/` });
    const before = backend.requests.length;
    const answeredBefore = h.answered;
    const gone = new AbortController();
    const pending = request(`${h.origin}/x`, { headers: { host: 'app.example.test' }, signal: gone.signal });
    await askedP;
    gone.abort();
    await assert.rejects(pending);
    // The middleware saw the close and gave up; its verdict was 'answered' (counted by the harness).
    while (h.answered === answeredBefore) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(backend.requests.length, before);
  } finally {
    slow.closeAllConnections();
    await new Promise<void>((resolve) => slow.close(() => resolve()));
  }
});
