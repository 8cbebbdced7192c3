// Hostile HTTP/2 clients against the HTTPS entrypoint (node:http2 client; HTTP/1.1-in-TLS runs
// the whole of proxy-hygiene.test.ts). What must hold: Bellhop answers or resets the stream,
// nothing malformed reaches the member, a later request on a fresh session is served, and no
// request is left counted in flight (the route's begin/release pairs and the harness's done list).
// Plus a slowloris over TLS: a head trickled inside a TLS connection is cut by the header timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { startRecordingBackend, type RecordingBackend } from '../support/recording-backend.ts';
import { collect } from '../support/raw-client.ts';
import { rawTlsConnect, singleCertSource } from '../support/tls-raw-client.ts';
import { member, startProxy, testRoute, until, type Harness, type TestRoute } from './proxy-harness.ts';

const { source, certPem } = singleCertSource(['app.test']);

interface Setup { h: Harness; be: RecordingBackend; route: TestRoute; port: number }

async function setup(t: { after: (fn: () => Promise<void>) => void }, timeouts: { headerMs?: number } = {}): Promise<Setup> {
  const be = await startRecordingBackend();
  const route = testRoute('app', [member('m1', be.origin)]);
  const h = await startProxy({ 'app.test': route }, { timeouts });
  t.after(async () => { await h.close(); await be.close(); });
  const port = (await h.proxy.listenHttps({ host: '127.0.0.1', port: 0 }, source)).port;
  return { h, be, route, port };
}

function connect(port: number): http2.ClientHttp2Session {
  const s = http2.connect(`https://127.0.0.1:${String(port)}`, { servername: 'app.test', ca: certPem });
  s.on('error', () => undefined); // a GOAWAY/ENHANCE_YOUR_CALM from Bellhop is an allowed answer
  return s;
}

interface H2Answer { status?: number; body: string; rstCode?: number; error?: string }

/** One request; resolves with the answer, or how the stream ended when there was none. */
function request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: string): Promise<H2Answer> {
  return new Promise((resolve) => {
    let req: http2.ClientHttp2Stream;
    try {
      req = session.request(headers, { endStream: body === undefined });
    } catch (err) {
      resolve({ body: '', error: (err as NodeJS.ErrnoException).code ?? String(err) });
      return;
    }
    const out: H2Answer = { body: '' };
    req.setEncoding('utf8');
    req.on('response', (hd) => { out.status = Number(hd[':status']); });
    req.on('data', (d: string) => { out.body += d; });
    req.on('error', (err: NodeJS.ErrnoException) => { out.error = err.code ?? err.message; });
    req.on('close', () => {
      if (out.status === undefined) out.rstCode = req.rstCode;
      resolve(out);
    });
    if (body !== undefined) req.end(body);
  });
}

/** After the hostile part: a plain request on a fresh session is served, nothing stays in flight. */
async function stillServes(s: Setup): Promise<void> {
  const session = connect(s.port);
  const r = await request(session, { ':path': '/after', ':authority': 'app.test' });
  session.close();
  assert.equal(r.status, 200, JSON.stringify(r));
  assert.equal(r.body, 'ok GET /after');
  await until(() => [...s.route.inflight.values()].every((n) => n === 0), 10_000, 'no request in flight');
  assert.equal(s.route.begun.length, s.route.outcomes.length, 'every begun attempt was released');
}

test('HTTP/2: 300 header fields (over maxHeaderListPairs 256) → 431 or the stream reset; nothing upstream', async (t) => {
  const s = await setup(t);
  const session = connect(s.port);
  const headers: http2.OutgoingHttpHeaders = { ':path': '/many', ':authority': 'app.test' };
  for (let i = 0; i < 300; i++) headers[`x-pad-${String(i)}`] = String(i);
  const r = await request(session, headers);
  session.destroy();
  t.diagnostic(`answer: ${JSON.stringify({ ...r, body: r.body.slice(0, 80) })}`);
  assert.ok(r.status === 431 || r.status === undefined, JSON.stringify(r));
  assert.equal(s.be.requests.length, 0, 'the member saw nothing');
  await stillServes(s);
});

test('HTTP/2: one 100 kB header value → 431 or the stream/session refused; nothing upstream', async (t) => {
  const s = await setup(t);
  const session = connect(s.port);
  const r = await request(session, { ':path': '/big', ':authority': 'app.test', 'x-big': 'a'.repeat(100_000) });
  session.destroy();
  t.diagnostic(`answer: ${JSON.stringify({ ...r, body: r.body.slice(0, 80) })}`);
  assert.ok(r.status === 431 || r.status === undefined, JSON.stringify(r));
  assert.equal(s.be.requests.length, 0);
  await stillServes(s);
});

test('HTTP/2: unknown :authority → 404 PROXY_NO_ROUTE; a Host field that disagrees with :authority does not route', async (t) => {
  const s = await setup(t);
  const session = connect(s.port);
  const r = await request(session, { ':path': '/', ':authority': 'nobody.test' });
  assert.equal(r.status, 404);
  assert.match(r.body, /PROXY_NO_ROUTE/);
  // RFC 9113 §8.3.1: :authority wins; the member sees one Host, the authority's
  const r2 = await request(session, { ':path': '/x', ':authority': 'app.test', host: 'evil.example' });
  assert.equal(r2.status, 200);
  assert.deepEqual(s.be.requests.at(-1)!.headerAll('host'), ['app.test']);
  const r3 = await request(session, { ':path': '/x', ':authority': 'nobody.test', host: 'app.test' });
  assert.equal(r3.status, 404, 'Host cannot smuggle a route past :authority');
  session.close();
  assert.equal(s.be.requests.length, 1);
  await stillServes(s);
});

test('HTTP/2: CONNECT is refused (405 or reset), nothing upstream', async (t) => {
  const s = await setup(t);
  const session = connect(s.port);
  const r = await request(session, { ':method': 'CONNECT', ':authority': 'app.test:443' });
  session.close();
  t.diagnostic(`answer: ${JSON.stringify({ ...r, body: r.body.slice(0, 80) })}`);
  assert.ok(r.status === 405 || r.status === 400 || r.status === undefined, JSON.stringify(r));
  assert.notEqual(r.status, 200);
  assert.equal(s.be.connections, 0, 'the member was never contacted');
  await stillServes(s);
});

test('HTTP/2: hostile :path values (//host, /\\host, fragment, asterisk) → 400, nothing upstream', async (t) => {
  const s = await setup(t);
  const session = connect(s.port);
  for (const [method, path] of [['GET', '//evil.example/x'], ['GET', '/\\evil.example/x'], ['GET', '/a#frag'], ['OPTIONS', '*']] as const) {
    const r = await request(session, { ':method': method, ':path': path, ':authority': 'app.test' });
    t.diagnostic(`${path}: ${JSON.stringify({ ...r, body: r.body.slice(0, 60) })}`);
    assert.ok(r.status === 400 || r.status === undefined, `${path}: ${JSON.stringify(r)}`);
  }
  session.close();
  assert.equal(s.be.connections, 0);
  await stillServes(s);
});

test('HTTP/2: a body longer than its content-length is a stream error; the member never gets a desynced request', async (t) => {
  const s = await setup(t);
  const session = connect(s.port);
  const r = await request(session, { ':method': 'POST', ':path': '/cl', ':authority': 'app.test', 'content-length': '2' }, 'hello world');
  session.destroy();
  t.diagnostic(`answer: ${JSON.stringify({ ...r, body: r.body.slice(0, 80) })}; member saw ${JSON.stringify(s.be.requests.map((x) => [x.target, x.body.toString()]))}`);
  assert.notEqual(r.status, 200, JSON.stringify(r));
  await new Promise((res) => setTimeout(res, 100));
  assert.equal(s.be.requests.filter((x) => x.target === '/cl' && x.body.toString() !== 'he').length, 0, 'no request with a body other than its framing');
  assert.deepEqual(s.be.parseErrors, []);
  await stillServes(s);
});

test('HTTP/2 rapid reset: 1,000 streams opened and cancelled at once do not crash Bellhop or leave requests in flight', async (t) => {
  const s = await setup(t);
  const session = connect(s.port);
  await new Promise<void>((res) => { if ((session as unknown as { connecting?: boolean }).connecting === false) res(); else session.once('connect', () => res()); });
  let opened = 0;
  for (let i = 0; i < 1000 && !session.destroyed && !session.closed; i++) {
    try {
      const req = session.request({ ':path': `/r${String(i)}`, ':authority': 'app.test' });
      req.on('error', () => undefined);
      req.close(http2.constants.NGHTTP2_CANCEL);
      opened++;
    } catch {
      break; // the session was told to go away (node:http2's rapid-reset defence): allowed
    }
  }
  let goaway: number | undefined;
  session.once('goaway', (code: number) => { goaway = code; });
  await new Promise((res) => setTimeout(res, 300));
  session.destroy();
  t.diagnostic(`opened ${String(opened)} streams; GOAWAY ${String(goaway)}; Exchange finished ${String(s.h.done.length)}; member saw ${String(s.be.requests.length)}`);
  assert.ok(opened > 0);
  // every request the Exchange saw has ended (done list) and released its member
  await until(() => [...s.route.inflight.values()].every((n) => n === 0), 10_000, 'no request in flight');
  assert.equal(s.route.begun.length, s.route.outcomes.length);
  assert.ok(s.h.done.length <= opened);
  assert.deepEqual(s.be.parseErrors, []);
  await stillServes(s);
});

test('slowloris over TLS: a head trickled inside a TLS connection is closed by the header timeout', async (t) => {
  const s = await setup(t, { headerMs: 300 });
  const socket = await rawTlsConnect(s.port);
  const p = collect(socket, 25_000);
  socket.write('GET / HTTP/1.1\r\nHost: app.test\r\n');
  const iv = setInterval(() => { if (!socket.destroyed) socket.write('X-A: b\r\n'); }, 50);
  const r = await p;
  clearInterval(iv);
  socket.destroy();
  assert.equal(r.closed, true);
  assert.match(r.raw.toString(), /^HTTP\/1\.1 408/);
  assert.equal(s.be.connections, 0);
});

test('a TLS handshake never finished is closed (handshake timeout = header timeout)', async (t) => {
  const s = await setup(t, { headerMs: 300 });
  const { connect: tcp } = await import('node:net');
  const sock = tcp(s.port, '127.0.0.1');
  sock.on('error', () => undefined);
  const closed = new Promise<void>((res) => sock.once('close', () => res()));
  sock.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x10])); // a ClientHello record header, then silence
  await closed;
  assert.equal(s.be.connections, 0);
});
