// One pipelined HTTP/1.1 connection to a member (docs/proxy.md, "Pipelining"): the requests
// pipeline-lane.ts lets through are written back to back, and the answers are read in order
// and handed to each request's handler — the same legacy handler methods undici calls on the
// Exchange (onConnect, onHeaders, onData, onComplete, onError), so the Exchange does not know
// which one it is talking to.
//
// Why not undici's Client (used until issue 18's fourth pass): on this path it cost ~16 % of
// the busy time under the benchmark (its wasm parser and the crossings into it, a Request
// object with header validation by regular expressions, its timers), and it resends the
// requests queued behind a broken pipeline on a new connection by itself, which the retry
// rules then had to undo. Here the response parser is Node's own (llhttp in C++, the one
// node:http's client uses: `_http_common`'s HTTPParser), the request head is one string, the
// requests of one event-loop turn leave in one write, no timer is set per request, and a
// broken connection fails every request still on it with PIPELINE_BROKEN, for the retry rules
// (retry-policy.ts) to decide.
//
// Only what the lane sends is spoken here: GET and HEAD without a body, no upgrade. A request
// whose client left is not allowed to break the others: its answer is read and dropped (or the
// connection closed when nothing is queued behind it).
import type { Socket } from 'node:net';
import { RESCUE_MS } from './pipeline-lane.ts';
import { PIPELINE_BROKEN, PIPELINE_STALLED } from './retry-policy.ts';
import { isToken } from '../../pkg/http/index.ts';
import { UpstreamError } from './upstream-error.ts';

const { connect: tcpConnect } = process.getBuiltinModule('node:net');
const { connect: tlsConnect } = process.getBuiltinModule('node:tls');
const { isIP } = process.getBuiltinModule('node:net');

/** Node's HTTP parser binding (`_http_common`), typed for what is used here. */
interface NodeHttpParser {
  initialize(type: number, resource: object, maxHeaderSize?: number, lenient?: number): void;
  execute(data: Buffer): number | Error;
  finish(): number | Error | undefined;
  close(): void;
  free(): void;
  [key: number]: unknown;
}
interface HttpParserClass {
  new(): NodeHttpParser;
  readonly RESPONSE: number;
  readonly kOnHeaders: number;
  readonly kOnHeadersComplete: number;
  readonly kOnBody: number;
  readonly kOnMessageComplete: number;
  readonly kOnExecute: number;
  readonly kLenientNone: number;
}
const { HTTPParser } = process.getBuiltinModule('_http_common') as unknown as { HTTPParser: HttpParserClass };

/** The Exchange's side of a request (the legacy undici handler methods it implements). */
export interface PipelinedHandler {
  onConnect(abort: (err?: Error) => void): void;
  onHeaders(statusCode: number, rawHeaders: string[], resume: () => void, statusText: string): boolean;
  onData(chunk: Buffer): boolean;
  onComplete(trailers: string[] | null): void;
  onError(err: Error): void;
}

export interface PipelinedRequest {
  path: string;
  method: 'GET' | 'HEAD';
  /** Flat name/value list as pkg/http built it. */
  headers: readonly string[];
}

export interface PipelineTimeouts {
  connectMs: number;
  /** No byte of the awaited answer's head for this long. */
  responseMs: number;
  /** No progress on an answer's body for this long. */
  bodyIdleMs: number;
  /** An idle connection (nothing in flight) is closed after this long. */
  idleMs: number;
}

/** The pipelined connection a request was on or queued for broke before its answer. */
export class PipelineBrokenError extends Error {
  readonly code = PIPELINE_BROKEN;
  constructor(cause: Error) {
    super(`the pipelined connection broke: ${cause.message}`, { cause });
    this.name = 'PipelineBrokenError';
  }
}

/** One request on the connection, from dispatch to its answer's end. */
interface InFlight {
  handler: PipelinedHandler;
  head: boolean;
  /** When it was dispatched (performance.now()). */
  since: number;
  /** The request head, until it is written. */
  bytes: string;
  /** The handler has had onConnect: its bytes may reach the member. */
  sent: boolean;
  /** Its client left: the answer is read and dropped. */
  dropped: boolean;
  /** Its answer's head arrived. */
  answering: boolean;
}

/** An idle connection is closed this long before the member's own Keep-Alive timeout. */
const KEEPALIVE_MARGIN_MS = 1_000;

/** Field values that cannot go on the wire as they are (RFC 9110 §5.5); names must be tokens. */
const BAD_VALUE = /[\0\r\n]/;
/** A request target is visible ASCII or obs-text (rules may rewrite it: it is checked here again). */
const BAD_PATH = /[^\u0021-\u00ff]/;

/**
 * The buffer every pipelined TCP connection reads into (net's `onread`): the parser copies the
 * body bytes it hands out, so nothing is kept from it, and reads allocate nothing.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/**
 * Live connections, looked over every SCAN_MS for their time limits (connect, answer head, body
 * progress, idle) and for requests stalled behind a slow answer: one interval for all of them,
 * so a request sets no timer and an answer moves none (a timer per connection, set again at
 * each answer, measured 1.02× the CPU per request in paired bench runs). Limits are kept to within SCAN_MS.
 */
const live = new Set<PipelinedConnection>();
const SCAN_MS = 50;
let scanner: NodeJS.Timeout | undefined;
function scan(): void {
  const now = performance.now();
  for (const c of live) c.tick(now);
}

/** Connections with request heads waiting to be written; flushed once per event-loop turn. */
const unflushed: PipelinedConnection[] = [];
let flushScheduled = false;
function flushAll(): void {
  flushScheduled = false;
  for (let i = 0; i < unflushed.length; i++) unflushed[i]!.flush();
  unflushed.length = 0;
}

export class PipelinedConnection {
  readonly #host: string;
  readonly #port: number;
  readonly #tls: { servername: string | undefined; rejectUnauthorized: boolean } | undefined;
  readonly #hostHeader: string;
  readonly #timeouts: PipelineTimeouts;
  /** Called once when the connection is over (closed, broken, destroyed): the owner drops it. */
  readonly #onEnd: (conn: PipelinedConnection, err: Error | undefined) => void;

  #socket: Socket | undefined;
  #parser: NodeHttpParser | undefined;
  #connected = false;
  #ended = false;
  /** Close once nothing is in flight (graceful close). */
  #closing = false;
  /** Requests in order; the answer being read is queue[0]. */
  readonly #queue: InFlight[] = [];
  /** Request heads written at the end of this turn. */
  #out = '';
  #listed = false;
  /** Header fields flushed by the parser before the head completed, or trailers. */
  #fields: string[] = [];
  /** The answer being read ends the connection (Connection: close, HTTP/1.0). */
  #lastAnswer = false;
  /** Idle limit: the configured one, or shorter when the member's Keep-Alive header says so. */
  #idleMs: number;
  /** Reading paused for a slow client. */
  #paused = false;
  #lastProgress = 0;
  /** Inside parser.execute(): the parser is freed after it returns, never from its own callback. */
  #executing = false;
  /** A protocol error found inside a parser callback, acted on after execute() returns. */
  #bad: Error | undefined;

  constructor(origin: string, tlsOptions: { rejectUnauthorized: boolean } | undefined, timeouts: PipelineTimeouts, onEnd: (conn: PipelinedConnection, err: Error | undefined) => void) {
    const url = new URL(origin);
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const secure = url.protocol === 'https:';
    this.#host = host;
    this.#port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
    this.#tls = secure ? { servername: isIP(host) === 0 ? host : undefined, rejectUnauthorized: tlsOptions?.rejectUnauthorized ?? true } : undefined;
    this.#hostHeader = url.host;
    this.#timeouts = timeouts;
    this.#idleMs = timeouts.idleMs;
    this.#onEnd = onEnd;
    live.add(this);
    scanner ??= setInterval(scan, SCAN_MS).unref();
  }

  /** Requests on the connection (written or not, answered or not yet). */
  get inFlight(): number {
    return this.#queue.length;
  }

  /** False once the connection is over or closing: the owner makes a new one. */
  get usable(): boolean {
    return !this.#ended && !this.#closing;
  }

  /**
   * Queue a request. Its head leaves with the others of this event-loop turn; onConnect tells
   * the handler when its bytes may reach the member (at once on a connected socket). A field
   * or path that cannot go on the wire fails the request at once with UND_ERR_INVALID_ARG.
   */
  dispatch(req: PipelinedRequest, handler: PipelinedHandler): void {
    if (!this.usable) {
      handler.onError(new PipelineBrokenError(new UpstreamError('UND_ERR_CLOSED', 'the pipelined connection is closed')));
      return;
    }
    if (BAD_PATH.test(req.path)) {
      handler.onError(new UpstreamError('UND_ERR_INVALID_ARG', 'invalid request path'));
      return;
    }
    let head = `${req.method} ${req.path} HTTP/1.1\r\n`;
    let host = false;
    const h = req.headers;
    for (let i = 0; i + 1 < h.length; i += 2) {
      const name = h[i]!;
      const value = h[i + 1]!;
      if (!isToken(name) || BAD_VALUE.test(value)) {
        handler.onError(new UpstreamError('UND_ERR_INVALID_ARG', `invalid request header ${JSON.stringify(name)}`));
        return;
      }
      if (name.length === 4 && name.toLowerCase() === 'host') host = true;
      head += `${name}: ${value}\r\n`;
    }
    head += host ? 'connection: keep-alive\r\n\r\n' : `host: ${this.#hostHeader}\r\nconnection: keep-alive\r\n\r\n`;
    const now = performance.now();
    const f: InFlight = { handler, head: req.method === 'HEAD', since: now, bytes: head, sent: false, dropped: false, answering: false };
    const q = this.#queue;
    q.push(f);
    if (q.length === 1) this.#lastProgress = now;
    if (this.#socket === undefined) this.#connect();
    else if (this.#connected) this.#send(f);
  }

  /** Writes a request head with this turn's others and tells its handler. */
  #send(f: InFlight): void {
    this.#out += f.bytes;
    f.bytes = '';
    f.sent = true;
    if (!this.#listed) {
      this.#listed = true;
      unflushed.push(this);
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flushAll);
      }
    }
    f.handler.onConnect((err) => this.#abort(f, err));
  }

  /** Writes this turn's request heads in one go (called from the shared flush). */
  flush(): void {
    this.#listed = false;
    const out = this.#out;
    this.#out = '';
    if (out !== '' && this.#socket !== undefined && !this.#ended) this.#socket.write(out, 'latin1');
  }

  #connect(): void {
    const t = this.#tls;
    const opts = { host: this.#host, port: this.#port, noDelay: true, keepAlive: true, keepAliveInitialDelay: 60_000 };
    const socket = t === undefined
      ? tcpConnect({ ...opts, onread: { buffer: READ_BUFFER, callback: (n: number, buf: Uint8Array) => this.#read(buf as Buffer, n) } })
      : tlsConnect({ ...opts, servername: t.servername, rejectUnauthorized: t.rejectUnauthorized, ALPNProtocols: ['http/1.1'] });
    this.#socket = socket;
    this.#lastProgress = performance.now();
    socket.once(t === undefined ? 'connect' : 'secureConnect', () => {
      if (this.#ended) return;
      this.#connected = true;
      this.#lastProgress = performance.now();
      const parser = (this.#parser = new HTTPParser());
      parser.initialize(HTTPParser.RESPONSE, {}, 0, HTTPParser.kLenientNone);
      parser[HTTPParser.kOnHeaders] = (fields: string[]) => {
        for (let i = 0; i < fields.length; i++) this.#fields.push(fields[i]!);
      };
      parser[HTTPParser.kOnHeadersComplete] = this.#onHead;
      parser[HTTPParser.kOnBody] = this.#onBody;
      parser[HTTPParser.kOnMessageComplete] = this.#onMessageComplete;
      parser[HTTPParser.kOnExecute] = null;
      // requests queued while connecting leave in order now
      for (const f of [...this.#queue]) if (!f.sent && !this.#ended) this.#send(f);
    });
    if (t !== undefined) socket.on('data', (chunk: Buffer) => this.#read(chunk, chunk.length));
    socket.on('end', () => this.#onEof());
    socket.on('error', (err: Error) => this.#fail(err));
    socket.on('close', () => this.#fail(new UpstreamError('UND_ERR_SOCKET', 'the member closed the connection')));
  }

  /** Bytes from the member: parsed at once (the TCP read buffer is shared). False pauses reading. */
  #read(buf: Buffer, n: number): boolean {
    this.#lastProgress = performance.now();
    const parser = this.#parser;
    if (parser === undefined || this.#ended) return true;
    this.#executing = true;
    const r = parser.execute(n === buf.length ? buf : buf.subarray(0, n));
    this.#executing = false;
    if (this.#ended) parser.close();
    else if (typeof r !== 'number') this.#fail(r, true);
    else if (this.#bad !== undefined) this.#fail(this.#bad, true);
    return !this.#paused;
  }

  #onEof(): void {
    const parser = this.#parser;
    if (parser !== undefined && !this.#ended) {
      // an answer without a length ends with the connection (HTTP/1.0 style)
      this.#executing = true;
      const r = parser.finish();
      this.#executing = false;
      if (this.#ended) {
        parser.close();
        return;
      }
      if (r instanceof Error) {
        // cut off mid-answer (a short body, a chunk cut): a broken connection, as undici reported
        // it (UND_ERR_SOCKET), not a bad answer — the retry rules treat it as a reset
        this.#fail(new UpstreamError('UND_ERR_SOCKET', 'the member closed the connection mid-answer', r));
        return;
      }
    }
    this.#fail(new UpstreamError('UND_ERR_SOCKET', 'the member closed the connection'));
  }

  readonly #onHead = (_vMajor: number, _vMinor: number, fields: string[] | undefined, _method: unknown, _url: unknown,
    status: number, statusText: string, upgrade: boolean, keepAlive: boolean): number => {
    // a head of more than 32 fields came in pieces (kOnHeaders); then none are passed here
    if (fields === undefined) {
      fields = this.#fields;
      this.#fields = [];
    }
    if (this.#ended) return 1;
    const f = this.#queue[0];
    // llhttp flags `upgrade` only when the 101 names Upgrade and Connection: upgrade; without
    // them it still stops at the head and the bytes after it in that read are never parsed
    if (f === undefined || upgrade || status === 101) {
      // an answer nobody asked for, or a switch of protocols on a GET: the stream cannot be trusted
      this.#bad ??= new UpstreamError('UND_ERR_SOCKET', f === undefined ? 'the member sent an answer nobody asked for' : 'the member switched protocols unasked');
      return 1;
    }
    if (status < 200) return 0; // 1xx interim answers: the real one follows
    f.answering = true;
    this.#lastAnswer = !keepAlive;
    for (let i = 0; i < fields.length; i += 2) {
      const name = fields[i]!;
      if (name.length === 10 && name.toLowerCase() === 'keep-alive') this.#keepAliveHint(fields[i + 1]!);
    }
    // resume() is the connection's: a late call from an answer already complete lets at most
    // one more read through before the answer now being read pauses it again
    if (!f.dropped) f.handler.onHeaders(status, fields, this.#resume, statusText);
    return f.head ? 1 : 0; // an answer to HEAD has no body whatever its length says
  };

  /**
   * `Keep-Alive: timeout=N`: the member closes connections idle for N seconds. Ours is closed
   * KEEPALIVE_MARGIN_MS before that, so a request is not written as the member closes it.
   */
  #keepAliveHint(value: string): void {
    const m = /timeout\s*=\s*(\d+)/i.exec(value);
    if (m === null) return;
    this.#idleMs = Math.max(0, Math.min(this.#timeouts.idleMs, Number(m[1]) * 1000 - KEEPALIVE_MARGIN_MS));
  }

  readonly #onBody = (chunk: Buffer): void => {
    const f = this.#queue[0];
    if (f === undefined || f.dropped || this.#ended) return;
    // reading pauses once this read is parsed (the rest of it is in the parser already)
    if (!f.handler.onData(chunk) && !this.#paused) {
      this.#paused = true;
      if (this.#tls !== undefined) this.#socket?.pause();
    }
  };

  readonly #resume = (): void => {
    if (!this.#paused) return;
    this.#paused = false;
    this.#lastProgress = performance.now();
    this.#socket?.resume();
  };

  readonly #onMessageComplete = (): void => {
    if (this.#ended) return;
    const f = this.#queue[0];
    if (f === undefined || !f.answering) return; // end of a 1xx interim answer
    this.#queue.shift();
    const trailers = this.#fields.length > 0 ? this.#fields : null;
    this.#fields = [];
    if (!f.dropped) f.handler.onComplete(trailers);
    if (this.#paused) this.#resume();
    if (this.#lastAnswer) {
      // Connection: close — the requests behind it will get no answer here
      this.#fail(new UpstreamError('UND_ERR_SOCKET', 'the member closed the connection after an answer'));
    } else if (this.#queue.length === 0) {
      if (this.#closing) this.#end(undefined);
      else this.#lastProgress = performance.now();
    }
  };

  /**
   * The answer at the head has taken RESCUE_MS or more (pipeline-lane.ts): the requests queued
   * behind it fail with PIPELINE_STALLED, and the retry rules send each again on a connection
   * of its own. Their answers here are still read, and dropped.
   */
  #rescue(now: number): void {
    const q = this.#queue;
    if (q.length < 2 || now - q[0]!.since < RESCUE_MS) return;
    for (let i = 1; i < q.length; i++) {
      const f = q[i]!;
      if (f.dropped) continue;
      f.dropped = true;
      f.handler.onError(new UpstreamError(PIPELINE_STALLED, 'the answer ahead on the pipelined connection is slow'));
    }
  }

  /** The handler gave up on its request (its client left, or its answer was refused). */
  #abort(f: InFlight, err: Error | undefined): void {
    if (f.dropped || this.#queue.indexOf(f) === -1) return;
    f.dropped = true;
    const q = this.#queue;
    if (q.length === 1) {
      // nothing behind it: closing the connection costs no one anything
      q.length = 0;
      this.#end(undefined);
    } else if (f === q[0] && this.#paused) this.#resume();
    f.handler.onError(err ?? new UpstreamError('UND_ERR_ABORTED', 'request aborted'));
  }

  /**
   * The connection broke. Requests written on it fail with PIPELINE_BROKEN (the retry rules
   * decide: one retry elsewhere or on a fresh connection); `own` errors (a bad answer, a parser
   * error) go as they are to the request whose answer was being read. Requests not written yet
   * get the bare error when it is a connect failure (nothing reached the member).
   */
  #fail(err: Error, own = false): void {
    if (this.#ended) return;
    const q = this.#queue.splice(0);
    // the member closing an idle connection is no error
    this.#end(q.length > 0 ? err : undefined);
    for (let i = 0; i < q.length; i++) {
      const f = q[i]!;
      if (f.dropped) continue;
      f.dropped = true;
      if (own && i === 0) f.handler.onError(err);
      else if (!f.sent && !this.#connected) f.handler.onError(err);
      else f.handler.onError(new PipelineBrokenError(err));
    }
  }

  #end(err: Error | undefined): void {
    if (this.#ended) return;
    this.#ended = true;
    live.delete(this);
    if (live.size === 0 && scanner !== undefined) {
      clearInterval(scanner);
      scanner = undefined;
    }
    const s = this.#socket;
    if (s !== undefined) {
      s.removeAllListeners('data');
      s.on('error', () => undefined);
      s.destroy();
    }
    const p = this.#parser;
    if (p !== undefined) {
      this.#parser = undefined;
      if (!this.#executing) p.close();
    }
    this.#onEnd(this, err);
  }

  /**
   * The connection's time limits, checked on the shared scan: connect, the awaited answer's
   * head, progress on its body (not while reading waits on a slow client: that is not the
   * member's fault), and the idle limit; then the stall rescue.
   */
  tick(now: number): void {
    if (this.#ended) return;
    const t = this.#timeouts;
    const q = this.#queue;
    const quiet = now - this.#lastProgress;
    if (!this.#connected) {
      if (quiet >= t.connectMs) this.#fail(new UpstreamError('UND_ERR_CONNECT_TIMEOUT', 'connecting to the member timed out'));
      return;
    }
    if (q.length === 0) {
      if (quiet >= this.#idleMs) this.#end(undefined);
      return;
    }
    if (!this.#paused) {
      const answering = q[0]!.answering;
      if (quiet >= (answering ? t.bodyIdleMs : t.responseMs)) {
        this.#fail(answering
          ? new UpstreamError('UND_ERR_BODY_TIMEOUT', 'the member stopped sending the answer')
          : new UpstreamError('UND_ERR_HEADERS_TIMEOUT', 'the member did not answer in time'), true);
        return;
      }
    }
    this.#rescue(now);
  }

  /** Close once the requests on it are answered. */
  close(): Promise<void> {
    this.#closing = true;
    if (this.#queue.length === 0) this.#end(undefined);
    return Promise.resolve();
  }

  /** Close now; every request still on it fails with `err`. */
  destroy(err?: Error): Promise<void> {
    if (this.#ended) return Promise.resolve();
    const q = this.#queue.splice(0);
    this.#end(err);
    for (const f of q) {
      if (f.dropped) continue;
      f.dropped = true;
      f.handler.onError(err ?? new UpstreamError('UND_ERR_DESTROYED', 'the pipelined connection was closed'));
    }
    return Promise.resolve();
  }
}
