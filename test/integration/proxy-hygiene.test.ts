// Malformed and ambiguous requests (docs/proxy.md, reliability.md groups A–B): each is answered by the
// proxy and nothing reaches the recording backend, whose own parser would show a smuggled
// request or a body sent without framing. Every case runs twice: on the plain HTTP entrypoint
// and as HTTP/1.1 inside TLS (ALPN http/1.1) on the HTTPS entrypoint, which hands its
// connections to the same node:http server (HTTP/2's own hostile cases: proxy-hygiene-h2.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startRecordingBackend, type RecordingBackend } from '../support/recording-backend.ts';
import { rawRequest, type RawResult } from '../support/raw-client.ts';
import { rawTlsRequest, singleCertSource } from '../support/tls-raw-client.ts';
import { member, startProxy, testRoute, type Harness } from './proxy-harness.ts';

const { source } = singleCertSource(['app.test']);

type Send = (raw: string, waitMs: number) => Promise<RawResult>;

async function setup(t: { after: (fn: () => Promise<void>) => void }, tls: boolean): Promise<{ h: Harness; be: RecordingBackend; send: Send }> {
  const be = await startRecordingBackend();
  const h = await startProxy({ app: testRoute('app', [member('m1', be.origin)]), 'evil.example': testRoute('evil', [member('m1', be.origin)]) });
  t.after(async () => { await h.close(); await be.close(); });
  if (!tls) return { h, be, send: (raw, waitMs) => rawRequest(h.port, raw, waitMs) };
  const httpsPort = (await h.proxy.listenHttps({ host: '127.0.0.1', port: 0 }, source)).port;
  return { h, be, send: (raw, waitMs) => rawTlsRequest(httpsPort, raw, waitMs) };
}

const transports = [
  { tls: false, tag: '' },
  { tls: true, tag: '[TLS] ' },
] as const;

const cases: [string, string, number][] = [
  ['duplicate Host (same value)', 'GET / HTTP/1.1\r\nHost: app\r\nHost: app\r\n\r\n', 400],
  ['duplicate Host (different)', 'GET / HTTP/1.1\r\nHost: app\r\nHost: evil.example\r\n\r\n', 400],
  ['absolute-form disagreeing with Host', 'GET http://evil.example/x HTTP/1.1\r\nHost: app\r\n\r\n', 400],
  ['absolute-form with userinfo', 'GET http://u@app/x HTTP/1.1\r\nHost: app\r\n\r\n', 400],
  ['//host target', 'GET //evil.example/x HTTP/1.1\r\nHost: app\r\n\r\n', 400],
  ['/\\host target', 'GET /\\evil.example/x HTTP/1.1\r\nHost: app\r\n\r\n', 400],
  ['asterisk target', 'OPTIONS * HTTP/1.1\r\nHost: app\r\n\r\n', 400],
  ['fragment in target', 'GET /a#frag HTTP/1.1\r\nHost: app\r\n\r\n', 400],
  ['Host with a slash', 'GET / HTTP/1.1\r\nHost: app/x\r\n\r\n', 400],
  ['Host with userinfo', 'GET / HTTP/1.1\r\nHost: u@app\r\n\r\n', 400],
  ['Host with bad port', 'GET / HTTP/1.1\r\nHost: app:99999\r\n\r\n', 400],
  ['CL + TE', 'POST / HTTP/1.1\r\nHost: app\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: app\r\n\r\n', 400],
  ['TE + CL (other order)', 'POST / HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n0\r\n\r\n', 400],
  ['duplicate Content-Length', 'POST / HTTP/1.1\r\nHost: app\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx', 400],
  ['TE gzip, chunked', 'POST / HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n', 400],
  ['TE on HTTP/1.0', 'POST / HTTP/1.0\r\nHost: app\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
  ['HTTP/2.0 request line', 'GET / HTTP/2.0\r\nHost: app\r\n\r\n', 505],
  ['space before colon', 'GET / HTTP/1.1\r\nHost: app\r\nContent-Length : 2\r\n\r\nxx', 400],
  ['obs-fold', 'GET / HTTP/1.1\r\nHost: app\r\nX-A: 1\r\n  folded\r\n\r\n', 400],
  ['CONNECT', 'CONNECT app:443 HTTP/1.1\r\nHost: app:443\r\n\r\n', 405],
];

for (const { tls, tag } of transports) {
  for (const [name, raw, status] of cases) {
    test(`${tag}${name} → ${status}, nothing upstream`, async (t) => {
      const { be, send } = await setup(t, tls);
      const r = await send(raw, 10_000);
      assert.equal(r.responses[0]?.status, status, r.raw.toString('latin1').slice(0, 200));
      assert.equal(r.responses.length, 1, 'exactly one answer');
      assert.equal(be.connections, 0, 'the upstream was never contacted');
    });
  }

  test(tag + '201 header lines → 431 and nothing reaches the upstream; 199 lines pass', async (t) => {
    const { be, send } = await setup(t, tls);
    let many = 'GET / HTTP/1.1\r\nHost: app\r\n';
    for (let i = 0; i < 200; i++) many += `X-Pad-${i}: ${i}\r\n`;
    const r = await send(many + '\r\n', 10_000);
    assert.equal(r.responses[0]?.status, 431);
    assert.equal(r.responses[0]?.header('connection'), 'close');
    assert.equal(be.connections, 0);

    let ok = 'GET / HTTP/1.1\r\nHost: app\r\nConnection: close\r\n';
    for (let i = 0; i < 198; i++) ok += `X-Pad-${i}: ${i}\r\n`;
    const r2 = await send(ok + '\r\n', 10_000);
    assert.equal(r2.responses[0]?.status, 200);
    assert.equal(be.requests.length, 1);
  });

  test(tag + '~1,100 padding header lines hiding Content-Length cannot smuggle a request (431, backend sees nothing)', async (t) => {
    const { be, send } = await setup(t, tls);
    const smuggled = 'GET /smuggled HTTP/1.1\r\nHost: app\r\n\r\n';
    let req = 'POST / HTTP/1.1\r\nHost: app\r\n';
    for (let i = 0; i < 1100; i++) req += `X-P${i}: a\r\n`;
    req += `Content-Length: ${smuggled.length}\r\n\r\n${smuggled}`;
    const r = await send(req, 10_000);
    assert.equal(r.responses[0]?.status, 431);
    assert.equal(r.responses.length, 1, 'the body was not answered as a second request');
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(be.connections, 0);
    assert.equal(be.requests.length, 0);
  });

  test(tag + 'absolute-form agreeing with Host is forwarded in origin-form', async (t) => {
    const { be, send } = await setup(t, tls);
    const r = await send('GET HTTP://APP:80/x?y=1 HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n', 10_000);
    assert.equal(r.responses[0]?.status, 200);
    assert.equal(be.requests[0]!.target, '/x?y=1');
    const r2 = await send('GET http://app?q HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n', 10_000);
    assert.equal(r2.responses[0]?.status, 200);
    assert.equal(be.requests[1]!.target, '/?q');
    assert.deepEqual(be.parseErrors, []);
  });

  test(tag + 'GET with a body is forwarded with its length (no 0.CL desync); pipelined requests are answered in order', async (t) => {
    const { be, send } = await setup(t, tls);
    const r = await send(
      'GET /a HTTP/1.1\r\nHost: app\r\nContent-Length: 5\r\n\r\nhelloGET /b HTTP/1.1\r\nHost: app\r\n\r\nGET /c HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n', 10_000);
    assert.deepEqual(r.responses.map((x) => x.body.toString()), ['ok GET /a', 'ok GET /b', 'ok GET /c']);
    assert.deepEqual(be.requests.map((x) => [x.target, x.body.toString()]), [['/a', 'hello'], ['/b', ''], ['/c', '']]);
    assert.deepEqual(be.parseErrors, []);
  });

  test(tag + 'Expect: 100-continue is answered by the proxy and not forwarded', async (t) => {
    const { be, send } = await setup(t, tls);
    const r = await send('POST / HTTP/1.1\r\nHost: app\r\nContent-Length: 2\r\nExpect: 100-continue\r\nConnection: close\r\n\r\nhi', 10_000);
    assert.equal(r.responses.at(-1)?.status, 200);
    assert.equal(be.requests[0]!.header('expect'), undefined);
    assert.equal(be.requests[0]!.body.toString(), 'hi');
  });

  test(tag + 'HTTP/1.0 absolute-form without Host: routed by the authority, which becomes Host upstream', async (t) => {
    const { be, send } = await setup(t, tls);
    const r = await send('GET http://App:80/x HTTP/1.0\r\n\r\n', 10_000);
    assert.equal(r.responses[0]?.status, 200);
    const up = be.requests[0]!;
    assert.equal(up.target, '/x');
    assert.deepEqual(up.headerAll('host'), ['App:80']);
    assert.deepEqual(up.headerAll('x-forwarded-host'), ['App:80']);
    const r2 = await send('GET / HTTP/1.0\r\n\r\n', 10_000);
    assert.equal(r2.responses[0]?.status, 404, 'no Host and no authority: no route');
  });
}
