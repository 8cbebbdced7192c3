// Forwarding through internal/proxy: routing by Host, bodies, forwarded and hop-by-hop headers,
// sticky cookie hooks, gates, access log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startRecordingBackend } from '../support/recording-backend.ts';
import { parseResponses, rawConnect, rawRequest } from '../support/raw-client.ts';
import { member, startProxy, testRoute, until } from './proxy-harness.ts';

function get(port: number, path: string, headers: Record<string, string>, method = 'GET', body?: Buffer): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('GET is forwarded by Host with origin-form path, Host unchanged and forwarded headers set', async (t) => {
  const be = await startRecordingBackend();
  const route = testRoute('app', [member('m1', be.origin)]);
  const h = await startProxy({ 'app.example.com': route });
  t.after(async () => { await h.close(); await be.close(); });

  const r = await get(h.port, '/a/b?x=1', { host: 'App.Example.com:8080' });
  assert.equal(r.status, 200);
  assert.equal(r.body.toString(), 'ok GET /a/b?x=1');
  assert.equal(be.requests.length, 1);
  const up = be.requests[0]!;
  assert.equal(up.target, '/a/b?x=1');
  assert.equal(up.header('host'), 'App.Example.com:8080');
  assert.equal(up.header('x-forwarded-for'), '127.0.0.1');
  assert.equal(up.header('x-real-ip'), '127.0.0.1');
  assert.equal(up.header('x-forwarded-proto'), 'http');
  assert.equal(up.header('x-forwarded-host'), 'App.Example.com:8080');
  assert.deepEqual(route.outcomes, [{ member: 'm1', outcome: { ok: true, status: 200 } }]);
  assert.equal(route.inflight.get('m1'), 0);
  await until(() => h.logLines.some((l) => l['module'] === 'access'));
  const line = h.logLines.find((l) => l['module'] === 'access')!;
  assert.equal(line['route'], 'app');
  assert.equal(line['member'], 'm1');
  assert.equal(line['method'], 'GET');
  assert.equal(line['path'], '/a/b', 'query is not logged');
  assert.equal(line['status'], 200);
  assert.equal(line['bytes'], 'ok GET /a/b?x=1'.length);
  assert.equal(line['client'], '127.0.0.1');
  assert.equal(typeof line['duration_ms'], 'number');
  assert.deepEqual(h.done.map((d) => [d.route, d.member, d.status]), [['app', 'm1', 200]]);
});

test('unknown host gets 404 from Bellhop (JSON or HTML by Accept) and no upstream contact', async (t) => {
  const be = await startRecordingBackend();
  const h = await startProxy({ 'app': testRoute('app', [member('m1', be.origin)]) });
  t.after(async () => { await h.close(); await be.close(); });

  const j = await get(h.port, '/', { host: 'nope.example' });
  assert.equal(j.status, 404);
  assert.match(String(j.headers['content-type']), /application\/json/);
  assert.equal((JSON.parse(j.body.toString()) as { error: { code: string } }).error.code, 'PROXY_NO_ROUTE');
  const html = await get(h.port, '/', { host: 'nope.example', accept: 'text/html,*/*' });
  assert.equal(html.status, 404);
  assert.match(html.body.toString(), /<h1>404<\/h1>/);
  // HTTP/1.0 without Host: nothing to route by
  const r10 = await rawRequest(h.port, 'GET / HTTP/1.0\r\n\r\n');
  assert.equal(r10.responses[0]?.status, 404);
  assert.equal(be.connections, 0);
});

test('request and response bodies are streamed both ways (chunked upload, large download)', async (t) => {
  const be = await startRecordingBackend((req, reply) => {
    if (req.target === '/echo') reply.send(201, { 'content-type': 'application/octet-stream' }, req.body);
    else reply.send(200, {}, Buffer.alloc(5 * 1024 * 1024, 7));
  });
  const h = await startProxy({ app: testRoute('app', [member('m1', be.origin)]) });
  t.after(async () => { await h.close(); await be.close(); });

  const body = Buffer.alloc(300_000, 'abc');
  const r = await get(h.port, '/echo', { host: 'app', 'transfer-encoding': 'chunked' }, 'POST', body);
  assert.equal(r.status, 201);
  assert.ok(r.body.equals(body));
  assert.equal(be.requests[0]!.header('transfer-encoding'), 'chunked');
  const r2 = await get(h.port, '/echo', { host: 'app', 'content-length': '5' }, 'PUT', Buffer.from('hello'));
  assert.equal(r2.body.toString(), 'hello');
  assert.equal(be.requests[1]!.header('content-length'), '5');
  const big = await get(h.port, '/big', { host: 'app' });
  assert.equal(big.body.length, 5 * 1024 * 1024);
  const head = await rawRequest(h.port, 'HEAD /big HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n');
  assert.equal(head.responses[0]!.status, 200);
  assert.equal(head.responses[0]!.header('content-length'), String(5 * 1024 * 1024));
});

test('hop-by-hop headers are removed both ways, including Connection-named ones; proxy headers survive', async (t) => {
  const be = await startRecordingBackend((_req, reply) => {
    reply.send(200, [
      ['Connection', 'keep-alive, X-Secret-Hop'], ['X-Secret-Hop', '1'], ['Keep-Alive', 'timeout=5'],
      ['Proxy-Authenticate', 'Basic'], ['X-Kept', 'yes'], ['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2'],
    ], 'hi');
  });
  const h = await startProxy({ app: testRoute('app', [member('m1', be.origin)]) });
  t.after(async () => { await h.close(); await be.close(); });

  // a kept-alive connection: read until the response is complete, not for a fixed time
  const s = await rawConnect(h.port);
  t.after(() => s.destroy());
  let got = Buffer.alloc(0);
  s.on('data', (c: Buffer) => { got = Buffer.concat([got, c]); });
  s.write('GET / HTTP/1.1\r\nHost: app\r\nConnection: keep-alive, X-Foo, X-Forwarded-For, X-Real-IP\r\nX-Foo: 1\r\n' +
    'Keep-Alive: 300\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\nTrailer: X-T\r\nUpgrade: h2c\r\nHTTP2-Settings: AAA\r\n' +
    'Proxy-Authorization: Basic eA==\r\nX-Stays: 1\r\n\r\n');
  await until(() => parseResponses(got)[0]?.complete === true, 10_000, 'the response');
  const res = { responses: parseResponses(got) };
  const up = be.requests[0]!;
  assert.deepEqual(up.headerAll('connection'), ['keep-alive'], 'only the proxy\'s own Connection for its upstream leg');
  for (const n of ['x-foo', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'http2-settings', 'proxy-authorization']) {
    assert.equal(up.header(n), undefined, `${n} must not reach the upstream`);
  }
  assert.equal(up.header('x-stays'), '1');
  assert.equal(up.header('x-forwarded-for'), '127.0.0.1', 'Connection cannot remove the proxy\'s own headers');
  assert.equal(up.header('x-real-ip'), '127.0.0.1');
  const r = res.responses[0]!;
  assert.equal(r.status, 200);
  assert.equal(r.header('x-secret-hop'), undefined);
  assert.notEqual(r.header('keep-alive'), 'timeout=5', 'the upstream\'s Keep-Alive is not relayed (node:http sets its own)');
  assert.equal(r.header('proxy-authenticate'), undefined);
  assert.equal(r.header('x-kept'), 'yes');
  assert.deepEqual(r.headers.filter(([k]) => k.toLowerCase() === 'set-cookie').map(([, v]) => v), ['a=1', 'b=2']);
});

test('spoofed forwarding headers from an untrusted peer are discarded; a trusted peer\'s list is kept and extended', async (t) => {
  const be = await startRecordingBackend();
  const spoof = 'GET / HTTP/1.1\r\nHost: app\r\nX-Forwarded-For: 6.6.6.6, 9.9.9.9\r\nX-Real-IP: 6.6.6.6\r\n' +
    'X-Forwarded-Proto: https\r\nX-Forwarded-Host: admin.internal\r\nForwarded: for=6.6.6.6\r\nX_Forwarded_For: 7.7.7.7\r\n' +
    'X-Forwarded-Port: 1\r\nConnection: close\r\n\r\n';
  let seenCtx: unknown;
  const route = testRoute('app', [member('m1', be.origin)]);
  const pick = route.pick.bind(route);
  route.pick = (ctx, tried) => { seenCtx = ctx; return pick(ctx, tried); };
  const untrusted = await startProxy({ app: route });
  const trusted = await startProxy({ app: route }, { trusted: ['127.0.0.0/8'] });
  t.after(async () => { await untrusted.close(); await trusted.close(); await be.close(); });

  await rawRequest(untrusted.port, spoof, 10_000);
  let up = be.requests[0]!;
  assert.deepEqual(up.headerAll('x-forwarded-for'), ['127.0.0.1']);
  assert.deepEqual(up.headerAll('x-real-ip'), ['127.0.0.1']);
  assert.deepEqual(up.headerAll('x-forwarded-proto'), ['http']);
  assert.deepEqual(up.headerAll('x-forwarded-host'), ['app']);
  assert.equal(up.header('forwarded'), undefined);
  assert.equal(up.header('x_forwarded_for'), undefined);
  assert.equal(up.header('x-forwarded-port'), undefined);
  assert.deepEqual(seenCtx, { clientIp: '127.0.0.1', cookieHeader: undefined, secure: false });

  await rawRequest(trusted.port, spoof, 10_000);
  up = be.requests[1]!;
  assert.deepEqual(up.headerAll('x-forwarded-for'), ['6.6.6.6, 9.9.9.9, 127.0.0.1']);
  assert.deepEqual(up.headerAll('x-real-ip'), ['9.9.9.9']);
  assert.deepEqual(up.headerAll('x-forwarded-proto'), ['https']);
  assert.deepEqual(up.headerAll('x-forwarded-host'), ['admin.internal']);
  assert.equal(up.header('forwarded'), 'for=6.6.6.6');
  assert.equal(up.header('x_forwarded_for'), undefined, 'underscore spellings never pass');
  assert.deepEqual(seenCtx, { clientIp: '9.9.9.9', cookieHeader: undefined, secure: true });
});

test('sticky hooks: Set-Cookie from the pick is added, our cookie is stripped upstream, pick sees the Cookie', async (t) => {
  const be = await startRecordingBackend();
  let cookieSeen: string | undefined;
  const base = testRoute('app', [member('m1', be.origin)]);
  const route = testRoute('app', base.members, {
    pick(ctx, tried) {
      cookieSeen = ctx.cookieHeader;
      return tried.has('m1') ? undefined : { member: base.members[0]!, setCookie: 'bellhop_lb_sticky=tok; Path=/; HttpOnly' };
    },
    upstreamCookie(c) {
      return c.split(/;\s*/).filter((p) => !p.startsWith('bellhop_lb_sticky=')).join('; ');
    },
  });
  const h = await startProxy({ app: route });
  t.after(async () => { await h.close(); await be.close(); });

  const r = await rawRequest(h.port, 'GET / HTTP/1.1\r\nHost: app\r\nCookie: a=1; bellhop_lb_sticky=old\r\nCookie: bellhop_lb_sticky=x\r\nConnection: close\r\n\r\n', 10_000);
  assert.equal(r.responses[0]!.header('set-cookie'), 'bellhop_lb_sticky=tok; Path=/; HttpOnly');
  assert.equal(cookieSeen, 'a=1; bellhop_lb_sticky=old; bellhop_lb_sticky=x');
  assert.deepEqual(be.requests[0]!.headerAll('cookie'), ['a=1'], 'a line that held only our cookie is dropped');
});

test('gate: handled answers without upstream contact; async proceed forwards; a throwing gate gives 503', async (t) => {
  const be = await startRecordingBackend();
  let mode: 'handled' | 'async' | 'throw' | 'reject' = 'handled';
  const route = testRoute('app', [member('m1', be.origin)], {
    gate(_req, res) {
      if (mode === 'handled') {
        res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' });
        res.end('loading');
        return 'handled';
      }
      if (mode === 'throw') throw new Error('boom');
      if (mode === 'reject') return Promise.reject(new Error('wake failed'));
      return new Promise((r) => setTimeout(() => r('proceed'), 50));
    },
  });
  const h = await startProxy({ app: route });
  t.after(async () => { await h.close(); await be.close(); });

  const a = await get(h.port, '/', { host: 'app' });
  assert.equal(a.body.toString(), 'loading');
  assert.equal(be.requests.length, 0);
  mode = 'async';
  const b = await get(h.port, '/x', { host: 'app' });
  assert.equal(b.body.toString(), 'ok GET /x');
  mode = 'throw';
  const c = await get(h.port, '/', { host: 'app' });
  assert.equal(c.status, 503);
  mode = 'reject';
  const d = await get(h.port, '/', { host: 'app' });
  assert.equal(d.status, 503);
  assert.ok(d.headers['retry-after']);
  await until(() => h.done.length === 4);
  assert.deepEqual(h.done.map((x) => x.status), [200, 200, 503, 503]);
});

test('forgetOrigin closes the pool of a departed member; a later request opens a fresh one', async (t) => {
  const be = await startRecordingBackend();
  const h = await startProxy({ app: testRoute('app', [member('m1', be.origin)]) });
  t.after(async () => { await h.close(); await be.close(); });
  await get(h.port, '/', { host: 'app' });
  assert.deepEqual(h.proxy.upstreamOrigins(), [be.origin]);
  assert.equal(be.open.size, 1, 'upstream connection kept alive');
  h.proxy.forgetOrigin(be.origin);
  h.proxy.forgetOrigin('http://127.0.0.1:1'); // unknown: no-op
  assert.deepEqual(h.proxy.upstreamOrigins(), []);
  await until(() => be.open.size === 0, 10_000, 'pool connections closed');
  const r = await get(h.port, '/', { host: 'app' });
  assert.equal(r.status, 200);
});
