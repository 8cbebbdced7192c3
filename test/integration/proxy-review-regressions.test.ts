// Defects an adversarial review found in the proxy path, each pinned by the input that showed it:
// a pipelined upgrade that crashed the process, retries replayed across a pool, a 304 carrying
// Content-Length turned into a 502, raw error bytes written into a response in progress, and a
// pending upgrade that outlived the drain deadline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import pino from 'pino';
import { createProxyServer } from '../../internal/proxy/index.ts';
import { LiveRoutes } from '../../internal/pools/index.ts';
import { buildRouteTable } from '../../internal/routes/index.ts';
import { containerOf, memberSpec, routeSpec } from '../fixtures/route-specs.ts';
import { startRecordingBackend } from '../support/recording-backend.ts';
import { collect, rawConnect, rawRequest } from '../support/raw-client.ts';
import { member, startProxy, testRoute } from './proxy-harness.ts';

const UPGRADE = 'GET /ws HTTP/1.1\r\nHost: app\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';

test('an upgrade or CONNECT pipelined behind a request in progress closes that connection; the proxy keeps serving', async (t) => {
  const be = await startRecordingBackend((req, reply) => {
    if (req.target === '/slow') setTimeout(() => reply.send(200, {}, 'slow body'), 300);
    else reply.send(200, {}, 'ok');
  });
  const h = await startProxy({ app: testRoute('app', [member('m1', be.origin)]) });
  t.after(async () => {
    await h.close();
    await be.close();
  });
  for (const second of [UPGRADE, 'CONNECT app:443 HTTP/1.1\r\nHost: app:443\r\n\r\n']) {
    const s = await rawConnect(h.port);
    const c = collect(s, 10_000);
    s.write(`GET /slow HTTP/1.1\r\nHost: app\r\n\r\n${second}`);
    const r = await c;
    assert.equal(r.closed, true);
    assert.doesNotMatch(r.raw.toString('latin1'), /405|101/, 'nothing written into the first response');
  }
  const after = await rawRequest(h.port, 'GET /after HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n', 10_000);
  assert.equal(after.responses[0]?.status, 200, 'still serving (it used to crash with ERR_HTTP_SOCKET_ASSIGNED)');
});

test('a bad chunk while the response is streaming closes the connection instead of writing a 400 into the body', async (t) => {
  const be = await startRecordingBackend((_req, reply) => {
    reply.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n0123456789');
  });
  const h = await startProxy({ app: testRoute('app', [member('m1', be.origin)]) });
  t.after(async () => {
    await h.close();
    await be.close();
  });
  const s = await rawConnect(h.port);
  const c = collect(s, 10_000);
  s.write('POST /up HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
  await new Promise((r) => setTimeout(r, 300));
  s.write('zz\r\n');
  const r = await c;
  assert.doesNotMatch(r.raw.toString('latin1'), /HTTP\/1\.1 400/, 'no raw 400 inside the streaming response');
  assert.equal(r.closed, true);
});

test('a 304 (or 204) stating a Content-Length is relayed as is, and counts as a success', async (t) => {
  const be = await startRecordingBackend((req, reply) => {
    const status = req.target === '/204' ? '204 No Content' : '304 Not Modified';
    reply.socket.write(`HTTP/1.1 ${status}\r\nContent-Length: 1234\r\nETag: "v1"\r\n\r\n`);
  });
  const route = testRoute('app', [member('m1', be.origin)]);
  const h = await startProxy({ app: route });
  t.after(async () => {
    await h.close();
    await be.close();
  });
  const r = await rawRequest(h.port, 'GET /logo.png HTTP/1.1\r\nHost: app\r\nIf-None-Match: "v1"\r\nConnection: close\r\n\r\n', 10_000);
  assert.equal(r.responses[0]?.status, 304);
  assert.equal(r.responses[0]?.header('etag'), '"v1"');
  const r204 = await rawRequest(h.port, 'GET /204 HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n', 10_000);
  assert.equal(r204.responses[0]?.status, 204);
  assert.equal(r204.responses[0]?.header('content-length'), undefined, 'a 204 carries no Content-Length');
  assert.deepEqual(route.outcomes.map((o) => o.outcome.ok), [true, true], 'no passive-health failure');
});

test('an idempotent request whose member resets it is sent at most twice in all, across a pool of four', async (t) => {
  const hits: string[] = [];
  const servers: net.Server[] = [];
  const members = [];
  for (let i = 1; i <= 4; i++) {
    const srv = net.createServer((s) => s.once('data', () => {
      hits.push(`m${i}`);
      s.resetAndDestroy();
    }));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    servers.push(srv);
    const url = `http://127.0.0.1:${(srv.address() as net.AddressInfo).port}`;
    members.push(memberSpec(`m${i}`, url, {}, { container: containerOf(`m${i}`, url) }));
  }
  const live = new LiveRoutes({ health: { isUsable: () => true, report: () => undefined }, stickySecret: new Uint8Array(32) });
  live.update(buildRouteTable([routeSpec('app', members)], { matchDomains: [] }).table);
  const proxy = createProxyServer({
    resolver: () => live.resolver, trustedProxies: [], logger: pino({ level: 'silent' }), accessLog: false,
    timeouts: { headerMs: 2000, idleMs: 5000, upstreamConnectMs: 1000, upstreamResponseMs: 3000, drainMs: 1000 },
  });
  const { port } = await proxy.listen({ host: '127.0.0.1', port: 0 });
  t.after(async () => {
    await proxy.close();
    for (const s of servers) s.close();
  });
  for (const method of ['GET', 'DELETE']) {
    hits.length = 0;
    const r = await rawRequest(port, `${method} /poison HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n`, 10_000);
    assert.equal(r.responses[0]?.status, 502);
    assert.equal(hits.length, 2, `${method} reached ${hits.join(',')}: once, then one retry`);
  }
});

test('the drain deadline also closes an upgrade still waiting on its member', async (t) => {
  const be = await startRecordingBackend(() => undefined); // accepts the upgrade request, never answers
  // upstream_response a minute: within the 30 s wait below only the drain deadline can close it
  const h = await startProxy({ app: testRoute('app', [member('m1', be.origin)]) }, { timeouts: { drainMs: 500, upstreamResponseMs: 60_000 } });
  t.after(async () => {
    await h.close();
    await be.close();
  });
  const s = await rawConnect(h.port);
  const c = collect(s, 30_000);
  s.write(UPGRADE);
  await be.waitForRequests(1);
  const drained = h.proxy.drain();
  const r = await c;
  assert.equal(r.closed, true, 'the waiting upgrade was closed');
  await drained;
  assert.ok(h.logLines.some((l) => l['msg'] === 'drain deadline reached; closing what is left'), 'closed by the drain deadline');
});

test('a sticky pick sets its cookie on a websocket 101 too, so a websocket-only client is pinned', async (t) => {
  const be = await startRecordingBackend((_req, reply) => {
    reply.socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
  });
  const m1 = member('m1', be.origin);
  const route = testRoute('app', [m1], { pick: () => ({ member: m1, setCookie: 'bellhop_lb_sticky=tok; Path=/; HttpOnly; SameSite=Lax' }) });
  const h = await startProxy({ app: route });
  t.after(async () => {
    await h.close();
    await be.close();
  });
  const s = await rawConnect(h.port);
  t.after(() => s.destroy());
  // the tunnel stays open: read up to the end of the 101's head instead of a fixed time
  const head = await new Promise<string>((resolve, reject) => {
    let got = '';
    const timer = setTimeout(() => reject(new Error(`no 101 head; got ${JSON.stringify(got)}`)), 10_000);
    s.on('data', (chunk: Buffer) => {
      got += chunk.toString('latin1');
      if (got.includes('\r\n\r\n')) {
        clearTimeout(timer);
        resolve(got);
      }
    });
    s.write(UPGRADE);
  });
  assert.match(head, /^HTTP\/1\.1 101 /);
  assert.match(head, /\r\nset-cookie: bellhop_lb_sticky=tok; Path=\/; HttpOnly; SameSite=Lax\r\n/i);
});
