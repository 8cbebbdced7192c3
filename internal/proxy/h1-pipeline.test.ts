// PipelinedConnection (h1-pipeline.ts) against real loopback members written with node:net and
// node:tls: each test's member is a raw socket the test answers byte by byte, so it can send
// exactly the bytes it wants, split where it hurts, stall, close or reset.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import net from 'node:net';
import tls from 'node:tls';
import { PipelinedConnection, type PipelinedHandler, type PipelinedRequest, type PipelineTimeouts } from './h1-pipeline.ts';
import { PIPELINE_BROKEN, PIPELINE_STALLED } from './retry-policy.ts';
import { makeTestCert, type TestCert } from '../../test/support/test-certs.ts';

const TIMEOUTS: PipelineTimeouts = { connectMs: 2000, responseMs: 2000, bodyIdleMs: 2000, idleMs: 4000 };

// ---- the member side ----

/** One connection the member accepted: what it received, and ways to answer. */
class Peer {
  readonly socket: net.Socket;
  /** Every byte received (latin1). */
  received = '';
  /** One entry per read: how the requests were split on the wire. */
  readonly reads: string[] = [];
  /** Resolves when the socket is closed (by either side). */
  readonly closed: Promise<void>;
  /** The proxy's side ended its half (FIN) or reset. */
  sawEnd = false;
  #waiters: (() => void)[] = [];

  constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('error', () => undefined);
    socket.on('data', (b: Buffer) => {
      const s = b.toString('latin1');
      this.reads.push(s);
      this.received += s;
      for (const w of this.#waiters.splice(0)) w();
    });
    socket.on('end', () => {
      this.sawEnd = true;
    });
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  /** The request heads received so far (GET/HEAD: no bodies). */
  heads(): string[] {
    return this.received.split('\r\n\r\n').slice(0, -1);
  }

  /** Waits until `n` request heads have arrived. */
  async requests(n: number): Promise<string[]> {
    while (this.heads().length < n) await new Promise<void>((resolve) => this.#waiters.push(resolve));
    return this.heads();
  }

  write(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Writes one byte at a time, letting the event loop (and so the reader) run between bytes. */
  async dribble(data: string): Promise<void> {
    for (let i = 0; i < data.length; i++) {
      this.socket.write(Buffer.from(data[i]!, 'latin1'));
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}

interface Member {
  port: number;
  origin: string;
  /** The `i`-th connection the member accepted (waits for it). */
  peer(i?: number): Promise<Peer>;
  accepted: Peer[];
}

/** A member on 127.0.0.1:0 (TLS with `cert`), closed with every socket it accepted after the test. */
async function member(t: TestContext, cert?: TestCert, host = '127.0.0.1'): Promise<Member> {
  const accepted: Peer[] = [];
  let waiters: (() => void)[] = [];
  const onSocket = (s: net.Socket): void => {
    accepted.push(new Peer(s));
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  const server = cert === undefined ? net.createServer(onSocket) : tls.createServer({ cert: cert.certPem, key: cert.keyPem }, onSocket);
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  t.after(() => {
    for (const p of accepted) p.socket.destroy();
    server.close();
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    origin: `${cert === undefined ? 'http' : 'https'}://${net.isIPv6(host) ? `[${host}]` : host}:${port}`,
    accepted,
    async peer(i = 0) {
      while (accepted.length <= i) await new Promise<void>((resolve) => waiters.push(resolve));
      return accepted[i]!;
    },
  };
}

/** A port with nothing listening on it. */
async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** An answer with a Content-Length body. */
function answer(body: string, status = '200 OK', fields: string[] = []): string {
  return `HTTP/1.1 ${status}\r\n${fields.map((f) => `${f}\r\n`).join('')}content-length: ${Buffer.byteLength(body, 'latin1')}\r\n\r\n${body}`;
}

/** An answer with a chunked body (each string one chunk) and optional trailer lines. */
function chunked(chunks: string[], trailers: string[] = [], status = '200 OK'): string {
  const body = chunks.map((c) => `${c.length.toString(16)}\r\n${c}\r\n`).join('');
  return `HTTP/1.1 ${status}\r\ntransfer-encoding: chunked\r\n\r\n${body}0\r\n${trailers.map((f) => `${f}\r\n`).join('')}\r\n`;
}

// ---- the proxy side ----

type Call = 'connect' | 'headers' | 'data' | 'complete' | 'error';

/** A PipelinedHandler that records what the connection told it. */
class Recorder implements PipelinedHandler {
  /** Calls in order; consecutive onData calls count once. */
  readonly calls: Call[] = [];
  status = 0;
  statusText = '';
  headers: string[] = [];
  readonly chunks: Buffer[] = [];
  trailers: string[] | null | undefined;
  error: (Error & { code?: string }) | undefined;
  abort: ((err?: Error) => void) | undefined;
  resume: (() => void) | undefined;
  /** What onData answers: false asks the connection to pause reading. */
  dataReturns: (chunk: Buffer) => boolean = () => true;
  /** Resolves at onComplete or onError. */
  readonly done: Promise<void>;
  #settle!: () => void;
  #waiters: { call: Call; resolve: () => void }[] = [];

  constructor() {
    this.done = new Promise((resolve) => (this.#settle = resolve));
  }

  #record(call: Call): void {
    if (!(call === 'data' && this.calls.at(-1) === 'data')) this.calls.push(call);
    this.#waiters = this.#waiters.filter((w) => {
      if (w.call !== call) return true;
      w.resolve();
      return false;
    });
  }

  /** Resolves once `call` has happened. */
  when(call: Call): Promise<void> {
    if (this.calls.includes(call)) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ call, resolve }));
  }

  get body(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }

  get bytes(): number {
    let n = 0;
    for (const c of this.chunks) n += c.length;
    return n;
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abort = abort;
    this.#record('connect');
  }

  onHeaders(statusCode: number, rawHeaders: string[], resume: () => void, statusText: string): boolean {
    this.status = statusCode;
    this.statusText = statusText;
    this.headers = rawHeaders;
    this.resume = resume;
    this.#record('headers');
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    this.#record('data');
    return this.dataReturns(chunk);
  }

  onComplete(trailers: string[] | null): void {
    this.trailers = trailers;
    this.#record('complete');
    this.#settle();
  }

  onError(err: Error): void {
    this.error = err;
    this.#record('error');
    this.#settle();
  }
}

interface Conn {
  conn: PipelinedConnection;
  /** Every onEnd call's error (undefined: a clean end). */
  ends: (Error | undefined)[];
  /** Resolves at the first onEnd with its error. */
  ended: Promise<Error | undefined>;
}

function connection(t: TestContext, origin: string, opts: { tls?: { rejectUnauthorized: boolean }; timeouts?: Partial<PipelineTimeouts> } = {}): Conn {
  const ends: (Error | undefined)[] = [];
  let resolveEnded!: (err: Error | undefined) => void;
  const ended = new Promise<Error | undefined>((resolve) => (resolveEnded = resolve));
  const conn = new PipelinedConnection(origin, opts.tls, { ...TIMEOUTS, ...opts.timeouts }, (c, err) => {
    assert.equal(c, conn);
    ends.push(err);
    resolveEnded(err);
  });
  t.after(() => conn.destroy());
  return { conn, ends, ended };
}

function get(path: string, headers: string[] = []): PipelinedRequest {
  return { method: 'GET', path, headers };
}

/** Dispatches each request with a fresh Recorder, all in this turn. */
function send(conn: PipelinedConnection, reqs: PipelinedRequest[]): Recorder[] {
  return reqs.map((req) => {
    const r = new Recorder();
    conn.dispatch(req, r);
    return r;
  });
}

function codeOf(r: Recorder): string | undefined {
  return r.error?.code;
}

/**
 * `p`, or a failure naming `what` after a generous 5 s: for outcomes that would otherwise wait
 * on a longer timer (never a measure of how fast something happens).
 */
async function settles<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within 5 s`)), 5000);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Every limit but the ones a test sets is out of reach: the outcome must come from those. */
const FAR = { connectMs: 600_000, responseMs: 600_000, bodyIdleMs: 600_000, idleMs: 600_000 };

function sha(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

// ---- writing requests ----

test('requests dispatched in one turn leave in one write, in order, with host added only when missing and connection: keep-alive', async (t) => {
  const m = await member(t);
  const { conn } = connection(t, m.origin);
  const first = send(conn, [get('/a', ['x-n', '1']), get('/b?q=2', ['Host', 'example.test', 'x-n', '2']), { method: 'HEAD', path: '/c', headers: [] }]);
  const peer = await m.peer();
  const heads = await peer.requests(3);
  assert.equal(peer.reads.length, 1, 'the three heads came in one read');
  assert.deepEqual(heads, [
    `GET /a HTTP/1.1\r\nx-n: 1\r\nhost: 127.0.0.1:${m.port}\r\nconnection: keep-alive`,
    'GET /b?q=2 HTTP/1.1\r\nHost: example.test\r\nx-n: 2\r\nconnection: keep-alive',
    `HEAD /c HTTP/1.1\r\nhost: 127.0.0.1:${m.port}\r\nconnection: keep-alive`,
  ]);
  for (const r of first) assert.deepEqual(r.calls, ['connect']);

  // on a connected socket too: the next turn's requests share one write
  peer.write(answer('a') + answer('b') + 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n');
  await Promise.all(first.map((r) => r.done));
  const second = send(conn, [get('/d'), get('/e'), get('/f')]);
  await peer.requests(6);
  assert.equal(peer.reads.length, 2, 'the next three heads came in one read');
  assert.deepEqual(peer.heads().slice(3).map((h) => h.split('\r\n')[0]), ['GET /d HTTP/1.1', 'GET /e HTTP/1.1', 'GET /f HTTP/1.1']);
  peer.write(answer('d') + answer('e') + answer('f'));
  await Promise.all(second.map((r) => r.done));
  assert.deepEqual([...first, ...second].map((r) => r.body), ['a', 'b', '', 'd', 'e', 'f']);
});

test('answers written in one chunk go to the right handlers in order: status, reason, flat headers, bodies', async (t) => {
  const m = await member(t);
  const { conn } = connection(t, m.origin);
  const rs = send(conn, [get('/1'), get('/2'), get('/3')]);
  const peer = await m.peer();
  await peer.requests(3);
  peer.write(answer('one', '200 OK', ['X-A: 1', 'Set-Cookie: a=1', 'Set-Cookie: b=2'])
    + answer('two!', '404 Not Found', ['content-type: text/plain'])
    + chunked(['th', 'r', 'ee'], [], '201 Created'));
  await Promise.all(rs.map((r) => r.done));
  const [a, b, c] = rs as [Recorder, Recorder, Recorder];
  assert.deepEqual(a.calls, ['connect', 'headers', 'data', 'complete']);
  assert.equal(a.status, 200);
  assert.equal(a.statusText, 'OK');
  assert.deepEqual(a.headers, ['X-A', '1', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'content-length', '3']);
  assert.equal(a.body, 'one');
  assert.equal(a.trailers, null);
  assert.equal(b.status, 404);
  assert.equal(b.statusText, 'Not Found');
  assert.deepEqual(b.headers, ['content-type', 'text/plain', 'content-length', '4']);
  assert.equal(b.body, 'two!');
  assert.equal(c.status, 201);
  assert.deepEqual(c.headers, ['transfer-encoding', 'chunked']);
  assert.equal(c.body, 'three');
  assert.equal(c.trailers, null);
  assert.equal(conn.usable, true);
  assert.equal(conn.inFlight, 0);
});

// ---- reading answers ----

test('answers split byte by byte parse the same: Content-Length, chunked, chunked with trailers', async (t) => {
  const m = await member(t);
  const { conn } = connection(t, m.origin);
  const rs = send(conn, [get('/1'), get('/2'), get('/3')]);
  const peer = await m.peer();
  await peer.requests(3);
  await peer.dribble(answer('hello world', '200 OK', ['x-a: 1'])
    + chunked(['abc', 'defgh'])
    + chunked(['x'.repeat(20)], ['grpc-status: 0', 'grpc-message: fine']));
  await Promise.all(rs.map((r) => r.done));
  const [a, b, c] = rs as [Recorder, Recorder, Recorder];
  assert.deepEqual(a.calls, ['connect', 'headers', 'data', 'complete']);
  assert.deepEqual(a.headers, ['x-a', '1', 'content-length', '11']);
  assert.equal(a.body, 'hello world');
  assert.equal(b.body, 'abcdefgh');
  assert.equal(b.trailers, null);
  assert.equal(c.body, 'x'.repeat(20));
  assert.deepEqual(c.trailers, ['grpc-status', '0', 'grpc-message', 'fine']);
});

test('more than 32 header fields (flushed by the parser in pieces) all arrive in order, in one chunk or byte by byte; so do 40 trailers', async (t) => {
  const m = await member(t);
  const { conn } = connection(t, m.origin);
  const fields = Array.from({ length: 70 }, (_, i) => `x-field-${i}: value ${i}`);
  const trailers = Array.from({ length: 40 }, (_, i) => `x-trailer-${i}: t${i}`);
  const flat = (lines: string[]): string[] => lines.flatMap((l) => l.split(': '));

  const [whole] = send(conn, [get('/whole')]) as [Recorder];
  const peer = await m.peer();
  await peer.requests(1);
  peer.write(answer('body', '200 OK', fields));
  await whole.done;
  assert.deepEqual(whole.headers, [...flat(fields), 'content-length', '4']);

  const [split] = send(conn, [get('/split')]) as [Recorder];
  await peer.requests(2);
  await peer.dribble(answer('body', '200 OK', fields));
  await split.done;
  assert.deepEqual(split.headers, [...flat(fields), 'content-length', '4']);
  assert.equal(split.body, 'body');

  const [withTrailers] = send(conn, [get('/trailers')]) as [Recorder];
  await peer.requests(3);
  await peer.dribble(chunked(['abc'], trailers));
  await withTrailers.done;
  assert.equal(withTrailers.body, 'abc');
  assert.deepEqual(withTrailers.trailers, flat(trailers));
});

test('HEAD: an answer stating Content-Length: 100 has no body, and the next answer parses right; so does a 304 with a length', async (t) => {
  const m = await member(t);
  const { conn } = connection(t, m.origin);
  const rs = send(conn, [{ method: 'HEAD', path: '/h', headers: [] }, get('/cached'), get('/next')]);
  const peer = await m.peer();
  await peer.requests(3);
  peer.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n'
    + 'HTTP/1.1 304 Not Modified\r\ncontent-length: 100\r\netag: "x"\r\n\r\n'
    + answer('after'));
  await Promise.all(rs.map((r) => r.done));
  const [head, cached, next] = rs as [Recorder, Recorder, Recorder];
  assert.deepEqual(head.calls, ['connect', 'headers', 'complete']);
  assert.deepEqual(head.headers, ['content-length', '100']);
  assert.deepEqual(cached.calls, ['connect', 'headers', 'complete']);
  assert.equal(cached.status, 304);
  assert.equal(next.status, 200);
  assert.equal(next.body, 'after');
  assert.equal(conn.usable, true);
});

test('1xx interim answers (100, 103 with fields, an unknown 1xx) are skipped: the handler sees only the final answer', async (t) => {
  const m = await member(t);
  const { conn } = connection(t, m.origin);
  const rs = send(conn, [get('/1'), get('/2')]);
  const peer = await m.peer();
  await peer.requests(2);
  await peer.dribble('HTTP/1.1 100 Continue\r\n\r\n'
    + 'HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\n'
    + answer('first', '200 OK', ['link: </a.css>; rel=preload']));
  peer.write('HTTP/1.1 150 Whatever\r\nx-interim: 1\r\n\r\n' + answer('second'));
  await Promise.all(rs.map((r) => r.done));
  const [a, b] = rs as [Recorder, Recorder];
  assert.deepEqual(a.calls, ['connect', 'headers', 'data', 'complete']);
  assert.equal(a.status, 200);
  assert.deepEqual(a.headers, ['link', '</a.css>; rel=preload', 'content-length', '5']);
  assert.equal(a.body, 'first');
  assert.deepEqual(b.calls, ['connect', 'headers', 'data', 'complete']);
  assert.equal(b.status, 200);
  assert.deepEqual(b.headers, ['content-length', '6']);
  assert.equal(b.body, 'second');
});

// ---- the member ending the connection ----

test('Connection: close on the second of three answers: two complete, the third fails with PIPELINE_BROKEN, the connection ends', async (t) => {
  const m = await member(t);
  const { conn, ended } = connection(t, m.origin);
  const rs = send(conn, [get('/1'), get('/2'), get('/3')]);
  const peer = await m.peer();
  await peer.requests(3);
  peer.write(answer('one') + answer('two', '200 OK', ['connection: close']));
  await Promise.all(rs.map((r) => r.done));
  const [a, b, c] = rs as [Recorder, Recorder, Recorder];
  assert.equal(a.body, 'one');
  assert.equal(b.body, 'two');
  assert.deepEqual(b.calls, ['connect', 'headers', 'data', 'complete']);
  assert.deepEqual(c.calls, ['connect', 'error']);
  assert.equal(codeOf(c), PIPELINE_BROKEN);
  assert.ok(await ended, 'the end carries the error');
  assert.equal(conn.usable, false);
  await peer.closed;
});

for (const how of ['FIN', 'RST'] as const) {
  test(`the member closing (${how}) mid-body fails the answer being read and the ones behind it with PIPELINE_BROKEN`, async (t) => {
    const m = await member(t);
    const { conn, ended } = connection(t, m.origin);
    const rs = send(conn, [get('/1'), get('/2'), get('/3')]);
    const peer = await m.peer();
    await peer.requests(3);
    const [a, b, c] = rs as [Recorder, Recorder, Recorder];
    peer.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial');
    await a.when('data');
    if (how === 'FIN') peer.socket.end();
    else peer.socket.resetAndDestroy();
    await Promise.all(rs.map((r) => r.done));
    assert.deepEqual(a.calls, ['connect', 'headers', 'data', 'error']);
    assert.equal(a.body, 'partial');
    assert.equal(codeOf(a), PIPELINE_BROKEN, `first: ${a.error?.message}`);
    assert.equal(codeOf(b), PIPELINE_BROKEN);
    assert.equal(codeOf(c), PIPELINE_BROKEN);
    assert.ok(await ended);
    assert.equal(conn.usable, false);
  });
}

test('a chunked answer cut off by the member (FIN) fails with PIPELINE_BROKEN too', async (t) => {
  const m = await member(t);
  const { conn } = connection(t, m.origin);
  const [a] = send(conn, [get('/1')]) as [Recorder];
  const peer = await m.peer();
  await peer.requests(1);
  peer.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nab');
  await a.when('data');
  peer.socket.end();
  await a.done;
  assert.deepEqual(a.calls, ['connect', 'headers', 'data', 'error']);
  assert.equal(codeOf(a), PIPELINE_BROKEN, `${a.error?.message}`);
});

test('an answer without a length ends with the connection (FIN) and completes', async (t) => {
  const m = await member(t);
  const { conn, ended } = connection(t, m.origin);
  const [a] = send(conn, [get('/1')]) as [Recorder];
  const peer = await m.peer();
  await peer.requests(1);
  peer.write('HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nuntil the end');
  await a.when('data');
  peer.socket.end();
  await a.done;
  assert.deepEqual(a.calls, ['connect', 'headers', 'data', 'complete']);
  assert.equal(a.body, 'until the end');
  await ended;
  assert.equal(conn.usable, false);
});

test('connect refused: every request fails with ECONNREFUSED and never had onConnect', async (t) => {
  const port = await deadPort();
  const { conn, ended } = connection(t, `http://127.0.0.1:${port}`);
  const rs = send(conn, [get('/1'), get('/2')]);
  await Promise.all(rs.map((r) => r.done));
  for (const r of rs) {
    assert.deepEqual(r.calls, ['error']);
    assert.equal(codeOf(r), 'ECONNREFUSED');
  }
  assert.equal((await ended as Error & { code?: string }).code, 'ECONNREFUSED');
  assert.equal(conn.usable, false);
});

test('a dispatch on an ended connection fails at once with PIPELINE_BROKEN, nothing sent', async (t) => {
  const m = await member(t);
  const { conn, ended } = connection(t, m.origin);
  await conn.close();
  await ended;
  const [r] = send(conn, [get('/late')]) as [Recorder];
  assert.deepEqual(r.calls, ['error']);
  assert.equal(codeOf(r), PIPELINE_BROKEN);
  assert.equal(m.accepted.length, 0);
});

// ---- answers that cannot be trusted ----

test('a garbage answer fails the first request with the parser error (HPE_*) and the others with PIPELINE_BROKEN', async (t) => {
  const m = await member(t);
  const { conn, ended } = connection(t, m.origin);
  const rs = send(conn, [get('/1'), get('/2')]);
  const peer = await m.peer();
  await peer.requests(2);
  peer.write('HTTP/1.1 abc\r\n\r\n');
  await Promise.all(rs.map((r) => r.done));
  const [a, b] = rs as [Recorder, Recorder];
  assert.deepEqual(a.calls, ['connect', 'error']);
  assert.match(codeOf(a) ?? '', /^HPE_/);
  assert.equal(codeOf(b), PIPELINE_BROKEN);
  await ended;
  await peer.closed;
});

test('an answer nobody asked for (a second answer to one request) ends the connection without failing the answered one', async (t) => {
  const m = await member(t);
  const { conn, ended } = connection(t, m.origin);
  const [a] = send(conn, [get('/1')]) as [Recorder];
  const peer = await m.peer();
  await peer.requests(1);
  peer.write(answer('mine') + answer('nobody asked'));
  assert.equal(await ended, undefined, 'nothing was in flight: a clean end');
  assert.deepEqual(a.calls, ['connect', 'headers', 'data', 'complete']);
  assert.equal(a.body, 'mine');
  assert.equal(conn.usable, false);
  await peer.closed;
});

test('an answer arriving on an idle connection ends it', async (t) => {
  const m = await member(t);
  const { conn, ended } = connection(t, m.origin);
  const [a] = send(conn, [get('/1')]) as [Recorder];
  const peer = await m.peer();
  await peer.requests(1);
  peer.write(answer('mine'));
  await a.done;
  assert.equal(conn.usable, true);
  peer.write(answer('late'));
  assert.equal(await ended, undefined);
  assert.equal(conn.usable, false);
  await peer.closed;
});

for (const variant of ['with Upgrade fields', 'without Upgrade fields'] as const) {
  test(`a 101 Switching Protocols answer to a GET (${variant}) fails the connection, and the answer after it is not taken for the GET's`, async (t) => {
    const m = await member(t);
    const { conn, ended } = connection(t, m.origin);
    const rs = send(conn, [get('/1'), get('/2')]);
    const peer = await m.peer();
    await peer.requests(2);
    const fields = variant === 'with Upgrade fields' ? 'upgrade: websocket\r\nconnection: upgrade\r\n' : '';
    peer.write(`HTTP/1.1 101 Switching Protocols\r\n${fields}\r\n` + answer('not for you') + answer('nor you'));
    await Promise.all(rs.map((r) => r.done));
    const [a, b] = rs as [Recorder, Recorder];
    assert.deepEqual(a.calls, ['connect', 'error']);
    assert.ok(codeOf(a) !== undefined);
    assert.equal(codeOf(b), PIPELINE_BROKEN);
    assert.ok(await ended);
    assert.equal(conn.usable, false);
  });
}

// ---- the handler giving up ----

test('aborting the only request: onError at once with the given error, the connection closes cleanly', async (t) => {
  const m = await member(t);
  const { conn, ended, ends } = connection(t, m.origin);
  const [a] = send(conn, [get('/1')]) as [Recorder];
  const peer = await m.peer();
  await peer.requests(1);
  const why = new Error('client left');
  a.abort!(why);
  assert.deepEqual(a.calls, ['connect', 'error'], 'synchronously');
  assert.equal(a.error, why);
  assert.deepEqual(ends, [undefined]);
  assert.equal(await ended, undefined);
  a.abort!(new Error('twice')); // a second abort is a no-op
  assert.equal(a.error, why);
  await peer.closed;
  peer.write(answer('too late')); // nothing listens: no crash
});

test('aborting the first of three: its answer is read and dropped, the others get theirs, the connection stays usable', async (t) => {
  const m = await member(t);
  const { conn, ends } = connection(t, m.origin);
  const rs = send(conn, [get('/1'), get('/2'), get('/3')]);
  const [a, b, c] = rs as [Recorder, Recorder, Recorder];
  const peer = await m.peer();
  await peer.requests(3);
  a.abort!();
  assert.equal(codeOf(a), 'UND_ERR_ABORTED');
  assert.equal(conn.inFlight, 3, 'its answer is still to be read');
  peer.write(answer('dropped') + answer('two'));
  await b.done;
  await peer.dribble(answer('three'));
  await c.done;
  assert.deepEqual(a.calls, ['connect', 'error']);
  assert.equal(b.body, 'two');
  assert.equal(c.body, 'three');
  assert.equal(conn.usable, true);
  assert.equal(conn.inFlight, 0);
  assert.deepEqual(ends, []);
});

test('aborting the answer being read mid-body: the rest of its body is dropped, the next request gets its answer', async (t) => {
  const m = await member(t);
  const { conn } = connection(t, m.origin);
  const [a, b] = send(conn, [get('/1'), get('/2')]) as [Recorder, Recorder];
  const peer = await m.peer();
  await peer.requests(2);
  peer.write('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n01234');
  await a.when('data');
  a.abort!();
  peer.write('56789' + answer('next'));
  await b.done;
  assert.deepEqual(a.calls, ['connect', 'headers', 'data', 'error']);
  assert.equal(a.body, '01234');
  assert.equal(b.body, 'next');
  assert.equal(conn.usable, true);
});

test('an answer slower than RESCUE_MS: the requests behind it fail with PIPELINE_STALLED, their answers are read and dropped', async (t) => {
  const m = await member(t);
  const { conn } = connection(t, m.origin);
  const [slow, b, c] = send(conn, [get('/slow'), get('/2'), get('/3')]) as [Recorder, Recorder, Recorder];
  const peer = await m.peer();
  await peer.requests(3);
  await settles(Promise.all([b.done, c.done]), 'the rescue');
  assert.equal(codeOf(b), PIPELINE_STALLED);
  assert.equal(codeOf(c), PIPELINE_STALLED);
  assert.deepEqual(slow.calls, ['connect']);
  peer.write(answer('slow') + answer('two') + answer('three'));
  await slow.done;
  assert.equal(slow.body, 'slow');
  const [d] = send(conn, [get('/4')]) as [Recorder];
  await peer.requests(4);
  peer.write(answer('four'));
  await d.done;
  assert.equal(d.body, 'four', 'the dropped answers were skipped, not taken for this one');
  assert.deepEqual(b.calls, ['connect', 'error']);
});

// ---- backpressure ----

const BIG = 16 * 1024 * 1024; // beyond what loopback socket buffers hold: the member's writes stall

function bigBody(): Buffer {
  const b = Buffer.allocUnsafe(BIG);
  for (let i = 0; i < BIG; i += 4) b.writeUInt32LE((i * 2654435761) >>> 0, i);
  return b;
}

for (const secure of [false, true]) {
  test(`backpressure${secure ? ' (TLS)' : ''}: onData returning false pauses reading until resume, and the body arrives intact`, async (t) => {
    const cert = secure ? makeTestCert(['localhost']) : undefined;
    const m = await member(t, cert);
    const { conn } = connection(t, m.origin, secure ? { tls: { rejectUnauthorized: false }, timeouts: { bodyIdleMs: 100 } } : { timeouts: { bodyIdleMs: 100 } });
    const [a] = send(conn, [get('/big')]) as [Recorder];
    let pause = true;
    a.dataReturns = () => !pause;
    const peer = await m.peer();
    await peer.requests(1);
    const body = bigBody();
    peer.write(`HTTP/1.1 200 OK\r\ncontent-length: ${BIG}\r\n\r\n`);
    peer.write(body);
    await a.when('data');
    // An absence cannot be awaited: give the reader a while to (wrongly) read on. Three times
    // bodyIdleMs: a paused read is the client's slowness, not the member's, and must not time out.
    await sleep(300);
    assert.ok(a.bytes < BIG / 2, `reading paused: ${a.bytes} of ${BIG} bytes read`);
    assert.ok(peer.socket.writableLength > 0, 'the member cannot write the rest');
    assert.deepEqual(a.calls, ['connect', 'headers', 'data']);
    pause = false;
    a.resume!();
    await a.done;
    assert.deepEqual(a.calls, ['connect', 'headers', 'data', 'complete'], `${a.error?.message}`);
    assert.equal(a.bytes, BIG);
    assert.equal(sha(Buffer.concat(a.chunks)), sha(body));
    assert.equal(conn.usable, true);
  });
}

test('aborting a paused answer resumes reading: its body is dropped and the request behind it is answered', async (t) => {
  const m = await member(t);
  const { conn } = connection(t, m.origin);
  const [a, b] = send(conn, [get('/big'), get('/next')]) as [Recorder, Recorder];
  a.dataReturns = () => false;
  const peer = await m.peer();
  await peer.requests(2);
  peer.write(`HTTP/1.1 200 OK\r\ncontent-length: ${BIG}\r\n\r\n`);
  peer.write(bigBody());
  peer.write(answer('next'));
  await a.when('data');
  a.abort!();
  await b.done;
  assert.equal(b.body, 'next');
  assert.equal(conn.usable, true);
});

// ---- timeouts (outcomes only, never durations) ----

test('no answer within responseMs: the first request fails with UND_ERR_HEADERS_TIMEOUT, the rest with PIPELINE_BROKEN', async (t) => {
  const m = await member(t);
  const { conn, ended } = connection(t, m.origin, { timeouts: { ...FAR, responseMs: 100 } });
  const rs = send(conn, [get('/1'), get('/2')]);
  await settles(Promise.all(rs.map((r) => r.done)), 'the headers timeout');
  const [a, b] = rs as [Recorder, Recorder];
  assert.equal(codeOf(a), 'UND_ERR_HEADERS_TIMEOUT');
  assert.equal(codeOf(b), PIPELINE_BROKEN, `${b.error?.message}`);
  assert.ok(await ended);
  await (await m.peer()).closed;
});

test('a body that stalls for bodyIdleMs fails with UND_ERR_BODY_TIMEOUT', async (t) => {
  const m = await member(t);
  const { conn, ended } = connection(t, m.origin, { timeouts: { ...FAR, bodyIdleMs: 100 } });
  const [a] = send(conn, [get('/1')]) as [Recorder];
  const peer = await m.peer();
  await peer.requests(1);
  peer.write('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc');
  await settles(a.done, 'the body timeout');
  assert.deepEqual(a.calls, ['connect', 'headers', 'data', 'error']);
  assert.equal(codeOf(a), 'UND_ERR_BODY_TIMEOUT');
  assert.ok(await ended);
  await peer.closed;
});

test('an idle connection is closed after idleMs: the member sees the close, onEnd without error', async (t) => {
  const m = await member(t);
  const { conn, ended } = connection(t, m.origin, { timeouts: { ...FAR, idleMs: 100 } });
  const [a] = send(conn, [get('/1')]) as [Recorder];
  const peer = await m.peer();
  await peer.requests(1);
  peer.write(answer('ok'));
  await a.done;
  assert.equal(await settles(ended, 'the idle close'), undefined);
  await peer.closed;
  assert.equal(peer.sawEnd, true);
  assert.equal(conn.usable, false);
});

test('Keep-Alive: timeout=1 from the member closes the idle connection before the member would', async (t) => {
  const m = await member(t);
  const { conn, ended } = connection(t, m.origin, { timeouts: FAR });
  const [a] = send(conn, [get('/1')]) as [Recorder];
  const peer = await m.peer();
  await peer.requests(1);
  peer.write(answer('ok', '200 OK', ['keep-alive: timeout=1']));
  await a.done;
  assert.equal(await settles(ended, 'the close the Keep-Alive hint asks for'), undefined);
  await peer.closed;
});

// ---- requests that cannot go on the wire ----

test('a header value with CR/LF, a bad header name or a bad path fail with UND_ERR_INVALID_ARG, nothing written; the next request is served', async (t) => {
  const m = await member(t);
  const { conn } = connection(t, m.origin);
  const bad = send(conn, [
    get('/1', ['x-evil', 'a\r\nx-injected: 1']),
    get('/2', ['bad name', 'v']),
    get('/3', ['x-nul', 'a\0b']),
    get('/a b'),
    get('/\r\nx: y'),
  ]);
  for (const r of bad) {
    assert.deepEqual(r.calls, ['error']);
    assert.equal(codeOf(r), 'UND_ERR_INVALID_ARG');
  }
  const [ok] = send(conn, [get('/ok', ['x-fine', 'caf\u00e9'])]) as [Recorder];
  const peer = await m.peer();
  await peer.requests(1);
  peer.write(answer('served'));
  await ok.done;
  assert.equal(ok.body, 'served');
  assert.deepEqual(peer.heads(), [`GET /ok HTTP/1.1\r\nx-fine: caf\u00e9\r\nhost: 127.0.0.1:${m.port}\r\nconnection: keep-alive`]);
  assert.ok(!peer.received.includes('injected'));
  assert.equal(conn.usable, true);
});

// ---- TLS ----

test('an IPv6 member ([::1]): connected by its bare address, Host keeps the brackets', async (t) => {
  const m = await member(t, undefined, '::1');
  const { conn } = connection(t, m.origin);
  const rs = send(conn, [get('/6')]);
  const peer = await m.peer();
  const [head] = await peer.requests(1);
  assert.match(head!, new RegExp(`\\r\\nhost: \\[::1\\]:${String(m.port)}\\r\\n`, 'i'));
  peer.write(answer('six'));
  await rs[0]!.done;
  assert.equal(rs[0]!.body, 'six');
});

test('TLS member: pipelined GETs work with rejectUnauthorized: false', async (t) => {
  const m = await member(t, makeTestCert(['localhost']));
  const { conn } = connection(t, m.origin, { tls: { rejectUnauthorized: false } });
  const rs = send(conn, [get('/1'), get('/2'), get('/3')]);
  const peer = await m.peer();
  await peer.requests(3);
  assert.equal(peer.reads.length, 1, 'the three heads came in one read');
  await peer.dribble(answer('one') + chunked(['tw', 'o']));
  peer.write(answer('three'));
  await Promise.all(rs.map((r) => r.done));
  assert.deepEqual(rs.map((r) => r.body), ['one', 'two', 'three']);
  assert.equal(conn.usable, true);
});

test('TLS member with a self-signed certificate and default verification: the requests fail, never onConnect', async (t) => {
  const m = await member(t, makeTestCert(['localhost']));
  const { conn, ended } = connection(t, m.origin);
  const rs = send(conn, [get('/1'), get('/2')]);
  await Promise.all(rs.map((r) => r.done));
  for (const r of rs) {
    assert.deepEqual(r.calls, ['error']);
    assert.match(codeOf(r) ?? '', /SELF_SIGNED|CERT/);
  }
  assert.ok(await ended);
});

// ---- closing ----

test('close() with requests in flight: they complete, then the connection ends; new dispatches are refused', async (t) => {
  const m = await member(t);
  const { conn, ended, ends } = connection(t, m.origin);
  const rs = send(conn, [get('/1'), get('/2')]);
  const peer = await m.peer();
  await peer.requests(2);
  await conn.close();
  assert.equal(conn.usable, false);
  assert.deepEqual(ends, []);
  const [late] = send(conn, [get('/late')]) as [Recorder];
  assert.equal(codeOf(late), PIPELINE_BROKEN);
  peer.write(answer('one'));
  await rs[0]!.done;
  assert.deepEqual(ends, [], 'one still in flight');
  peer.write(answer('two'));
  assert.equal(await ended, undefined);
  assert.deepEqual(rs.map((r) => r.body), ['one', 'two']);
  await peer.closed;
  assert.equal(peer.heads().length, 2);
});

test('destroy(err) fails every request in flight with err and ends the connection', async (t) => {
  const m = await member(t);
  const { conn, ended } = connection(t, m.origin);
  const rs = send(conn, [get('/1'), get('/2')]);
  const peer = await m.peer();
  await peer.requests(2);
  peer.write('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc');
  await rs[0]!.when('data');
  const why = new Error('member gone');
  await conn.destroy(why);
  for (const r of rs) assert.equal(r.error, why);
  assert.equal(await ended, why);
  await peer.closed;
});

// ---- many connections ----

test('two connections dispatched to in one turn both write their requests (the shared flush covers every connection)', async (t) => {
  const [m1, m2] = await Promise.all([member(t), member(t)]);
  const c1 = connection(t, m1.origin);
  const c2 = connection(t, m2.origin);
  const [a] = send(c1.conn, [get('/one')]) as [Recorder];
  const [b] = send(c2.conn, [get('/two')]) as [Recorder];
  const [p1, p2] = await Promise.all([m1.peer(), m2.peer()]);
  await Promise.all([p1.requests(1), p2.requests(1)]);
  p1.write(answer('1'));
  p2.write(answer('2'));
  await Promise.all([a.done, b.done]);
  // and once connected, in one turn
  const [a2] = send(c1.conn, [get('/one-again')]) as [Recorder];
  const [b2] = send(c2.conn, [get('/two-again')]) as [Recorder];
  await Promise.all([p1.requests(2), p2.requests(2)]);
  p1.write(answer('3'));
  p2.write(answer('4'));
  await Promise.all([a2.done, b2.done]);
  assert.deepEqual([a.body, b.body, a2.body, b2.body], ['1', '2', '3', '4']);
  assert.match(p1.heads()[1]!, /^GET \/one-again /);
  assert.match(p2.heads()[1]!, /^GET \/two-again /);
});
