// oidc against a real OpenID provider: oidc-provider (the certified Node implementation) runs on
// loopback with a static client and users that carry groups; a small front server runs the
// middleware as the proxy would (facts from the request, 'continue' forwards to a recording
// backend) and a cookie-keeping client drives the whole login as a browser does: redirects
// followed by hand, the provider's dev login and consent forms posted. Nothing here is timed:
// the clock the middleware sees is injected.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startRecordingBackend } from '../../test/support/recording-backend.ts';
import type { RecordingBackend } from '../../test/support/recording-backend.ts';
import { Browser, CLIENT_ID, CLIENT_SECRET, closeServer, listen, startProvider } from '../../test/support/oidc-provider.ts';
import { OIDC_CALLBACK_PATH, OIDC_COOKIE_PREFIX, OIDC_LOGOUT_PATH, oidc, safeReturnPath } from './oidc.ts';
import type { Middleware, MiddlewareSpec, RequestFacts } from './middleware.ts';

const APP = 'app.test';

/** Runs a middleware as the proxy does: facts from the request, 'continue' forwards to the backend. */
function startFront(backend: () => RecordingBackend, mw: () => Middleware): http.Server {
  return http.createServer((req, res) => {
    const upstreamHeaders = [...req.rawHeaders];
    const facts: RequestFacts = {
      clientIp: '127.0.0.1',
      // A trusted proxy's word in the real proxy; here a test header says it.
      secure: req.headers['x-test-secure'] === '1',
      host: (req.headers.host ?? '').split(':')[0]!.toLowerCase(),
      path: req.url ?? '/',
      upstreamHeaders,
      onResponseHead: () => undefined,
    };
    void Promise.resolve(mw().handle(req, res, facts)).then((verdict) => {
      if (verdict === 'answered') return;
      const up = http.request({ host: '127.0.0.1', port: backend().port, method: req.method, path: req.url, headers: upstreamHeaders }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
        answer.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
  });
}

function sessionCookie(browser: Browser): [string, string] | undefined {
  return [...browser.cookies(`${APP}:${browser.frontPort}`)].find(([k]) => k.startsWith(OIDC_COOKIE_PREFIX) && !k.includes('_flow_'));
}

function spec(options: Record<string, unknown>): MiddlewareSpec {
  return { name: 'oidc', priority: 10, bypass: [], options, key: 'proxy.app.middlewares.oidc' };
}

let clockOffset = 0;
const deps = { now: () => Date.now() + clockOffset, readFile: () => '', secret: Buffer.from('0123456789abcdef0123456789abcdef') };

let backend: RecordingBackend;
let front: http.Server;
let frontPort: number;
let provider: { server: http.Server; issuer: string };
let middleware: Middleware;

before(async () => {
  backend = await startRecordingBackend();
  front = startFront(() => backend, () => middleware);
  frontPort = await listen(front);
  provider = await startProvider(`http://${APP}:${frontPort}${OIDC_CALLBACK_PATH}`);
  const made = oidc.create(spec({
    issuer_url: provider.issuer,
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    allowed_users: ['alice'],
    allowed_groups: 'family',
  }), deps);
  assert.ok(!Array.isArray(made), JSON.stringify(made));
  middleware = made;
});

after(async () => {
  await closeServer(front);
  await closeServer(provider.server);
  await backend.close();
});

test('a signed-out page load goes to the provider with PKCE, state and nonce; the login lands on the page first asked for, with the identity and without Bellhop\'s cookies', async () => {
  const browser = new Browser(frontPort);
  browser.cookies(`${APP}:${frontPort}`).set('theme', 'dark');
  const before = backend.requests.length;
  const seen = await browser.browse(browser.app('/private/page?x=1&y=two'), 'alice');
  const first = seen[0]!;
  assert.equal(first.status, 302);
  const auth = new URL(first.headers.location!);
  assert.equal(auth.origin, provider.issuer);
  assert.equal(auth.searchParams.get('client_id'), CLIENT_ID);
  assert.equal(auth.searchParams.get('redirect_uri'), `http://${APP}:${frontPort}${OIDC_CALLBACK_PATH}`);
  assert.equal(auth.searchParams.get('scope'), 'openid profile email groups');
  assert.equal(auth.searchParams.get('code_challenge_method'), 'S256');
  assert.ok((auth.searchParams.get('state') ?? '').length >= 32);
  assert.ok((auth.searchParams.get('nonce') ?? '').length >= 32);
  assert.match(String(first.headers['set-cookie']), /_flow_.*; Path=\/; Max-Age=600; HttpOnly; SameSite=Lax/);

  const callback = seen.find((a) => a.url.pathname === OIDC_CALLBACK_PATH)!;
  assert.equal(callback.status, 302);
  assert.equal(callback.headers.location, '/private/page?x=1&y=two');
  const setCookies = callback.headers['set-cookie'] ?? [];
  assert.ok(setCookies.some((c) => /_flow_[^=]+=; .*Max-Age=0/.test(c)), 'the flow cookie is cleared');
  const session = setCookies.find((c) => c.startsWith(OIDC_COOKIE_PREFIX) && !c.includes('_flow_'))!;
  assert.match(session, /; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax$/);
  assert.doesNotMatch(session, /Secure/, 'no Secure on plain http');
  assert.doesNotMatch(session, /alice/, 'the session is sealed, not readable');

  const last = seen.at(-1)!;
  assert.equal(last.status, 200);
  assert.equal(last.body, 'ok GET /private/page?x=1&y=two');
  assert.equal(backend.requests.length, before + 1, 'only the signed-in request reached the member');
  const got = backend.requests.at(-1)!;
  assert.equal(got.header('remote-user'), 'alice');
  assert.equal(got.header('x-forwarded-user'), 'alice');
  assert.equal(got.header('remote-email'), 'alice@example.test');
  assert.equal(got.header('x-forwarded-email'), 'alice@example.test');
  assert.equal(got.header('remote-name'), 'Alice Liddell');
  assert.equal(got.header('remote-groups'), 'admins');
  assert.equal(got.header('cookie'), 'theme=dark', 'the client\'s own cookies pass, Bellhop\'s never');

  // Signed in: straight through, and the client's forged identity headers are replaced.
  const again = await browser.request(browser.app('/api/data'), { headers: { 'remote-user': 'root', 'Remote_Groups': 'admins', 'x-forwarded-user': 'root' } });
  assert.equal(again.status, 200);
  const second = backend.requests.at(-1)!;
  assert.deepEqual(second.headerAll('remote-user'), ['alice']);
  assert.deepEqual(second.headerAll('x-forwarded-user'), ['alice']);
  assert.equal(second.headers.filter(([k]) => k.toLowerCase().replaceAll('_', '-') === 'remote-groups').length, 1);
  assert.equal(second.header('cookie'), 'theme=dark');
});

test('on https (TLS or a trusted proxy\'s word) the redirect URI is https and the cookies are Secure', async () => {
  const browser = new Browser(frontPort);
  const start = await browser.request(browser.app('/'), { headers: { 'x-test-secure': '1' } });
  assert.equal(start.status, 302);
  assert.equal(new URL(start.headers.location!).searchParams.get('redirect_uri'), `https://${APP}:${frontPort}${OIDC_CALLBACK_PATH}`);
  assert.match(String(start.headers['set-cookie']), /; HttpOnly; SameSite=Lax; Secure$/);
});

test('a user let in by group; the groups go upstream', async () => {
  const browser = new Browser(frontPort);
  const seen = await browser.browse(browser.app('/'), 'bob');
  assert.equal(seen.at(-1)!.status, 200);
  assert.equal(backend.requests.at(-1)!.header('remote-user'), 'bob');
  assert.equal(backend.requests.at(-1)!.header('remote-groups'), 'family,painters');
  assert.equal(backend.requests.at(-1)!.header('cookie'), undefined, 'a Cookie line of Bellhop\'s cookies only is dropped');
});

test('a user in neither allow list is refused with 403 and nothing reaches the member', async () => {
  const browser = new Browser(frontPort);
  const before = backend.requests.length;
  const seen = await browser.browse(browser.app('/private'), 'carol');
  const last = seen.at(-1)!;
  assert.equal(last.url.pathname, OIDC_CALLBACK_PATH);
  assert.equal(last.status, 403);
  assert.match(last.body, /not allowed/);
  assert.equal(sessionCookie(browser), undefined, 'no session for a refused user');
  assert.equal(backend.requests.length, before);
});

test('a tampered or foreign session cookie starts the login again', async () => {
  const browser = new Browser(frontPort);
  await browser.browse(browser.app('/'), 'alice');
  const [name, value] = sessionCookie(browser)!;
  const flipped = value.slice(0, 20) + (value[20] === 'A' ? 'B' : 'A') + value.slice(21);
  browser.cookies(`${APP}:${frontPort}`).set(name, flipped);
  const before = backend.requests.length;
  const answer = await browser.request(browser.app('/private'));
  assert.equal(answer.status, 302);
  assert.ok(answer.headers.location!.startsWith(provider.issuer));
  assert.ok((answer.headers['set-cookie'] ?? []).some((c) => c.startsWith(`${name}=;`)), 'the bad cookie is cleared');
  assert.equal(backend.requests.length, before);

  // The same sealed value on another host does not open either (the host is bound in).
  const other = new Browser(frontPort);
  await other.browse(other.app('/'), 'alice');
  const [n2, v2] = sessionCookie(other)!;
  const elsewhere = await other.request(new URL(`http://other.test:${frontPort}/`), { headers: { cookie: `${n2}=${v2}` } });
  assert.equal(elsewhere.status, 302);
});

test('an expired session signs in again', async () => {
  const browser = new Browser(frontPort);
  await browser.browse(browser.app('/'), 'alice');
  assert.equal((await browser.request(browser.app('/'))).status, 200);
  clockOffset = 2 * 24 * 3600 * 1000;
  try {
    const answer = await browser.request(browser.app('/'));
    assert.equal(answer.status, 302);
    assert.ok(answer.headers.location!.startsWith(provider.issuer));
  } finally {
    clockOffset = 0;
  }
});

test('a callback whose state has no login cookie of this browser is refused with 400', async () => {
  const browser = new Browser(frontPort);
  const start = await browser.request(browser.app('/private'));
  const state = new URL(start.headers.location!).searchParams.get('state')!;
  const forged = 'A'.repeat(state.length);
  const wrong = await browser.request(browser.app(`${OIDC_CALLBACK_PATH}?code=abc&state=${forged}`));
  assert.equal(wrong.status, 400);
  assert.match(wrong.body, /sign-in link/);
  // The right state from another browser (no flow cookie there): also 400.
  const stranger = new Browser(frontPort);
  const stolen = await stranger.request(browser.app(`${OIDC_CALLBACK_PATH}?code=abc&state=${state}`));
  assert.equal(stolen.status, 400);
  // No state at all.
  assert.equal((await browser.request(browser.app(OIDC_CALLBACK_PATH))).status, 400);
});

test('the provider\'s access_denied answer is a 403, and the login cookie is spent', async () => {
  const browser = new Browser(frontPort);
  const start = await browser.request(browser.app('/private'));
  const state = new URL(start.headers.location!).searchParams.get('state')!;
  const denied = await browser.request(browser.app(`${OIDC_CALLBACK_PATH}?error=access_denied&state=${state}`));
  assert.equal(denied.status, 403);
  assert.equal([...browser.cookies(`${APP}:${frontPort}`).keys()].filter((k) => k.includes('_flow_')).length, 0);
  const replay = await browser.request(browser.app(`${OIDC_CALLBACK_PATH}?code=abc&state=${state}`));
  assert.equal(replay.status, 400);
});

test('a login never returns to another site: scheme-relative and backslash paths return to /', async () => {
  const browser = new Browser(frontPort);
  const seen = await browser.browse(browser.app('//evil.example/steal'), 'alice');
  const callback = seen.find((a) => a.url.pathname === OIDC_CALLBACK_PATH)!;
  assert.equal(callback.headers.location, '/');
  assert.equal(seen.at(-1)!.url.host, `${APP}:${frontPort}`);

  for (const bad of ['//evil.example', '/\\evil.example', '/\\/evil.example', 'https://evil.example/', 'evil.example', '/a\tb', '/ok\r\nSet-Cookie: x=1']) {
    assert.equal(safeReturnPath(bad), '/', bad);
  }
  for (const good of ['/', '/a/b?c=//d', '/x?next=https://evil.example']) assert.equal(safeReturnPath(good), good);
});

test('logins started in many tabs: past four, the older login cookies are dropped', async () => {
  const browser = new Browser(frontPort);
  const flows = (): number => [...browser.cookies(`${APP}:${frontPort}`).keys()].filter((k) => k.includes('_flow_')).length;
  for (let i = 1; i <= 4; i++) {
    assert.equal((await browser.request(browser.app(`/tab${i}`))).status, 302);
    assert.equal(flows(), i);
  }
  const fifth = await browser.request(browser.app('/tab5'));
  assert.equal(fifth.status, 302);
  assert.equal(flows(), 1, 'only the newest login is left');
  const seen = await browser.browse(new URL(fifth.headers.location!), 'alice');
  assert.equal(seen.at(-1)!.body, 'ok GET /tab5');
});

test('signed out, a POST, an XHR or a JSON call gets 401 instead of a login redirect', async () => {
  const browser = new Browser(frontPort);
  const before = backend.requests.length;
  const post = await browser.request(browser.app('/api/save'), { method: 'POST', body: 'a=1' });
  assert.equal(post.status, 401);
  const xhr = await browser.request(browser.app('/api/list'), { headers: { 'x-requested-with': 'XMLHttpRequest' } });
  assert.equal(xhr.status, 401);
  const json = await browser.request(browser.app('/api/list'), { headers: { accept: 'application/json' } });
  assert.equal(json.status, 401);
  assert.match(json.body, /MIDDLEWARE_OIDC_LOGIN_REQUIRED/);
  assert.equal(backend.requests.length, before);
});

test('logout clears the session and goes to the provider\'s end-session page', async () => {
  const browser = new Browser(frontPort);
  await browser.browse(browser.app('/'), 'alice');
  const [name] = sessionCookie(browser)!;
  const out = await browser.request(browser.app(OIDC_LOGOUT_PATH));
  assert.equal(out.status, 302);
  assert.ok(out.headers.location!.startsWith(`${provider.issuer}/session/end`), out.headers.location);
  assert.ok((out.headers['set-cookie'] ?? []).some((c) => c.startsWith(`${name}=;`) && c.includes('Max-Age=0')));
  assert.equal(sessionCookie(browser), undefined);
  assert.equal((await browser.request(browser.app('/'))).status, 302);
});

test('provider down at discovery: fail closed with 502, nothing reaches the member; discovery is tried again later', async () => {
  // A port with nobody on it yet; the provider comes up there later.
  const probe = http.createServer();
  const port = await listen(probe);
  await closeServer(probe);
  let offset = 0;
  const made = oidc.create(spec({ issuer_url: `http://127.0.0.1:${port}`, client_id: CLIENT_ID, client_secret: CLIENT_SECRET, allowed_users: ['alice'] }), { ...deps, now: () => Date.now() + offset });
  assert.ok(!Array.isArray(made));
  const saved = middleware;
  middleware = made;
  let late: { server: http.Server } | undefined;
  try {
    const browser = new Browser(frontPort);
    const before = backend.requests.length;
    const down = await browser.request(browser.app('/'));
    assert.equal(down.status, 502);
    assert.match(down.body, /identity provider could not be reached/);
    const json = await browser.request(browser.app('/'), { headers: { accept: 'application/json' } });
    assert.equal(json.status, 401, 'a non-page request is refused without asking the provider');
    assert.equal(backend.requests.length, before);

    late = await startProvider(`http://${APP}:${frontPort}${OIDC_CALLBACK_PATH}`, port);
    assert.equal((await browser.request(browser.app('/'))).status, 502, 'within the retry pause the answer stays 502');
    offset = 60_000;
    const up = await browser.request(browser.app('/'));
    assert.equal(up.status, 302);
    assert.ok(up.headers.location!.startsWith(`http://127.0.0.1:${port}/`));
    const seen = await browser.browse(browser.app('/after'), 'alice');
    assert.equal(seen.at(-1)!.body, 'ok GET /after');
  } finally {
    middleware = saved;
    if (late !== undefined) await closeServer(late.server);
  }
});

test('options: the required ones, the allow lists, scopes with openid', () => {
  const problems = (options: Record<string, unknown>): string[] => {
    const made = oidc.create(spec(options), deps);
    return Array.isArray(made) ? (made).map((p) => p.key.replace('proxy.app.middlewares.oidc.', '')) : [];
  };
  assert.deepEqual(problems({}).sort(), ['allowed_users', 'client_id', 'client_secret', 'issuer_url']);
  const base = { issuer_url: 'https://auth.example.com/application/o/app/', client_id: 'x', client_secret: 'y' };
  assert.deepEqual(problems({ ...base }), ['allowed_users']);
  assert.deepEqual(problems({ ...base, allowed_groups: ['admins'] }), []);
  assert.deepEqual(problems({ ...base, allowed_users: 'alice, bob' }), []);
  assert.deepEqual(problems({ ...base, allowed_users: ['alice'], scopes: 'profile email' }), ['scopes']);
  assert.deepEqual(problems({ ...base, allowed_users: ['alice'], scopes: ['openid', 'profile'] }), []);
  assert.deepEqual(problems({ ...base, issuer_url: 'ftp://x', allowed_users: ['alice'] }), ['issuer_url']);
  assert.deepEqual(problems({ ...base, allowed_users: { a: 1 } }), ['allowed_users']);
  assert.equal(oidc.restrictsAccess, true);
  assert.deepEqual([...oidc.options].sort(), ['allowed_groups', 'allowed_users', 'client_id', 'client_secret', 'issuer_url', 'scopes']);
});
