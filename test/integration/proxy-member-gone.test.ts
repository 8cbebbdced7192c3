// Members that die under the proxy (reliability.md, Docker recreate): a request connecting to an
// address nobody answers any more, or waiting on a member that left the table, is routed again
// at once; a request whose only member refused waits briefly for the route to catch up
// (awaitMember); an upstream that fails after its head but before any body byte still gets the
// client an answer.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Worker } from 'node:worker_threads';
import { startRecordingBackend } from '../support/recording-backend.ts';
import { collect, rawConnect, rawRequest } from '../support/raw-client.ts';
import { closedPort, member, startProxy, testRoute, until } from './proxy-harness.ts';

/**
 * A loopback address where a TCP connect hangs without any answer, like a dead container's bridge
 * address once its veth is gone: a listener (backlog 1) in a worker whose event loop is blocked,
 * so it never accepts; once its accept queue is full the kernel drops further SYNs.
 */
async function blackhole(): Promise<{ origin: string; close(): Promise<void> }> {
  const src = `
    const { parentPort, workerData } = require('node:worker_threads');
    const s = require('node:net').createServer();
    s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
      parentPort.postMessage(s.address().port);
      Atomics.wait(new Int32Array(workerData), 0, 0);
    });`;
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(src, { eval: true, workerData: flag.buffer });
  const port = await new Promise<number>((resolve) => worker.once('message', resolve));
  const fillers: net.Socket[] = [];
  for (let i = 0; i < 4; i++) {
    const c = net.connect(port, '127.0.0.1');
    c.on('error', () => undefined);
    fillers.push(c);
  }
  await new Promise((r) => setTimeout(r, 100));
  // prove it: a connect here must still be pending
  const probe = net.connect(port, '127.0.0.1');
  probe.on('error', () => undefined);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(probe.connecting, true, 'the blackhole answers no SYN');
  probe.destroy();
  return {
    origin: `http://127.0.0.1:${String(port)}`,
    async close() {
      for (const f of fillers) f.destroy();
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
      await worker.terminate();
    },
  };
}

const hole = await blackhole();
after(() => hole.close());

/**
 * Far longer than the tests below wait for an answer (30 s): a request answered at all was not
 * answered by these timeouts. What did answer it is in the log ('PROXY_MEMBER_GONE').
 */
const SLOW = { upstreamConnectMs: 60_000, upstreamResponseMs: 60_000 };
const ANSWER_MS = 30_000;

test('a request connecting to a dead address is routed again at once when its member leaves: new member, 503, or 404', async (t) => {
  const be = await startRecordingBackend();
  const route = testRoute('app', [member('dead', hole.origin)]);
  const h = await startProxy({ app: route, gone: testRoute('gone', [member('dead', hole.origin)]), empty: testRoute('empty', [member('dead', hole.origin)], { retryAfterSec: 3 }) }, { timeouts: SLOW });
  t.after(async () => { await h.close(); await be.close(); });

  const get = rawRequest(h.port, 'GET /a HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n', ANSWER_MS);
  const post = rawRequest(h.port, 'POST /p HTTP/1.1\r\nHost: app\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello', ANSWER_MS);
  const toGone = rawRequest(h.port, 'GET / HTTP/1.1\r\nHost: gone\r\nConnection: close\r\n\r\n', ANSWER_MS);
  const toEmpty = rawRequest(h.port, 'GET / HTTP/1.1\r\nHost: empty\r\nConnection: close\r\n\r\n', ANSWER_MS);
  await until(() => route.begun.length === 2 && route.inflight.get('dead') === 2, 10_000, 'both requests on the dead member');
  await new Promise((r) => setTimeout(r, 200));
  // What the route table does on Docker's die/destroy event: the member goes (here a new one
  // arrived, another route went away entirely, the third lost its last member), and its pool is
  // forgotten as dead.
  route.members = [member('new', be.origin)];
  h.routes.delete('gone');
  (h.routes.get('empty') as ReturnType<typeof testRoute>).members = [];
  h.proxy.forgetOrigin(hole.origin, { abort: true });

  const [g, p, n, e] = await Promise.all([get, post, toGone, toEmpty]);
  assert.equal(g.responses[0]?.status, 200);
  assert.equal(g.responses[0]?.body.toString(), 'ok GET /a');
  // nothing reached the dead member, so even a POST is safe to send again, body intact
  assert.equal(p.responses[0]?.status, 200);
  assert.equal(be.requests.find((r) => r.method === 'POST')?.body.toString(), 'hello');
  assert.equal(n.responses[0]?.status, 404, 'the route left the table: 404');
  assert.equal(e.responses[0]?.status, 503, 'the route has no member left: 503');
  assert.equal(e.responses[0]?.header('retry-after'), '3');
  assert.equal(route.inflight.get('dead'), 0, 'the dead member was released');
  // Why they were answered: each of the four connects was aborted because its member left
  // (not timed out: the connect timeout is 60 s, longer than any wait here).
  const failed = h.logLines.filter((l) => l['msg'] === 'upstream attempt failed');
  assert.deepEqual(failed.map((l) => l['err']), ['PROXY_MEMBER_GONE', 'PROXY_MEMBER_GONE', 'PROXY_MEMBER_GONE', 'PROXY_MEMBER_GONE']);
  assert.deepEqual(h.proxy.upstreamOrigins(), [be.origin]);
});

test('a request waiting for headers from a member that leaves: GET is routed again, a POST that reached it gets 502 at once', async (t) => {
  const hang = await startRecordingBackend(() => { /* never answers */ });
  const be = await startRecordingBackend();
  const route = testRoute('app', [member('old', hang.origin)]);
  const h = await startProxy({ app: route }, { timeouts: SLOW });
  t.after(async () => { await h.close(); await hang.close(); await be.close(); });
  const get = rawRequest(h.port, 'GET /g HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n', ANSWER_MS);
  const post = rawRequest(h.port, 'POST /p HTTP/1.1\r\nHost: app\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi', ANSWER_MS);
  await hang.waitForRequests(2);
  route.members = [member('new', be.origin)];
  h.proxy.forgetOrigin(hang.origin, { abort: true });
  const [g, p] = await Promise.all([get, post]);
  assert.equal(g.responses[0]?.status, 200);
  assert.equal(p.responses[0]?.status, 502);
  assert.match(p.responses[0].body.toString(), /PROXY_UPSTREAM_RESET/);
  assert.deepEqual(be.requests.map((r) => r.target), ['/g'], 'the POST is never sent twice');
  await until(() => hang.open.size === 0, 10_000, 'the dead member\'s connections closed');
});

test('forgetOrigin without abort: a member that left but still answers finishes its in-flight request', async (t) => {
  let answer: (() => void) | undefined;
  const slow = await startRecordingBackend((_req, reply) => { answer = () => reply.send(200, {}, 'finished'); });
  const route = testRoute('app', [member('m', slow.origin)]);
  const h = await startProxy({ app: route });
  t.after(async () => { await h.close(); await slow.close(); });
  const r = rawRequest(h.port, 'GET / HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n', 10_000);
  await slow.waitForRequests(1);
  route.members = [];
  h.proxy.forgetOrigin(slow.origin);
  await new Promise((res) => setTimeout(res, 50));
  answer!();
  assert.equal((await r).responses[0]?.body.toString(), 'finished');
});

test('awaitMember: the only member refused; the route finds a new one and the request is served, not 502', async (t) => {
  const be = await startRecordingBackend();
  const dead = `http://127.0.0.1:${String(await closedPort())}`;
  const calls: { tried: string[]; signal: AbortSignal }[] = [];
  let changed: ((v: boolean) => void) | undefined;
  const route = testRoute('app', [member('old', dead)], {
    awaitMember(tried, signal) {
      calls.push({ tried: [...tried], signal });
      return new Promise<boolean>((resolve) => { changed = resolve; });
    },
  });
  const h = await startProxy({ app: route }, { timeouts: { idleMs: 300 } });
  t.after(async () => { await h.close(); await be.close(); });
  const r = rawRequest(h.port, 'POST /x HTTP/1.1\r\nHost: app\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc', 10_000);
  await until(() => changed !== undefined, 10_000, 'awaitMember');
  assert.deepEqual(calls[0]!.tried, ['old']);
  // held longer than the idle timeout: waiting for a member is not the client being slow
  await new Promise((res) => setTimeout(res, 500));
  route.members = [member('new', be.origin)];
  changed!(true);
  const res = await r;
  assert.equal(res.responses[0]?.status, 200);
  assert.equal(be.requests[0]!.body.toString(), 'abc');
  assert.deepEqual(route.begun, ['old', 'new']);
});

test('awaitMember: nothing changed → the first failure (502); client gone → the wait is aborted; a body already sent → no wait', async (t) => {
  const dead = `http://127.0.0.1:${String(await closedPort())}`;
  const signals: AbortSignal[] = [];
  let mode: 'false' | 'hang' = 'false';
  const awaitMember = (_tried: ReadonlySet<string>, signal: AbortSignal): Promise<boolean> => {
    signals.push(signal);
    return mode === 'false' ? Promise.resolve(false) : new Promise<boolean>((resolve) => signal.addEventListener('abort', () => resolve(false)));
  };
  const resetter = await startRecordingBackend((_req, reply) => reply.socket.resetAndDestroy());
  const h = await startProxy({
    app: testRoute('app', [member('old', dead)], { awaitMember }),
    reset: testRoute('reset', [member('r', resetter.origin)], { awaitMember }),
  });
  t.after(async () => { await h.close(); await resetter.close(); });

  const r = await rawRequest(h.port, 'GET / HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n', 10_000);
  assert.equal(r.responses[0]?.status, 502);
  assert.match(r.responses[0].body.toString(), /PROXY_UPSTREAM_CONNECT/);
  assert.equal(signals.length, 1);

  mode = 'hang';
  const s = await rawConnect(h.port);
  s.write('GET / HTTP/1.1\r\nHost: app\r\n\r\n');
  await until(() => signals.length === 2, 10_000, 'the second wait');
  s.destroy();
  await until(() => signals[1]!.aborted, 10_000, 'the wait aborted when the client left');
  await until(() => h.done.length === 2);
  assert.equal(h.done[1]!.status, 499);

  // a POST whose body reached the member is never resent, so there is nothing to wait for
  const p = await rawRequest(h.port, 'POST / HTTP/1.1\r\nHost: reset\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbody', 10_000);
  assert.equal(p.responses[0]?.status, 502);
  assert.equal(signals.length, 2, 'no awaitMember for a request whose body was sent');
});

test('an upstream that dies after its head but before any body byte: 502 (or a retry), never a connection closed without an answer', async (t) => {
  const dies = await startRecordingBackend((_req, reply) => {
    reply.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n');
    setTimeout(() => reply.socket.resetAndDestroy(), 30);
  });
  const other = await startRecordingBackend();
  const h = await startProxy({
    one: testRoute('one', [member('d', dies.origin)]),
    two: testRoute('two', [member('d', dies.origin), member('o', other.origin)]),
  });
  t.after(async () => { await h.close(); await dies.close(); await other.close(); });
  const one = await rawRequest(h.port, 'GET / HTTP/1.1\r\nHost: one\r\nConnection: close\r\n\r\n', 10_000);
  assert.equal(one.responses[0]?.status, 502, `got ${JSON.stringify(one.raw.toString())}`);
  assert.match(one.responses[0].body.toString(), /PROXY_UPSTREAM_RESET/);
  const two = await rawRequest(h.port, 'GET /t HTTP/1.1\r\nHost: two\r\nConnection: close\r\n\r\n', 10_000);
  assert.equal(two.responses[0]?.status, 200, 'an idempotent GET is retried on the other member');
  assert.equal(two.responses[0]?.body.toString(), 'ok GET /t');
});

test('a gate that holds longer than the idle timeout still gets its answer (the idle timer does not fire while held)', async (t) => {
  const be = await startRecordingBackend();
  const h = await startProxy({
    app: testRoute('app', [member('m', be.origin)], {
      gate: () => new Promise<'proceed'>((resolve) => setTimeout(() => resolve('proceed'), 600)),
    }),
  }, { timeouts: { idleMs: 200 } });
  t.after(async () => { await h.close(); await be.close(); });
  const s = await rawConnect(h.port);
  const done = collect(s, 10_000);
  s.write('GET /held HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n');
  const r = await done;
  assert.equal(r.responses[0]?.status, 200);
  assert.equal(r.responses[0]?.body.toString(), 'ok GET /held');
});

test('the only member resets twice (a container being killed): the GET waits for the route table, then 503 — not a 502, and not sent a third time', async (t) => {
  const dying = await startRecordingBackend((_req, reply) => reply.socket.resetAndDestroy());
  const calls: string[][] = [];
  const route = testRoute('app', [member('dying', dying.origin)], {
    retryAfterSec: 4,
    awaitMember(tried) {
      calls.push([...tried]);
      // Docker's die event: the member leaves the table
      return new Promise<boolean>((resolve) => setTimeout(() => {
        route.members = [];
        resolve(true);
      }, 100));
    },
  });
  const h = await startProxy({ app: route });
  t.after(async () => { await h.close(); await dying.close(); });
  const r = await rawRequest(h.port, 'GET /g HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n', 10_000);
  assert.equal(r.responses[0]?.status, 503, r.responses[0]?.body.toString());
  assert.equal(r.responses[0].header('retry-after'), '4');
  assert.deepEqual(calls, [['dying']]);
  assert.equal(dying.requests.length, 2, 'sent twice (fresh connection once), never a third time to the dying member');
  // Nothing changed in time: the 502 it was.
  route.members = [member('dying', dying.origin)];
  route.awaitMember = () => Promise.resolve(false);
  const r2 = await rawRequest(h.port, 'GET /g HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n', 10_000);
  assert.equal(r2.responses[0]?.status, 502);
  assert.match(r2.responses[0].body.toString(), /PROXY_UPSTREAM_RESET/);
});
