// Upstream faults, retries and slow clients (reliability.md groups D–E).
// Waits for an answer or a close have deadlines far above what a busy machine needs (they end as
// soon as the socket closes); what a fault test proves is said by the answer, the log line or the
// closed connection, with every other timeout long enough that it cannot be the cause.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startRecordingBackend } from '../support/recording-backend.ts';
import { collect, rawConnect, rawRequest } from '../support/raw-client.ts';
import { closedPort, member, startProxy, testRoute, until } from './proxy-harness.ts';

test('refused member → retried on the other member, no client-visible error', async (t) => {
  const be = await startRecordingBackend();
  const dead = await closedPort();
  const route = testRoute('app', [member('dead', `http://127.0.0.1:${dead}`), member('live', be.origin)]);
  const h = await startProxy({ app: route });
  t.after(async () => { await h.close(); await be.close(); });

  // a POST with a body too: nothing reached the refused member, so it is safe to resend
  const r = await rawRequest(h.port, 'POST /p HTTP/1.1\r\nHost: app\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc', 10_000);
  assert.equal(r.responses[0]?.status, 200);
  assert.equal(be.requests[0]!.body.toString(), 'abc');
  assert.deepEqual(route.begun, ['dead', 'live']);
  assert.equal(route.outcomes[0]!.outcome.ok, false);
  assert.equal(route.outcomes[0]!.outcome.error, 'ECONNREFUSED');
  assert.deepEqual(route.outcomes[1], { member: 'live', outcome: { ok: true, status: 200 } });
});

test('only member refused → 502; no member at all → 503 with Retry-After', async (t) => {
  const dead = await closedPort();
  const route = testRoute('app', [member('dead', `http://127.0.0.1:${dead}`)]);
  const empty = testRoute('empty', [], { retryAfterSec: 7 });
  const h = await startProxy({ app: route, empty });
  t.after(async () => { await h.close(); });
  const r = await rawRequest(h.port, 'GET / HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n', 10_000);
  assert.equal(r.responses[0]?.status, 502);
  assert.match(r.responses[0].body.toString(), /PROXY_UPSTREAM_CONNECT/);
  const e = await rawRequest(h.port, 'GET / HTTP/1.1\r\nHost: empty\r\nConnection: close\r\n\r\n', 10_000);
  assert.equal(e.responses[0]?.status, 503);
  assert.equal(e.responses[0]?.header('retry-after'), '7');
});

test('POST with a body to a member that resets after reading → 502 and no retry; GET is retried once', async (t) => {
  const resetter = await startRecordingBackend((_req, reply) => reply.socket.resetAndDestroy());
  const other = await startRecordingBackend();
  const route = testRoute('app', [member('reset', resetter.origin), member('other', other.origin)]);
  const h = await startProxy({ app: route });
  t.after(async () => { await h.close(); await resetter.close(); await other.close(); });

  const p = await rawRequest(h.port, 'POST / HTTP/1.1\r\nHost: app\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbody', 10_000);
  assert.equal(p.responses[0]?.status, 502);
  assert.equal(resetter.requests.length, 1);
  assert.equal(other.requests.length, 0, 'a non-idempotent request that reached the upstream is never resent');

  const g = await rawRequest(h.port, 'GET /g HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n', 10_000);
  assert.equal(g.responses[0]?.status, 200);
  assert.equal(other.requests.length, 1);
  assert.equal(route.inflight.get('reset'), 0);
  assert.equal(route.inflight.get('other'), 0);
});

test('hanging member → 504 after upstream_response, upstream connection closed', async (t) => {
  const hang = await startRecordingBackend(() => { /* never answers */ });
  const route = testRoute('app', [member('hang', hang.origin)]);
  const h = await startProxy({ app: route }, { timeouts: { upstreamResponseMs: 300 } });
  t.after(async () => { await h.close(); await hang.close(); });

  const r = await rawRequest(h.port, 'GET / HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n', 10_000);
  assert.equal(r.responses[0]?.status, 504);
  assert.ok(r.elapsedMs >= 250, `answered after ${r.elapsedMs} ms`);
  assert.equal(route.outcomes[0]!.outcome.error, 'UND_ERR_HEADERS_TIMEOUT');
  assert.equal(hang.requests.length, 1, 'a timed-out GET is not retried (it may be slow, not dead)');
  await until(() => hang.open.size === 0, 10_000, 'hung upstream connection closed');
});

test('upstream dies mid-body → client sees a truncated response and a closed connection', async (t) => {
  const be = await startRecordingBackend((req, reply) => {
    if (req.target === '/chunked') {
      reply.socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
    } else {
      reply.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly-ten!!');
    }
    setTimeout(() => reply.socket.destroy(), 50);
  });
  const h = await startProxy({ app: testRoute('app', [member('m1', be.origin)]) });
  t.after(async () => { await h.close(); await be.close(); });
  for (const path of ['/chunked', '/cl']) {
    const r = await rawRequest(h.port, `GET ${path} HTTP/1.1\r\nHost: app\r\n\r\n`, 10_000);
    assert.equal(r.closed, true, `${path}: connection closed, not hanging`);
    assert.equal(r.responses[0]?.status, 200);
    assert.equal(r.responses[0]?.complete, false, `${path}: truncation is visible`);
  }
});

test('client abort mid-upload → upstream request aborted at once', async (t) => {
  const be = await startRecordingBackend();
  // Every proxy timeout a minute: within the wait below, only the client leaving can end it.
  const h = await startProxy({ app: testRoute('app', [member('m1', be.origin)]) }, { timeouts: { idleMs: 60_000, upstreamResponseMs: 60_000 } });
  t.after(async () => { await h.close(); await be.close(); });
  const s = await rawConnect(h.port);
  s.write('POST /up HTTP/1.1\r\nHost: app\r\nContent-Length: 10000000\r\n\r\n');
  s.write(Buffer.alloc(100_000, 1));
  await until(() => be.received[0] !== undefined && be.received[0].length > 50_000, 10_000, 'upload reaching the upstream');
  const [upstream] = [...be.open];
  let upstreamClosed = false;
  upstream!.once('close', () => { upstreamClosed = true; });
  s.destroy();
  await until(() => upstreamClosed, 20_000, 'the upstream request to be aborted when the client left (not by a 60 s timeout)');
  await until(() => h.done.length === 1);
  assert.equal(h.done[0]!.status, 499);
});

test('client abort while waiting for the response → upstream aborted; release called once', async (t) => {
  let upstream: net.Socket | undefined;
  const be = await startRecordingBackend((_req, reply) => { upstream = reply.socket; });
  const route = testRoute('app', [member('m1', be.origin)]);
  const h = await startProxy({ app: route });
  t.after(async () => { await h.close(); await be.close(); });
  const s = await rawConnect(h.port);
  s.write('GET / HTTP/1.1\r\nHost: app\r\n\r\n');
  await be.waitForRequests(1);
  const closed = new Promise<void>((r) => upstream!.once('close', () => r()));
  s.destroy();
  await closed;
  await until(() => route.outcomes.length === 1);
  assert.equal(route.inflight.get('m1'), 0);
  assert.equal(h.done[0]!.status, 499);
});

test('slowloris: a head not finished within the header timeout is closed', async (t) => {
  const h = await startProxy({}, { timeouts: { headerMs: 300 } });
  t.after(async () => { await h.close(); });
  const s = await rawConnect(h.port);
  const p = collect(s, 25_000);
  s.write('GET / HTTP/1.1\r\nHost: app\r\n');
  const iv = setInterval(() => { if (!s.destroyed) s.write('X-A: b\r\n'); }, 50);
  const r = await p;
  clearInterval(iv);
  assert.equal(r.closed, true);
  assert.match(r.raw.toString(), /^HTTP\/1\.1 408/);
  assert.ok(h.logLines.some((l) => l['msg'] === 'client error' && l['err'] === 'ERR_HTTP_REQUEST_TIMEOUT'), 'closed by the header timeout');
  // (Node checks headersTimeout only every connectionsCheckingInterval, 30 s by default; the
  // collect() above gives up long before that, so a 408 at all means Bellhop's interval ran.)
});

test('slow body: no progress for the idle timeout → 408 and close; upstream aborted', async (t) => {
  const be = await startRecordingBackend();
  const h = await startProxy({ app: testRoute('app', [member('m1', be.origin)]) }, { timeouts: { idleMs: 300 } });
  t.after(async () => { await h.close(); await be.close(); });
  const s = await rawConnect(h.port);
  const p = collect(s, 30_000);
  s.write('POST / HTTP/1.1\r\nHost: app\r\nContent-Length: 100\r\n\r\n0123456789');
  await until(() => be.open.size === 1, 10_000, 'upstream connection');
  const [upstream] = [...be.open];
  const upClosed = new Promise<void>((res) => upstream!.once('close', () => res()));
  const r = await p;
  assert.equal(r.closed, true);
  assert.equal(r.responses[0]?.status, 408);
  await upClosed;
  assert.equal(be.requests.length, 0, 'the incomplete request never completed upstream');
});

test('a progressing upload longer than the idle timeout is not cut', async (t) => {
  const be = await startRecordingBackend();
  // A byte every 50 ms for 2 s against a 1.5 s idle timeout: cut only if progress did not count
  // (a stall of the test process near 1.5 s would be needed to cut it otherwise).
  const idleMs = 1500;
  const bytes = 40;
  const h = await startProxy({ app: testRoute('app', [member('m1', be.origin)]) }, { timeouts: { idleMs } });
  t.after(async () => { await h.close(); await be.close(); });
  const s = await rawConnect(h.port);
  const p = collect(s, 30_000);
  s.write(`POST / HTTP/1.1\r\nHost: app\r\nContent-Length: ${String(bytes)}\r\nConnection: close\r\n\r\n`);
  for (let i = 0; i < bytes; i++) {
    await new Promise((r) => setTimeout(r, 50));
    s.write('x');
  }
  assert.ok(bytes * 50 > idleMs, 'the upload is paced to outlast the idle timeout');
  const r = await p;
  assert.equal(r.responses[0]?.status, 200);
  assert.equal(be.requests[0]?.body.length, bytes);
});

test('slow reader: upstream is paused by backpressure, then both sides are cut after the idle timeout', async (t) => {
  const total = 20 * 1024 * 1024;
  let accepted = 0;
  let upstream: net.Socket | undefined;
  const be = await startRecordingBackend((_req, reply) => {
    const s = reply.socket;
    upstream = s;
    s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${total}\r\n\r\n`);
    const chunk = Buffer.alloc(64 * 1024, 1);
    const pump = (): void => {
      while (accepted < total && !s.destroyed) {
        accepted += chunk.length;
        if (!s.write(chunk)) { s.once('drain', pump); return; }
      }
    };
    pump();
  });
  const h = await startProxy({ app: testRoute('app', [member('m1', be.origin)]) }, { timeouts: { idleMs: 400 } });
  t.after(async () => { await h.close(); await be.close(); });
  const s = net.connect(h.port, '127.0.0.1');
  s.on('error', () => {});
  t.after(() => s.destroy());
  await new Promise((r) => s.once('connect', r));
  s.pause(); // never read
  s.write('GET /big HTTP/1.1\r\nHost: app\r\n\r\n');
  await be.waitForRequests(1);
  await new Promise<void>((r) => upstream!.once('close', () => r()));
  assert.ok(accepted < total, `the upstream could not push all ${total} bytes (pushed ${accepted})`);
  const conns = (): Promise<number> => new Promise((r, j) => h.proxy.server.getConnections((e, n) => (e ? j(e) : r(n))));
  const end = Date.now() + 20_000;
  while ((await conns()) > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  assert.equal(await conns(), 0, 'the slow client connection was closed by the proxy');
  await until(() => h.done.length === 1);
  assert.equal(h.done[0]!.status, 200);
  assert.ok(h.done[0]!.bytes < total);
});

test('RSS stays flat while 512 MiB stream through each way (a buffered body would add 512 MiB)', async (t) => {
  const size = 512 * 1024 * 1024;
  const be = await startRecordingBackend((req, reply) => {
    if (req.method === 'GET') {
      const s = reply.socket;
      s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`);
      const chunk = Buffer.alloc(256 * 1024, 2);
      let sent = 0;
      const pump = (): void => {
        while (sent < size && !s.destroyed) {
          sent += chunk.length;
          if (!s.write(chunk)) { s.once('drain', pump); return; }
        }
      };
      pump();
    }
  });
  // upload: the recording backend buffers what it receives, so count bytes on a plain sink instead
  let sunk = 0;
  const sink = net.createServer((c) => {
    let headLen = -1;
    c.on('data', (d: Buffer) => {
      if (headLen === -1) headLen = d.indexOf('\r\n\r\n') + 4;
      sunk += d.length;
      if (sunk - headLen >= size) c.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    });
    c.on('error', () => {});
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  const sinkOrigin = `http://127.0.0.1:${(sink.address() as net.AddressInfo).port}`;
  const h = await startProxy({ down: testRoute('down', [member('d', be.origin)]), up: testRoute('up', [member('u', sinkOrigin)]) });
  t.after(async () => { await h.close(); await be.close(); await new Promise<void>((r) => sink.close(() => r())); });
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const iv = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
  // download
  const s = await rawConnect(h.port);
  let got = 0;
  await new Promise<void>((resolve) => {
    s.on('data', (d: Buffer) => { got += d.length; if (got > size) resolve(); });
    s.write('GET / HTTP/1.1\r\nHost: down\r\nConnection: close\r\n\r\n');
  });
  s.destroy();
  // upload
  const u = await rawConnect(h.port);
  const done = collect(u, 60_000);
  u.write(`POST / HTTP/1.1\r\nHost: up\r\nContent-Length: ${size}\r\nConnection: close\r\n\r\n`);
  const chunk = Buffer.alloc(256 * 1024, 3);
  for (let sent = 0; sent < size; sent += chunk.length) {
    if (!u.write(chunk)) await new Promise((r) => u.once('drain', r));
  }
  const r = await done;
  clearInterval(iv);
  assert.equal(r.responses[0]?.status, 200);
  assert.ok(sunk > size);
  const growthMiB = (peak - rss0) / 1048576;
  assert.ok(growthMiB < 192, `RSS grew by ${growthMiB.toFixed(1)} MiB while moving 1 GiB`);
});

test('a member that sends its head (Content-Length, Connection: close) and dies before the body: the GET is served by the other member', async (t) => {
  // what busybox httpd looks like when its container is killed between head and body
  const dying = await startRecordingBackend((_req, reply) => {
    reply.socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n');
  });
  const other = await startRecordingBackend();
  const route = testRoute('app', [member('dying', dying.origin), member('other', other.origin)]);
  const h = await startProxy({ app: route });
  t.after(async () => { await h.close(); await dying.close(); await other.close(); });

  const g = await rawRequest(h.port, 'GET /g HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n', 10_000);
  assert.equal(g.responses[0]?.status, 200);
  assert.equal(g.responses[0].body.toString(), 'ok GET /g');
  assert.deepEqual(route.begun, ['dying', 'other']);
  assert.equal(route.outcomes[0]!.outcome.error, 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH');

  const p = await rawRequest(h.port, 'POST /p HTTP/1.1\r\nHost: app\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx', 10_000);
  assert.equal(p.responses[0]?.status, 502, 'a POST that reached the member is never resent');
  assert.equal(other.requests.length, 1);
});

test('the only member resets a reused keep-alive connection as the request arrives: sent again on a fresh connection, the client sees 200', async (t) => {
  // The close race of upstream keep-alive: the member drops an idle connection just as the
  // next request is written on it. Here it resets every connection's second request.
  const be = await startRecordingBackend((req, reply) => {
    const n = be.requests.filter((r) => r.conn === req.conn).length;
    if (n === 1) reply.send(200, { 'keep-alive': 'timeout=60' }, `ok ${req.target}`);
    else reply.socket.resetAndDestroy();
  });
  const route = testRoute('app', [member('only', be.origin)]);
  const h = await startProxy({ app: route });
  t.after(async () => { await h.close(); await be.close(); });

  const first = await rawRequest(h.port, 'GET /1 HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n', 10_000);
  assert.equal(first.responses[0]?.status, 200);
  const second = await rawRequest(h.port, 'GET /2 HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n', 10_000);
  assert.equal(second.responses[0]?.status, 200, second.responses[0]?.body.toString());
  assert.equal(second.responses[0].body.toString(), 'ok /2');
  assert.deepEqual(be.requests.map((r) => [r.conn, r.target]), [[0, '/1'], [0, '/2'], [1, '/2']]);
  assert.deepEqual(route.outcomes.map((o) => o.outcome.ok), [true, false, true]);
});
