// The HTTPS entrypoint (docs/https.md) through real TLS sockets: SNI picks the certificate,
// ALPN picks HTTP/2 or HTTP/1.1 on one port, both run the same pipeline (routing, forwarding
// headers, Bellhop's own errors, websockets on HTTP/1.1, drain); plain HTTP answers ACME
// HTTP-01 tokens and redirects hosts that have a certificate; HSTS on HTTPS answers only.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import https from 'node:https';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { startRecordingBackend } from '../support/recording-backend.ts';
import { rawRequest } from '../support/raw-client.ts';
import { makeTestCert } from '../support/test-certs.ts';
import { member, startProxy, testRoute, until } from './proxy-harness.ts';
import type { HttpsPolicy } from '../../internal/proxy/index.ts';

const pem = (names: string[]): { key: string; cert: string } => {
  const c = makeTestCert(names);
  return { key: c.keyPem, cert: c.certPem };
};
const app = pem(['app.test']);
const wild = pem(['*.wild.test']);
const main = pem(['main.test']);
const contexts = new Map([
  ['app.test', tls.createSecureContext({ key: app.key, cert: app.cert })],
  ['*.wild.test', tls.createSecureContext({ key: wild.key, cert: wild.cert })],
]);
const mainCtx = tls.createSecureContext({ key: main.key, cert: main.cert });
const lookup = (name: string): tls.SecureContext => {
  const dot = name.indexOf('.');
  return contexts.get(name) ?? (dot > 0 ? contexts.get(`*${name.slice(dot)}`) : undefined) ?? mainCtx;
};
// what internal/certs' CertManager offers the listener (its own tests cover ACME and files)
const source = {
  tlsServerOptions: (protocols: readonly string[]) => ({
    SNICallback: (name: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void) => cb(null, lookup(name)),
    ALPNCallback: ({ protocols: offered }: { protocols: string[] }) => protocols.find((p) => offered.includes(p)),
  }),
  attach: (server: tls.Server) => server.setSecureContext({ key: main.key, cert: main.cert }),
};
const ca = [app.cert, wild.cert, main.cert];

const be = await startRecordingBackend();
const slowRelease: (() => void)[] = [];
const slow = await startRecordingBackend((req, reply) => { slowRelease.push(() => reply.send(200, {}, `slow ${req.target}`)); });
const routes = {
  'app.test': testRoute('app', [member('a', be.origin)]),
  'x.wild.test': testRoute('wild', [member('a', be.origin)]),
  'slow.test': testRoute('slow', [member('s', slow.origin)]),
  'plain.test': testRoute('plain', [member('a', be.origin)]),
};
const h = await startProxy(routes, { timeouts: { upstreamResponseMs: 30_000 } });
const port = (await h.proxy.listenHttps({ host: '127.0.0.1', port: 0 }, source)).port;
const policy: HttpsPolicy = { redirectHttp: true, hsts: 'max-age=31536000', publicPort: port, covers: (host) => host === 'app.test' || host.endsWith('.wild.test'), httpChallenge: (t) => (t === 'tok-1' ? 'tok-1.keyauth' : undefined) };
h.proxy.setHttpsPolicy(policy);
after(async () => {
  await h.close();
  await be.close();
  await slow.close();
});

function h1(host: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string; cert: tls.PeerCertificate; alpn: string | false | null }> {
  return new Promise((resolve, reject) => {
    const options: https.RequestOptions & tls.ConnectionOptions = { host: '127.0.0.1', port, path, servername: host, headers: { host, ...headers }, ca, agent: false, ALPNProtocols: ['http/1.1'] };
    const req = https.request(options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => {
        const s = res.socket as tls.TLSSocket;
        resolve({ status: res.statusCode!, headers: res.headers, body, cert: s.getPeerCertificate(), alpn: s.alpnProtocol });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

function h2(host: string, path: string, servername = host): Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: string; session: http2.ClientHttp2Session }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`https://127.0.0.1:${String(port)}`, { servername, ca });
    session.on('error', reject);
    const req = session.request({ ':path': path, ':authority': host });
    let headers: http2.IncomingHttpHeaders = {};
    let body = '';
    req.setEncoding('utf8');
    req.on('response', (hd) => { headers = hd; });
    req.on('data', (d: string) => { body += d; });
    req.on('end', () => {
      resolve({ status: Number(headers[':status']), headers, body, session });
      session.close();
    });
    req.on('error', reject);
    req.end();
  });
}

test('HTTP/1.1 over TLS: SNI picks the exact certificate, the member sees X-Forwarded-Proto https; HSTS on the answer', async () => {
  const r = await h1('app.test', '/one');
  assert.equal(r.status, 200);
  assert.equal(r.body, 'ok GET /one');
  assert.equal(r.alpn, 'http/1.1');
  assert.equal(r.cert.subject.CN, 'app.test');
  assert.equal(r.headers['strict-transport-security'], 'max-age=31536000');
  const seen = be.requests.at(-1)!;
  assert.equal(seen.header('x-forwarded-proto'), 'https');
  assert.equal(seen.header('host'), 'app.test');
});

test('HTTP/2 on the same port: the same pipeline, Host from :authority, no connection-specific fields', async () => {
  const r = await h2('x.wild.test', '/two?q=1');
  assert.equal(r.status, 200);
  assert.equal(r.body, 'ok GET /two?q=1');
  assert.equal(r.headers['strict-transport-security'], 'max-age=31536000');
  const seen = be.requests.at(-1)!;
  assert.equal(seen.version, 'HTTP/1.1', 'upstreams stay HTTP/1.1');
  assert.equal(seen.header('host'), 'x.wild.test');
  assert.equal(seen.header('x-forwarded-proto'), 'https');
  assert.equal(seen.headers.some(([k]) => k.startsWith(':')), false, 'no pseudo-header reaches the member');
  // Bellhop's own answers over HTTP/2 (a 404 with Connection: close on HTTP/1.1 would be a protocol error here)
  const missing = await h2('nobody.test', '/', 'app.test');
  assert.equal(missing.status, 404);
  assert.match(missing.body, /PROXY_NO_ROUTE/);
  assert.equal(missing.headers['connection'], undefined);
});

test('curl --http2 (nghttp2 inside curl) negotiates h2 and gets the member\'s answer; --http1.1 gets HTTP/1.1', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bellhop-curl-'));
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, app.cert);
  const curl = (flag: string): Promise<string> => new Promise((resolve, reject) => {
    execFile('curl', ['-sS', flag, '--cacert', caFile, '--resolve', `app.test:${String(port)}:127.0.0.1`, '-w', '\n%{http_version} %{http_code}', `https://app.test:${String(port)}/curl`], (err, out, errOut) => {
      if (err) reject(new Error(`${err.message}\n${errOut}`));
      else resolve(out);
    });
  });
  try {
    assert.equal(await curl('--http2'), 'ok GET /curl\n2 200');
    assert.equal(await curl('--http1.1'), 'ok GET /curl\n1.1 200');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('HTTP/2: a POST body reaches the member intact; many streams on one session', async () => {
  const session = http2.connect(`https://127.0.0.1:${String(port)}`, { servername: 'app.test', ca });
  const one = (i: number): Promise<string> => new Promise((resolve, reject) => {
    const req = session.request({ ':path': `/p${String(i)}`, ':method': 'POST', ':authority': 'app.test', 'content-type': 'text/plain' });
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => { body += d; });
    req.on('end', () => resolve(body));
    req.on('error', reject);
    req.end(`body-${String(i)}`);
  });
  const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => one(i)));
  session.close();
  assert.deepEqual(answers, Array.from({ length: 20 }, (_, i) => `ok POST /p${String(i)}`));
  for (let i = 0; i < 20; i++) {
    const r = be.requests.find((x) => x.target === `/p${String(i)}`)!;
    assert.equal(r.body.toString(), `body-${String(i)}`);
  }
});

test('certificate choice: wildcard for a name under it, the main certificate without SNI or for an unknown name', async () => {
  const cn = (servername: string | undefined): Promise<string> => new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ...(servername === undefined ? {} : { servername }), ca, rejectUnauthorized: false }, () => {
      const c = s.getPeerCertificate();
      s.end();
      resolve(String(c.subject.CN));
    });
    s.on('error', reject);
  });
  assert.equal(await cn('x.wild.test'), '*.wild.test');
  assert.equal(await cn('other.test'), 'main.test');
  assert.equal(await cn(undefined), 'main.test');
});

test('plain HTTP: ACME HTTP-01 tokens answered, hosts with a certificate get 308 to https, others are proxied; no HSTS', async () => {
  const token = await rawRequest(h.port, 'GET /.well-known/acme-challenge/tok-1 HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n', 5000);
  assert.equal(token.responses[0]?.status, 200);
  assert.equal(token.responses[0].body.toString(), 'tok-1.keyauth');
  const redirect = await rawRequest(h.port, 'POST /form?x=1 HTTP/1.1\r\nHost: APP.test:80\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi', 5000);
  assert.equal(redirect.responses[0]?.status, 308);
  assert.equal(redirect.responses[0].header('location'), `https://app.test:${String(port)}/form?x=1`);
  assert.equal(redirect.responses[0].header('strict-transport-security'), undefined);
  // an unknown token is not Bellhop's: routed like any request (to the member here)
  const other = await rawRequest(h.port, 'GET /.well-known/acme-challenge/nope HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n', 5000);
  assert.equal(other.responses[0]?.body.toString(), 'ok GET /.well-known/acme-challenge/nope');
  // a host without a certificate stays on plain HTTP
  const plain = await rawRequest(h.port, 'GET /p HTTP/1.1\r\nHost: plain.test\r\nConnection: close\r\n\r\n', 5000);
  assert.equal(plain.responses[0]?.status, 200);
  assert.equal(plain.responses[0].body.toString(), 'ok GET /p');
  // redirect_http: false leaves plain HTTP alone
  h.proxy.setHttpsPolicy({ ...policy, redirectHttp: false });
  const kept = await rawRequest(h.port, 'GET /k HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n', 5000);
  assert.equal(kept.responses[0]?.status, 200);
  h.proxy.setHttpsPolicy(policy);
});

test('a websocket over HTTPS/1.1 is tunnelled', async () => {
  const echo = await startRecordingBackend((_req, reply) => {
    reply.socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    reply.detach((chunk) => reply.socket.write(chunk));
  });
  (h.routes as Map<string, unknown>).set('ws.wild.test', testRoute('ws', [member('e', echo.origin)]));
  const s = tls.connect({ host: '127.0.0.1', port, servername: 'ws.wild.test', ca, ALPNProtocols: ['http/1.1'] });
  let got = '';
  s.setEncoding('utf8');
  s.on('data', (d: string) => { got += d; });
  await new Promise((r) => s.once('secureConnect', r));
  s.write('GET /ws HTTP/1.1\r\nHost: ws.wild.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  await until(() => got.includes('\r\n\r\n'), 10_000, 'the 101');
  assert.match(got, /^HTTP\/1\.1 101/);
  s.write('ping over tls');
  await until(() => got.includes('ping over tls'), 10_000, 'the echo');
  s.destroy();
  await echo.close();
});

test('drain: an HTTP/2 request in flight finishes; the session is told to go away', async () => {
  const session = http2.connect(`https://127.0.0.1:${String(port)}`, { servername: 'app.test', ca });
  session.on('error', () => undefined);
  let goaway = false;
  session.on('goaway', () => { goaway = true; });
  const req = session.request({ ':path': '/held', ':authority': 'slow.test' });
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (d: string) => { body += d; });
  const ended = new Promise<void>((r) => req.on('end', r));
  await until(() => slowRelease.length > 0, 10_000, 'the request at the slow member');
  const drained = h.proxy.drain();
  await until(() => goaway, 10_000, 'GOAWAY');
  slowRelease.shift()!();
  await ended;
  assert.equal(body, 'slow /held');
  session.close();
  await drained;
});
