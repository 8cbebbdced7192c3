// Upstream pipelining (docs/proxy.md, "Pipelining"; rules in internal/proxy/pipeline-lane.ts)
// through real sockets: a raw backend that sees how many requests each connection carries
// before it answers. Pipelined only GET/HEAD to a member proven keep-alive, answers stay in
// order, never behind a slow request, never to a member that closes connections or opted out,
// and a pipelined connection that breaks costs the client nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { collect, rawConnect, rawRequest } from '../support/raw-client.ts';
import { member, startProxy, testRoute, until } from './proxy-harness.ts';

interface RawBackend {
  origin: string;
  /** Most requests ever waiting for their answer on one connection (2+ = pipelined). */
  maxOutstanding: number;
  requests: { conn: number; method: string; path: string }[];
  /** Paths held until released. */
  held: Map<string, () => void>;
  /** Connections closed at their closeAfter limit. */
  limitCloses: number;
  close(): Promise<void>;
}

/**
 * Answers in order, each after `delayMs`, with `body = <method> <path>`. `hold(path)`: wait for
 * release. `closeEach`: `Connection: close` and close after each answer. `breakAt`: destroy a
 * connection as soon as this many requests wait on it.
 */
async function rawBackend(opts: { delayMs?: number; hold?: (path: string) => boolean; closeEach?: boolean; closeAfter?: number; breakAt?: number; body?: (path: string) => Buffer | undefined } = {}): Promise<RawBackend> {
  const b: RawBackend = { origin: '', maxOutstanding: 0, requests: [], held: new Map(), limitCloses: 0, close: () => Promise.resolve() };
  let conns = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    const conn = conns++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf = '';
    let answered = 0;
    let ended = false;
    const queue: { method: string; path: string; ready: boolean }[] = [];
    const flush = (): void => {
      while (!ended && queue.length > 0 && queue[0]!.ready) {
        const r = queue.shift()!;
        const body = opts.body?.(r.path) ?? Buffer.from(`${r.method} ${r.path}`);
        // closeAfter: a requests-per-connection limit (nginx keepalive_requests): the last answer
        // says close, and requests written behind it on this connection are never answered
        const close = opts.closeEach === true || ++answered === opts.closeAfter;
        socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${String(body.length)}\r\n${close ? 'Connection: close\r\n' : ''}\r\n`);
        if (r.method !== 'HEAD') socket.write(body);
        if (close) {
          if (answered === opts.closeAfter) b.limitCloses++;
          ended = true;
          socket.end();
          return;
        }
      }
    };
    socket.on('data', (chunk: Buffer) => {
      buf += chunk.toString('latin1');
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) break;
        const head = buf.slice(0, end);
        const [method = '', path = ''] = head.split(' ');
        const len = /\r\ncontent-length: *(\d+)/i.exec(head);
        const bodyLen = len ? Number(len[1]) : 0;
        if (buf.length < end + 4 + bodyLen) break;
        buf = buf.slice(end + 4 + bodyLen);
        b.requests.push({ conn, method, path });
        const r = { method, path, ready: false };
        queue.push(r);
        b.maxOutstanding = Math.max(b.maxOutstanding, queue.length);
        if (opts.breakAt !== undefined && queue.length >= opts.breakAt) {
          socket.resetAndDestroy();
          return;
        }
        const answer = (): void => {
          r.ready = true;
          flush();
        };
        if (opts.hold?.(path) === true) b.held.set(path, answer);
        else setTimeout(answer, opts.delayMs ?? 20);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  b.origin = `http://127.0.0.1:${String((server.address() as net.AddressInfo).port)}`;
  b.close = () => new Promise<void>((r) => {
    for (const s of sockets) s.destroy();
    server.close(() => r());
  });
  return b;
}

const get = (port: number, host: string, path: string, method = 'GET'): Promise<{ status: number | undefined; body: string }> =>
  rawRequest(port, `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, 10_000)
    .then((r) => ({ status: r.responses[0]?.status, body: r.responses[0]?.body.toString() ?? '' }));

async function warmUp(port: number, host: string): Promise<void> {
  // the member proves keep-alive (three answers without Connection: close) one at a time
  for (let i = 0; i < 3; i++) assert.equal((await get(port, host, `/warm${String(i)}`)).status, 200);
}

test('GETs to a keep-alive member are pipelined, and every client gets its own answer', async (t) => {
  const be = await rawBackend();
  const h = await startProxy({ app: testRoute('app', [member('m', be.origin)]) });
  t.after(async () => { await h.close(); await be.close(); });
  await warmUp(h.port, 'app');
  assert.equal(be.maxOutstanding, 1, 'not before the member proved keep-alive');
  const paths = Array.from({ length: 30 }, (_, i) => `/p${String(i)}?q=${String(i)}`);
  const answers = await Promise.all(paths.map((p) => get(h.port, 'app', p)));
  assert.deepEqual(answers.map((a) => a.body), paths.map((p) => `GET ${p}`), 'answers in the right order for the right clients');
  assert.ok(be.maxOutstanding >= 2, `requests were pipelined (max ${String(be.maxOutstanding)} waiting on one connection)`);
  const heads = await Promise.all(paths.slice(0, 10).map((p) => get(h.port, 'app', p, 'HEAD')));
  assert.ok(heads.every((x) => x.status === 200));
});

test('never pipelined: POSTs, members that close their connections, members that opted out', async (t) => {
  const posts = await rawBackend();
  const closing = await rawBackend({ closeEach: true });
  const optedOut = await rawBackend();
  const h = await startProxy({
    posts: testRoute('posts', [member('p', posts.origin)]),
    closing: testRoute('closing', [member('c', closing.origin)]),
    off: testRoute('off', [{ ...member('o', optedOut.origin), pipelining: false }]),
  });
  t.after(async () => { await h.close(); await posts.close(); await closing.close(); await optedOut.close(); });
  await warmUp(h.port, 'posts');
  const p = await Promise.all(Array.from({ length: 20 }, (_, i) => rawRequest(h.port, `POST /f${String(i)} HTTP/1.1\r\nHost: posts\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi`, 10_000)));
  assert.ok(p.every((r) => r.responses[0]?.status === 200));
  assert.equal(posts.maxOutstanding, 1, 'a POST is never written behind another request');

  await warmUp(h.port, 'closing');
  const c = await Promise.all(Array.from({ length: 20 }, (_, i) => get(h.port, 'closing', `/c${String(i)}`)));
  assert.deepEqual(c.map((x) => x.body), Array.from({ length: 20 }, (_, i) => `GET /c${String(i)}`));
  assert.equal(closing.maxOutstanding, 1);
  assert.equal(h.logLines.filter((l) => String(l['msg']).startsWith('pipelining to the member paused')).length, 0,
    'a member never pipelined to is never reported as paused, however many connections it closes');

  await warmUp(h.port, 'off');
  const o = await Promise.all(Array.from({ length: 20 }, (_, i) => get(h.port, 'off', `/o${String(i)}`)));
  assert.ok(o.every((x) => x.status === 200));
  assert.equal(optedOut.maxOutstanding, 1, 'pipelining: false is respected');
});

test('never behind a slow request: while one waits on the pipelined connection, later GETs take other connections; a slow path is remembered', async (t) => {
  const be = await rawBackend({ hold: (p) => p === '/slow' });
  const h = await startProxy({ app: testRoute('app', [member('m', be.origin)]) }, { timeouts: { upstreamResponseMs: 60_000 } });
  t.after(async () => { await h.close(); await be.close(); });
  await warmUp(h.port, 'app');
  const slow = get(h.port, 'app', '/slow');
  await until(() => be.held.has('/slow'), 10_000, 'the slow request at the member');
  // the slow one has now waited longer than the lane's bound (a lower bound, not a speed claim)
  await new Promise((r) => setTimeout(r, 50));
  // Answers come in order on a connection: a GET queued behind /slow could not be answered
  // before /slow is. They all are, while /slow is still held.
  const fast = await Promise.all(Array.from({ length: 10 }, (_, i) => get(h.port, 'app', `/fast${String(i)}`)));
  assert.ok(fast.every((x, i) => x.body === `GET /fast${String(i)}`));
  be.held.get('/slow')!();
  assert.equal((await slow).body, 'GET /slow');
  // /slow is now known to be slow (pipeline-lane.test.ts shows the rule): the next one takes
  // the ordinary pool at once, and fast GETs sent right behind it are answered while it waits.
  be.held.delete('/slow');
  const again = get(h.port, 'app', '/slow');
  await until(() => be.held.has('/slow'), 10_000, 'the second slow request at the member');
  const fast2 = await Promise.all(Array.from({ length: 10 }, (_, i) => get(h.port, 'app', `/f${String(i)}`)));
  assert.ok(fast2.every((x, i) => x.body === `GET /f${String(i)}`));
  be.held.get('/slow')!();
  assert.equal((await again).body, 'GET /slow');
});

test('requests queued behind an answer that turns out slow are sent again on their own: answered while it still waits, the connection serves on', async (t) => {
  const be = await rawBackend({ hold: (p) => p.startsWith('/slow') });
  const h = await startProxy({ app: testRoute('app', [member('m', be.origin)]) }, { timeouts: { upstreamResponseMs: 60_000 } });
  t.after(async () => { await h.close(); await be.close(); });
  await warmUp(h.port, 'app');
  // A slow GET and fast ones right behind it: those sent within the lane's bound join its
  // connection. On a busy machine a round may straggle past it; then another one is tried.
  let slowConn = -1;
  let behind: string[] = [];
  let slowPath = '';
  let slow: Promise<{ status: number | undefined; body: string }> | undefined;
  for (let round = 0; round < 10 && behind.length === 0; round++) {
    slowPath = `/slow${String(round)}`;
    slow = get(h.port, 'app', slowPath);
    const fast = Array.from({ length: 8 }, (_, i) => `/q${String(round)}-${String(i)}`);
    // every fast GET is answered while the slow one is still held (none of them waits for it)
    const answers = await Promise.all(fast.map((p) => get(h.port, 'app', p)));
    assert.deepEqual(answers.map((a) => a.body), fast.map((p) => `GET ${p}`), 'each client its own answer, while the slow one waits');
    slowConn = be.requests.find((r) => r.path === slowPath)!.conn;
    behind = fast.filter((p) => be.requests.some((r) => r.path === p && r.conn === slowConn));
    if (behind.length === 0) {
      be.held.get(slowPath)!();
      await slow;
    }
  }
  assert.ok(behind.length > 0, 'fast GETs were pipelined behind the slow one');
  for (const p of behind) {
    assert.equal(be.requests.filter((r) => r.path === p).length, 2, `${p}: sent on the pipelined connection, then once more on its own`);
  }
  assert.ok(be.held.has(slowPath), 'the slow answer was still held');
  // the member was not blamed: no request failed for the client, and the lane stays open
  be.held.get(slowPath)!();
  assert.equal((await slow!).body, `GET ${slowPath}`, 'the slow request still gets its own answer');
  // the dropped answers were read off the connection: what comes next on it is in order
  const next = await Promise.all(Array.from({ length: 20 }, (_, i) => get(h.port, 'app', `/n${String(i)}`)));
  assert.deepEqual(next.map((a) => a.body), Array.from({ length: 20 }, (_, i) => `GET /n${String(i)}`));
  assert.equal(h.logLines.filter((l) => l['level'] === 50).length, 0, 'no error logged');
  assert.equal(h.logLines.filter((l) => String(l['msg']).startsWith('pipelining to the member paused')).length, 0, 'a rescue does not take the member off the lane');
});

/** A body whose every byte depends on its size, seed and offset: a piece out of place shows. */
function pattern(size: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed * 7 + (i >> 10)) & 255;
  return b;
}

test('large bodies pipelined to many clients, some reading slowly: every client gets its own body intact', async (t) => {
  // The pipelined connections read into one shared buffer (h1-pipeline.ts): a piece of a body
  // that a slow reader's socket still holds must never be overwritten by the reads after it.
  const be = await rawBackend({ delayMs: 1, body: (p) => {
    const m = /^\/b\/(\d+)\/(\d+)$/.exec(p);
    return m === null ? undefined : pattern(Number(m[1]), Number(m[2]));
  } });
  const h = await startProxy({ app: testRoute('app', [member('m', be.origin)]) });
  t.after(async () => { await h.close(); await be.close(); });
  await warmUp(h.port, 'app');
  const sizes = [16 * 1024, 16 * 1024 + 1, 50_000, 65_536, 65_537, 200_000, 1_000_000, 8 * 1024 * 1024];
  const fetchBody = async (size: number, seed: number, slow: boolean): Promise<Buffer> => {
    const s = await rawConnect(h.port);
    const done = collect(s, 60_000);
    s.write(`GET /b/${String(size)}/${String(seed)} HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n`);
    if (slow) {
      // stop reading until the proxy's writes to this client back up
      s.pause();
      await new Promise((r) => setTimeout(r, 300));
      s.resume();
    }
    const r = await done;
    s.destroy();
    assert.equal(r.responses[0]?.status, 200, `GET /b/${String(size)}/${String(seed)}`);
    return r.responses[0].body;
  };
  for (let round = 0; round < 3; round++) {
    const asks = sizes.flatMap((size, i) => [0, 1, 2].map((k) => ({ size, seed: round * 100 + i * 3 + k, slow: k === 0 && size >= 1_000_000 })));
    const bodies = await Promise.all(asks.map((a) => fetchBody(a.size, a.seed, a.slow)));
    asks.forEach((a, i) => {
      assert.ok(bodies[i]!.equals(pattern(a.size, a.seed)), `round ${String(round)}: body of ${String(a.size)} bytes, seed ${String(a.seed)}, intact${a.slow ? ' (slow reader)' : ''}`);
    });
  }
  assert.ok(be.maxOutstanding >= 2, `the large GETs were pipelined (max ${String(be.maxOutstanding)} on one connection)`);
});

test('a member with a requests-per-connection limit stays pipelined: each close is retried, every client gets its answer', async (t) => {
  const be = await rawBackend({ closeAfter: 100, delayMs: 2 });
  const h = await startProxy({ app: testRoute('app', [member('m', be.origin)]) });
  t.after(async () => { await h.close(); await be.close(); });
  await warmUp(h.port, 'app');
  let closesSeen = 0;
  for (let round = 0; round < 40; round++) {
    const paths = Array.from({ length: 20 }, (_, i) => `/r${String(round)}-${String(i)}`);
    const answers = await Promise.all(paths.map((p) => get(h.port, 'app', p)));
    assert.deepEqual(answers.map((a) => a.body), paths.map((p) => `GET ${p}`), `round ${String(round)}: each client its own answer`);
    if (closesSeen === 0 && be.limitCloses > 0) {
      // a connection has reached its limit: pipelining must go on after that
      closesSeen = be.limitCloses;
      be.maxOutstanding = 0;
    }
  }
  assert.ok(closesSeen > 0, 'the member closed a connection at its limit');
  assert.ok(be.maxOutstanding >= 2, `still pipelined after connections reached their limit (max ${String(be.maxOutstanding)} waiting on one)`);
});

test('a pipelined connection that breaks costs the clients nothing, and the member leaves the lane', async (t) => {
  const be = await rawBackend({ breakAt: 2 });
  const h = await startProxy({ app: testRoute('app', [member('m', be.origin)]) });
  t.after(async () => { await h.close(); await be.close(); });
  await warmUp(h.port, 'app');
  const first = await Promise.all(Array.from({ length: 20 }, (_, i) => get(h.port, 'app', `/a${String(i)}`)));
  assert.deepEqual(first.map((x) => x.body), Array.from({ length: 20 }, (_, i) => `GET /a${String(i)}`), 'each broken request was sent again on a fresh connection');
  const broken = h.logLines.filter((l) => l['msg'] === 'upstream attempt failed').length;
  assert.ok(broken >= 1, 'the pipelined connection did break');
  const sends = new Map<string, number>();
  for (const r of be.requests) sends.set(r.path, (sends.get(r.path) ?? 0) + 1);
  assert.deepEqual([...sends].filter(([, n]) => n > 2), [], 'no request was sent more than twice (once, and one retry)');
  const again = await Promise.all(Array.from({ length: 20 }, (_, i) => get(h.port, 'app', `/b${String(i)}`)));
  assert.ok(again.every((x) => x.status === 200));
  assert.equal(h.logLines.filter((l) => l['msg'] === 'upstream attempt failed').length, broken, 'no more pipelining to that member for now: nothing broke again');
  const paused = h.logLines.filter((l) => String(l['msg']).startsWith('pipelining to the member paused'));
  assert.equal(paused.length, 1, 'the stop is logged once, at info, naming the member');
  assert.equal(paused[0]!['level'], 30);
  assert.equal(paused[0]!['origin'], be.origin);
});

test('a member killed with requests pipelined on its connection: each is answered by the other member, none is sent to it twice', async (t) => {
  // Regression: undici fails only the head of a broken pipeline and queues the rest again for a
  // new connection to the same member; that connect is refused (the member is dead), and a
  // request already written once looked "sent, then refused" — a 502 instead of a retry.
  let holding = false;
  const dying = await rawBackend({ hold: () => holding });
  const other = await rawBackend();
  const h = await startProxy({ app: testRoute('app', [member('dying', dying.origin), member('other', other.origin)]) });
  t.after(async () => { await h.close(); await dying.close(); await other.close(); });
  await warmUp(h.port, 'app');
  assert.equal(other.requests.length, 0, 'the route picks `dying` first');
  // A batch of held GETs: those sent within the lane's bound share one connection. On a busy
  // machine a batch may straggle past it; then it is answered and another one tried.
  let batch: string[] = [];
  let pending: Promise<{ status: number | undefined; body: string }>[] = [];
  for (let round = 0; round < 10; round++) {
    holding = true;
    batch = Array.from({ length: 8 }, (_, i) => `/k${String(round)}-${String(i)}`);
    pending = batch.map((p) => get(h.port, 'app', p));
    await until(() => batch.every((p) => dying.held.has(p)), 10_000, 'the batch at the member');
    if (dying.maxOutstanding >= 2) break;
    holding = false;
    for (const p of batch) dying.held.get(p)!();
    await Promise.all(pending);
  }
  assert.ok(dying.maxOutstanding >= 2, `requests were pipelined (max ${String(dying.maxOutstanding)} on one connection)`);
  await dying.close(); // stops listening and resets every connection: a dead member
  const answers = await Promise.all(pending);
  assert.deepEqual(answers.map((a) => a.status), batch.map(() => 200), `every request answered: ${JSON.stringify(answers.filter((a) => a.status !== 200))}`);
  assert.deepEqual(answers.map((a) => a.body), batch.map((p) => `GET ${p}`), 'each client got its own answer');
  assert.deepEqual(other.requests.map((r) => r.path).sort(), [...batch].sort(), 'each request reached the other member once');
  const paths = dying.requests.map((r) => r.path);
  assert.equal(new Set(paths).size, paths.length, 'none reached the dying member twice');
});
