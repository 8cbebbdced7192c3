// h2c upstreams (`proxy.<alias>.scheme: h2c`, docs/proxy.md "h2c upstreams") through real
// sockets: a cleartext node:http2 member that answers "gRPC-like" calls (application/grpc,
// trailers grpc-status / grpc-message), reached through the route its labels make
// (parseContainers → route table → live pools → proxy), from an HTTP/2 client on the HTTPS
// entrypoint and from an HTTP/1.1 client that says `TE: trailers`. Streams both ways, a large
// server stream read slowly (no byte lost before the trailers), many long-lived streams
// multiplexed on few connections, and the h2c health probe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { Prober } from '../../internal/health/index.ts';
import { parseContainers } from '../../internal/labels/index.ts';
import { LiveRoutes } from '../../internal/pools/index.ts';
import { createProxyServer } from '../../internal/proxy/index.ts';
import { buildRouteTable } from '../../internal/routes/index.ts';
import { container, options } from '../fixtures/labels/containers.ts';
import { rawRequest } from '../support/raw-client.ts';
import { closedPort } from './proxy-harness.ts';
import { singleCertSource } from '../support/tls-raw-client.ts';

const { source, certPem } = singleCertSource(['grpc.test']);

interface Backend {
  port: number;
  /** Request heads the member received. */
  seen: http2.IncomingHttpHeaders[];
  /** HTTP/2 connections the member accepted. */
  sessions: number;
  /** Streams held open by /hold, released by release(). */
  release(): void;
  held: number;
  close(): Promise<void>;
}

/** A gRPC-shaped frame: 1 byte flag, 4 bytes length, payload. */
function frame(payload: string): Buffer {
  const p = Buffer.from(payload);
  const b = Buffer.alloc(5 + p.length);
  b.writeUInt32BE(p.length, 1);
  p.copy(b, 5);
  return b;
}

const CHUNK = 64 * 1024;
const CHUNKS = 64; // 4 MiB: far past every flow-control window on the way

async function backend(): Promise<Backend> {
  const server = http2.createServer();
  const live = new Set<http2.ServerHttp2Session>();
  const holds: Array<() => void> = [];
  const b: Backend = {
    port: 0, seen: [], sessions: 0, held: 0,
    release: () => { for (const r of holds.splice(0)) r(); },
    close: () => new Promise<void>((resolve) => {
      for (const s of live) s.destroy();
      server.close(() => resolve());
    }),
  };
  server.on('session', (s) => {
    b.sessions++;
    live.add(s);
    s.on('close', () => live.delete(s));
  });
  server.on('stream', (stream, headers) => {
    b.seen.push(headers);
    const path = headers[':path'];
    stream.on('error', () => undefined);
    const grpc = (status: string, message: string): void => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': status, 'grpc-message': message }));
    };
    if (path === '/echo.Echo/Unary') {
      const parts: Buffer[] = [];
      stream.on('data', (d: Buffer) => parts.push(d));
      stream.on('end', () => {
        grpc('0', 'OK');
        stream.end(Buffer.concat(parts));
      });
    } else if (path === '/echo.Echo/Bidi') {
      // every request message is answered as it arrives; the call ends when the client ends
      grpc('0', 'bidi done');
      stream.on('data', (d: Buffer) => stream.write(d));
      stream.on('end', () => stream.end());
    } else if (path === '/echo.Echo/Big') {
      stream.resume();
      grpc('0', 'big done');
      let n = 0;
      const chunk = Buffer.alloc(CHUNK, 0x61);
      const more = (): void => {
        while (n < CHUNKS) {
          n++;
          if (!stream.write(chunk)) {
            stream.once('drain', more);
            return;
          }
        }
        stream.end();
      };
      more();
    } else if (path === '/echo.Echo/Fail') {
      // a trailers-only answer: the status is in the only header block
      stream.resume();
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12', 'grpc-message': 'unimplemented' }, { endStream: true });
    } else if (path === '/echo.Echo/Hold') {
      stream.resume();
      grpc('0', 'released');
      stream.write(frame('held'));
      b.held++;
      holds.push(() => stream.end());
    } else if (path === '/health') {
      stream.resume();
      stream.respond({ ':status': 204 }, { endStream: true });
    } else {
      stream.respond({ ':status': 404 }, { endStream: true });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  b.port = (server.address() as AddressInfo).port;
  return b;
}

interface Setup { be: Backend; httpPort: number; httpsPort: number; proxy: ReturnType<typeof createProxyServer>; origin: string }

/** The member as labels describe it (host network: its address is 127.0.0.1), then a whole proxy. */
async function setup(t: { after: (fn: () => Promise<void>) => void }, memberPort?: number): Promise<Setup> {
  const be = await backend();
  const port = memberPort ?? be.port;
  const parsed = parseContainers([container({
    name: 'grpc', networkMode: 'host', exposedPorts: [port],
    labels: { 'proxy.aliases': 'grpc.test', 'proxy.#1.scheme': 'h2c', 'proxy.#1.port': String(port) },
  })], options());
  assert.deepEqual(parsed.errors, []);
  const spec = parsed.routes.find((r) => r.name === 'grpc.test');
  assert.ok(spec, `routes: ${parsed.routes.map((r) => r.name).join(', ')}`);
  assert.equal(spec.members[0]?.h2c, true);
  const live = new LiveRoutes({ health: { isUsable: () => true, report: () => undefined }, stickySecret: new Uint8Array(32) });
  live.update(buildRouteTable([spec], { matchDomains: [] }).table);
  const proxy = createProxyServer({
    resolver: () => live.resolver, trustedProxies: [], logger: pino({ level: 'silent' }), accessLog: false,
    timeouts: { headerMs: 5000, idleMs: 10_000, upstreamConnectMs: 5000, upstreamResponseMs: 10_000, drainMs: 1000 },
  });
  const httpPort = (await proxy.listen({ host: '127.0.0.1', port: 0 })).port;
  const httpsPort = (await proxy.listenHttps({ host: '127.0.0.1', port: 0 }, source)).port;
  t.after(async () => {
    be.release();
    await proxy.close();
    await be.close();
  });
  return { be, httpPort, httpsPort, proxy, origin: spec.members[0].url };
}

function connect(port: number): http2.ClientHttp2Session {
  const s = http2.connect(`https://127.0.0.1:${String(port)}`, { servername: 'grpc.test', ca: certPem });
  s.on('error', () => undefined);
  return s;
}

interface Call { headers: http2.IncomingHttpHeaders; body: Buffer; trailers: http2.IncomingHttpHeaders | undefined }

function call(session: http2.ClientHttp2Session, path: string, body?: Buffer, slow = false): Promise<Call> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': 'POST', ':path': path, ':authority': 'grpc.test', 'content-type': 'application/grpc', te: 'trailers' });
    const parts: Buffer[] = [];
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders | undefined;
    req.on('response', (h) => { headers = h; });
    req.on('trailers', (tr) => { trailers = tr; });
    req.on('data', (d: Buffer) => {
      parts.push(d);
      if (slow) {
        // a client slower than the member: Bellhop must hold the member back, not lose bytes
        req.pause();
        setTimeout(() => req.resume(), 2);
      }
    });
    req.on('error', reject);
    req.on('end', () => resolve({ headers, body: Buffer.concat(parts), trailers }));
    req.end(body);
  });
}

test('h2c: a unary call over the HTTPS h2 entrypoint gets its body, content type and grpc-status trailers; te: trailers reaches the member', async (t) => {
  const s = await setup(t);
  const session = connect(s.httpsPort);
  t.after(() => session.destroy());
  const msg = frame('hello');
  const r = await call(session, '/echo.Echo/Unary', msg);
  assert.equal(r.headers[':status'], 200);
  assert.equal(r.headers['content-type'], 'application/grpc');
  assert.deepEqual(r.body, msg);
  assert.equal(r.trailers?.['grpc-status'], '0');
  assert.equal(r.trailers?.['grpc-message'], 'OK');
  const seen = s.be.seen.at(-1)!;
  assert.equal(seen.te, 'trailers');
  assert.equal(seen[':authority'], 'grpc.test');
  assert.equal(seen['content-type'], 'application/grpc');
  assert.equal(seen['x-forwarded-proto'], 'https');
});

test('h2c: a trailers-only error answer (grpc-status 12 in the head) reaches the client', async (t) => {
  const s = await setup(t);
  const session = connect(s.httpsPort);
  t.after(() => session.destroy());
  const r = await call(session, '/echo.Echo/Fail', frame('x'));
  assert.equal(r.headers[':status'], 200);
  assert.equal(r.headers['grpc-status'], '12');
  assert.equal(r.headers['grpc-message'], 'unimplemented');
  assert.equal(r.body.length, 0);
});

test('h2c: a 4 MiB server stream read slowly arrives whole, then its trailers', async (t) => {
  const s = await setup(t);
  const session = connect(s.httpsPort);
  t.after(() => session.destroy());
  const r = await call(session, '/echo.Echo/Big', frame('go'), true);
  assert.equal(r.body.length, CHUNK * CHUNKS);
  assert.ok(r.body.every((c) => c === 0x61));
  assert.equal(r.trailers?.['grpc-status'], '0');
  assert.equal(r.trailers?.['grpc-message'], 'big done');
});

test('h2c: bidirectional streaming — each message is echoed before the client sends the next', async (t) => {
  const s = await setup(t);
  const session = connect(s.httpsPort);
  t.after(() => session.destroy());
  const req = session.request({ ':method': 'POST', ':path': '/echo.Echo/Bidi', ':authority': 'grpc.test', 'content-type': 'application/grpc', te: 'trailers' });
  const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) => req.once('trailers', resolve));
  const received: string[] = [];
  let buffered = Buffer.alloc(0);
  let next: ((m: string) => void) | undefined;
  req.on('data', (d: Buffer) => {
    buffered = Buffer.concat([buffered, d]);
    while (buffered.length >= 5 && buffered.length >= 5 + buffered.readUInt32BE(1)) {
      const len = buffered.readUInt32BE(1);
      const m = buffered.subarray(5, 5 + len).toString();
      buffered = buffered.subarray(5 + len);
      received.push(m);
      next?.(m);
    }
  });
  const echoed = (): Promise<string> => new Promise((resolve) => { next = resolve; });
  for (const m of ['one', 'two', 'three']) {
    const answer = echoed();
    req.write(frame(m));
    // the request is still open: only a full-duplex path can answer now
    assert.equal(await answer, m);
  }
  req.end();
  const tr = await trailers;
  assert.equal(tr['grpc-status'], '0');
  assert.deepEqual(received, ['one', 'two', 'three']);
});

test('h2c: an HTTP/1.1 client with TE: trailers gets the trailers after the last chunk; without it, none', async (t) => {
  const s = await setup(t);
  const msg = frame('h1');
  const head = (te: boolean): string => `POST /echo.Echo/Unary HTTP/1.1\r\nHost: grpc.test\r\nContent-Type: application/grpc\r\n${te ? 'TE: trailers\r\n' : ''}Content-Length: ${String(msg.length)}\r\nConnection: close\r\n\r\n`;
  const withTe = await rawRequest(s.httpPort, Buffer.concat([Buffer.from(head(true)), msg]), 10_000);
  const r = withTe.responses[0];
  assert.ok(r?.complete, withTe.raw.toString('latin1'));
  assert.equal(r.status, 200);
  assert.equal(r.header('transfer-encoding'), 'chunked');
  assert.deepEqual(r.body, msg);
  const text = withTe.raw.toString('latin1');
  assert.match(text, /\r\n0\r\ngrpc-status: 0\r\ngrpc-message: OK\r\n\r\n$/);
  assert.equal(s.be.seen.at(-1)?.te, 'trailers');

  const without = await rawRequest(s.httpPort, Buffer.concat([Buffer.from(head(false)), msg]), 10_000);
  assert.equal(without.responses[0]?.status, 200);
  assert.doesNotMatch(without.raw.toString('latin1'), /grpc-status/);
  assert.equal(s.be.seen.at(-1)?.te, undefined);
});

test('h2c: 120 long-lived streams at once all get their answer, multiplexed on two upstream connections', async (t) => {
  const s = await setup(t);
  // one client session (Bellhop's entrypoint allows it 128 streams)
  const session = connect(s.httpsPort);
  t.after(() => session.destroy());
  const calls = Array.from({ length: 120 }, () => call(session, '/echo.Echo/Hold', frame('h')));
  const deadline = Date.now() + 30_000;
  while (s.be.held < 120 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  // every stream reached the member while all are still open: none queued behind another
  assert.equal(s.be.held, 120);
  assert.equal(s.be.sessions, 2, 'at most 100 streams per upstream connection');
  s.be.release();
  const done = await Promise.all(calls);
  for (const c of done) assert.equal(c.trailers?.['grpc-status'], '0');
});

test('h2c: a member that refuses the connection is 502 PROXY_UPSTREAM_CONNECT', async (t) => {
  const s = await setup(t, await closedPort());
  const session = connect(s.httpsPort);
  t.after(() => session.destroy());
  const r = await call(session, '/echo.Echo/Unary', frame('x'));
  assert.equal(r.headers[':status'], 502);
  assert.match(r.body.toString(), /PROXY_UPSTREAM_CONNECT/);
});

test('h2c: a member that leaves (forgetOrigin with abort) ends its open streams; the next call opens a new connection', async (t) => {
  const s = await setup(t);
  const session = connect(s.httpsPort);
  t.after(() => session.destroy());
  const held = session.request({ ':method': 'POST', ':path': '/echo.Echo/Hold', ':authority': 'grpc.test', 'content-type': 'application/grpc', te: 'trailers' });
  held.on('error', () => undefined);
  const firstData = new Promise<void>((resolve) => held.once('data', () => resolve()));
  const closed = new Promise<{ trailers: boolean }>((resolve) => {
    let trailers = false;
    held.on('trailers', () => { trailers = true; });
    held.on('close', () => resolve({ trailers }));
  });
  held.resume();
  held.end(frame('h'));
  await firstData;
  assert.deepEqual(s.proxy.upstreamOrigins(), [s.origin]);
  s.proxy.forgetOrigin(s.origin, { abort: true });
  const end = await closed;
  assert.equal(end.trailers, false, 'a stream cut mid-answer never gets a grpc-status of success');
  assert.equal(held.rstCode, http2.constants.NGHTTP2_INTERNAL_ERROR, 'the client sees the stream reset, not a clean end');
  const r = await call(session, '/echo.Echo/Unary', frame('after'));
  assert.equal(r.trailers?.['grpc-status'], '0');
  assert.equal(s.be.sessions, 2, 'a new upstream connection after the old one was destroyed');
});

test('h2c health: a healthcheck.path is an HTTP/2 probe; without one, a TCP connect', async (t) => {
  const be = await backend();
  t.after(() => be.close());
  const prober = new Prober();
  t.after(() => prober.close());
  const hc = { useGet: false, intervalMs: 1000, timeoutMs: 5000, rise: 1, fall: 1, disable: false };
  const url = `http://127.0.0.1:${String(be.port)}`;
  const viaH2 = await prober.probe({ url, noTlsVerify: false, h2c: true, healthcheck: { ...hc, path: '/health' } });
  assert.equal(viaH2.ok, true, viaH2.reason);
  assert.equal(viaH2.status, 204);
  assert.equal(be.seen.at(-1)?.[':method'], 'HEAD');
  const tcp = await prober.probe({ url, noTlsVerify: false, h2c: true, healthcheck: hc });
  assert.equal(tcp.ok, true, tcp.reason);
  assert.match(tcp.reason, /TCP connect/);
  // an h2c member asked over HTTP/1.1 would not answer: the probe must speak h2
  const missing = await prober.probe({ url, noTlsVerify: false, h2c: true, healthcheck: { ...hc, path: '/nope' } });
  assert.equal(missing.ok, false);
  assert.equal(missing.status, 404);
});
