// Websocket tunnelling (RFC 6455 handshake and one frame, written by hand) and graceful drain.
// "At once, not at the deadline" is shown by what happened (the deadline's log line, the order of
// events), with deadlines far longer than any wait here, never by a millisecond bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { startRecordingBackend, type RecordedRequest, type Reply } from '../support/recording-backend.ts';
import { collect, rawConnect, rawRequest } from '../support/raw-client.ts';
import { member, startProxy, testRoute, until } from './proxy-harness.ts';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const acceptFor = (key: string): string => createHash('sha1').update(key + GUID).digest('base64');

/** Decode one frame; returns payload (unmasked) and total length, or null if incomplete. */
function decodeFrame(buf: Buffer): { opcode: number; payload: Buffer; used: number } | null {
  if (buf.length < 2) return null;
  const opcode = buf[0]! & 0x0f;
  const masked = (buf[1]! & 0x80) !== 0;
  let len = buf[1]! & 0x7f;
  let pos = 2;
  if (len === 126) { len = buf.readUInt16BE(2); pos = 4; }
  const maskLen = masked ? 4 : 0;
  if (buf.length < pos + maskLen + len) return null;
  const payload = Buffer.from(buf.subarray(pos + maskLen, pos + maskLen + len));
  if (masked) {
    const mask = buf.subarray(pos, pos + 4);
    for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ mask[i % 4]!;
  }
  return { opcode, payload, used: pos + maskLen + len };
}

function encodeFrame(payload: Buffer, mask: boolean): Buffer {
  const head = Buffer.from([0x81, (mask ? 0x80 : 0) | payload.length]);
  if (!mask) return Buffer.concat([head, payload]);
  const key = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((b, i) => b ^ key[i % 4]!));
  return Buffer.concat([head, key, masked]);
}

/** Backend: websocket echo on /ws, 200 (no upgrade) on /no-ws. */
function wsEcho(req: RecordedRequest, reply: Reply): void {
  if (req.target === '/ws' && req.header('upgrade')?.toLowerCase() === 'websocket') {
    let buf = reply.detach((chunk) => {
      buf = Buffer.concat([buf, chunk]);
      for (let f = decodeFrame(buf); f !== null; f = decodeFrame(buf)) {
        buf = buf.subarray(f.used);
        reply.socket.write(encodeFrame(Buffer.from(`echo:${f.payload.toString()}`), false));
      }
    });
    reply.socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Accept: ${acceptFor(req.header('sec-websocket-key')!)}\r\nX-Backend: yes\r\n\r\n`);
    return;
  }
  reply.send(200, { 'content-type': 'text/plain' }, 'plain answer');
}

function upgradeRequest(path: string, key: string): string {
  return `GET ${path} HTTP/1.1\r\nHost: app\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\n` +
    'Sec-WebSocket-Version: 13\r\nX-Client: 1\r\n\r\n';
}

async function readUntil(s: net.Socket, pred: (b: Buffer) => boolean, ms = 10_000): Promise<Buffer> {
  let buf = Buffer.alloc(0);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { s.off('data', on); reject(new Error(`timeout; got ${JSON.stringify(buf.toString('latin1'))}`)); }, ms);
    const on = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      if (pred(buf)) { clearTimeout(timer); s.off('data', on); resolve(buf); }
    };
    s.on('data', on);
  });
}

test('websocket echo through the proxy after a real 101; counted in flight until closed', async (t) => {
  const be = await startRecordingBackend(wsEcho);
  const route = testRoute('app', [member('m1', be.origin)]);
  const h = await startProxy({ app: route });
  t.after(async () => { await h.close(); await be.close(); });

  const key = 'dGhlIHNhbXBsZSBub25jZQ==';
  const s = await rawConnect(h.port);
  s.write(upgradeRequest('/ws', key));
  const head = await readUntil(s, (b) => b.includes('\r\n\r\n'));
  const text = head.toString('latin1');
  assert.match(text, /^HTTP\/1\.1 101 /);
  assert.match(text, new RegExp(`sec-websocket-accept: ${acceptFor(key).replace(/[+/=]/g, '\\$&')}`, 'i'));
  assert.match(text, /x-backend: yes/i);
  const up = be.requests[0]!;
  assert.equal(up.header('sec-websocket-key'), key);
  assert.equal(up.header('upgrade'), 'websocket');
  assert.equal(up.header('x-forwarded-for'), '127.0.0.1');
  assert.equal(route.inflight.get('m1'), 1, 'an open websocket counts as in flight');

  s.write(encodeFrame(Buffer.from('hello'), true));
  const reply = await readUntil(s, (b) => decodeFrame(b) !== null);
  const frame = decodeFrame(reply)!;
  assert.equal(frame.payload.toString(), 'echo:hello');

  s.destroy();
  await until(() => route.inflight.get('m1') === 0, 10_000, 'tunnel release');
  await until(() => be.open.size === 0, 10_000, 'upstream side closed');
  assert.equal(h.done[0]!.status, 101);
});

test('an upgrade answered 200 is relayed as a normal response and nothing is tunnelled', async (t) => {
  const be = await startRecordingBackend(wsEcho);
  const h = await startProxy({ app: testRoute('app', [member('m1', be.origin)]) });
  t.after(async () => { await h.close(); await be.close(); });
  const s = await rawConnect(h.port);
  const p = collect(s, 10_000);
  s.write(upgradeRequest('/no-ws', 'a2V5a2V5a2V5a2V5a2V5aw=='));
  // bytes a client sends before any 101: must never reach the upstream as data or a request
  s.write('GET /smuggled HTTP/1.1\r\nHost: app\r\n\r\n');
  const r = await p;
  assert.equal(r.responses[0]?.status, 200);
  assert.equal(r.responses[0]?.body.toString(), 'plain answer');
  assert.equal(r.closed, true, 'connection closed after the non-101 answer');
  assert.deepEqual(be.requests.map((x) => x.target), ['/no-ws']);
});

test('non-websocket Upgrade (h2c) is served as a plain request with Upgrade removed', async (t) => {
  const be = await startRecordingBackend(wsEcho);
  const h = await startProxy({ app: testRoute('app', [member('m1', be.origin)]) });
  t.after(async () => { await h.close(); await be.close(); });
  const r = await rawRequest(h.port, 'GET /no-ws HTTP/1.1\r\nHost: app\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings, close\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n', 10_000);
  assert.equal(r.responses[0]?.status, 200);
  assert.equal(be.requests[0]!.header('upgrade'), undefined);
  assert.equal(be.requests[0]!.header('http2-settings'), undefined);
});

test('websocket to an unknown host → 404 on the raw socket, no upstream contact', async (t) => {
  const be = await startRecordingBackend(wsEcho);
  const h = await startProxy({ other: testRoute('other', [member('m1', be.origin)]) });
  t.after(async () => { await h.close(); await be.close(); });
  const r = await rawRequest(h.port, upgradeRequest('/ws', 'a2V5a2V5a2V5a2V5a2V5aw=='), 10_000);
  assert.equal(r.responses[0]?.status, 404);
  assert.equal(r.closed, true);
  assert.equal(be.connections, 0);
});

const DEADLINE_LOG = 'drain deadline reached; closing what is left';

test('drain: idle keep-alive sockets close at once, in-flight requests finish with Connection: close, new connections are refused', async (t) => {
  // The slow response is held until the test releases it, so "at once" means: while a request
  // is still in flight, not within some number of ms.
  let answerSlow: (() => void) | undefined;
  const be = await startRecordingBackend((req, reply) => {
    if (req.target === '/slow') answerSlow = () => reply.send(200, {}, 'slow done');
    else reply.send(200, {}, 'fast');
  });
  // A deadline no wait in this test comes near: finishing before it is finishing without it.
  const h = await startProxy({ app: testRoute('app', [member('m1', be.origin)]) }, { timeouts: { drainMs: 60_000 } });
  t.after(async () => { await h.close(); await be.close(); });

  // an idle keep-alive connection
  const idle = await rawConnect(h.port);
  const idleDone = collect(idle, 30_000);
  idle.write('GET /fast HTTP/1.1\r\nHost: app\r\n\r\n');
  await until(() => be.requests.length === 1);
  await until(() => h.done.length === 1, 10_000, 'the fast response to be sent');
  // an in-flight request
  const busy = await rawConnect(h.port);
  const busyDone = collect(busy, 30_000);
  busy.write('GET /slow HTTP/1.1\r\nHost: app\r\n\r\n');
  await be.waitForRequests(2);

  const drained = h.proxy.drain();
  assert.equal(h.proxy.drain(), drained, 'drain() is idempotent');
  let settled = false;
  void drained.then(() => { settled = true; });
  const idleR = await idleDone;
  assert.equal(idleR.closed, true, 'the idle keep-alive socket is closed');
  assert.equal(idleR.responses[0]?.body.toString(), 'fast');
  assert.equal(h.done.length, 1, 'closed at once: the in-flight request is still being answered');
  assert.equal(settled, false, 'the drain waits for the in-flight request');
  await assert.rejects(rawConnect(h.port), 'new connections are refused');

  answerSlow!();
  const busyR = await busyDone;
  assert.equal(busyR.responses[0]?.status, 200);
  assert.equal(busyR.responses[0]?.body.toString(), 'slow done');
  assert.equal(busyR.responses[0]?.header('connection'), 'close');
  assert.equal(busyR.closed, true);
  await until(() => settled, 30_000, 'the drain to finish once the in-flight request did');
  await drained;
  assert.ok(!h.logLines.some((l) => l['msg'] === DEADLINE_LOG), 'finished without waiting for the deadline');
});

test('drain: a response that started before the drain finishes and its keep-alive socket is then closed', async (t) => {
  let release: (() => void) | undefined;
  const be = await startRecordingBackend((_req, reply) => {
    reply.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello');
    release = () => reply.socket.write('world');
  });
  const h = await startProxy({ app: testRoute('app', [member('m1', be.origin)]) });
  t.after(async () => { await h.close(); await be.close(); });
  const s = await rawConnect(h.port);
  const done = collect(s, 10_000);
  s.write('GET / HTTP/1.1\r\nHost: app\r\n\r\n');
  await until(() => release !== undefined);
  await new Promise((r) => setTimeout(r, 50));
  const drained = h.proxy.drain();
  release!();
  const r = await done;
  assert.equal(r.responses[0]?.body.toString(), 'helloworld');
  assert.equal(r.closed, true);
  await drained;
});

test('drain: websockets are closed at the drain deadline', async (t) => {
  const be = await startRecordingBackend(wsEcho);
  const h = await startProxy({ app: testRoute('app', [member('m1', be.origin)]) }, { timeouts: { drainMs: 300 } });
  t.after(async () => { await h.close(); await be.close(); });
  const s = await rawConnect(h.port);
  s.write(upgradeRequest('/ws', 'dGhlIHNhbXBsZSBub25jZQ=='));
  await readUntil(s, (b) => b.includes('\r\n\r\n'));
  const closed = new Promise<number>((r) => s.once('close', () => r(Date.now())));
  s.on('error', () => {});
  const t0 = Date.now();
  await h.proxy.drain();
  const at = await closed;
  assert.ok(at - t0 >= 250, `websocket kept until the deadline (closed after ${at - t0} ms)`);
  assert.ok(h.logLines.some((l) => l['msg'] === DEADLINE_LOG && l['tunnels'] === 1), 'closed by the deadline, with its tunnel open');
});

test('drain: a websocket the client closed is forgotten, so drain ends at once, not at the deadline', async (t) => {
  // An upstream that keeps its half of the connection open after the client's FIN (node:http
  // servers allow half-open sockets): the tunnel must still end.
  const halfOpen = net.createServer({ allowHalfOpen: true }, (c) => {
    c.on('error', () => undefined);
    c.once('data', () => c.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'));
  });
  await new Promise<void>((r) => halfOpen.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${String((halfOpen.address() as net.AddressInfo).port)}`;
  const route = testRoute('app', [member('m1', origin)]);
  // Far longer than any wait below: a drain that ends before it ended without it.
  const drainMs = 60_000;
  const h = await startProxy({ app: route }, { timeouts: { drainMs } });
  t.after(async () => {
    await h.close();
    halfOpen.close();
  });
  for (const close of ['end', 'destroy'] as const) {
    const s = await rawConnect(h.port);
    s.on('error', () => undefined);
    s.write(upgradeRequest('/ws', 'dGhlIHNhbXBsZSBub25jZQ=='));
    await readUntil(s, (b) => b.includes('\r\n\r\n'));
    s[close]();
  }
  await until(() => route.inflight.get('m1') === 0, 10_000, 'both tunnels released after the client closed');
  let settled = false;
  const drained = h.proxy.drain().then(() => { settled = true; });
  await until(() => settled, 30_000, 'drain to finish (a tunnel still counted would hold it for the 60 s deadline)');
  await drained;
  assert.ok(!h.logLines.some((l) => l['msg'] === DEADLINE_LOG), 'the drain ended without its deadline');
  assert.equal(h.done.filter((d) => d.status === 101).length, 2);
});
