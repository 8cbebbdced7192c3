// HTTP/2 with prior knowledge over cleartext to one member (`scheme: h2c`, gRPC; docs/proxy.md,
// "h2c upstreams"). Speaks node:http2 directly and calls the same handler methods undici calls
// on the Exchange (onConnect, onHeaders, onData, onComplete, onError), so the Exchange does not
// know which one it is talking to.
//
// Why not undici's H2CClient: undici 7.30 completes an HTTP/2 request on the stream's
// 'trailers' event and drops the stream's 'data' listeners there; a response it had paused
// for a slow client still holds body bytes, and those are lost (seen: 48 KiB of a 4 MiB
// stream with grpc-status 0). Here the request completes on 'end', after every byte was read,
// with the trailers received on the way.
//
// Streams multiplex on one session; a session with as many open streams as the member allows
// (SETTINGS_MAX_CONCURRENT_STREAMS, at most MAX_STREAMS) gets a sibling, so thousands of
// long-lived gRPC streams (NetBird's signal and management) never queue behind each other.
// A session with no stream for SESSION_IDLE_MS is closed.
import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import type { Readable } from 'node:stream';
import { UpstreamError } from './upstream-error.ts';

const { connect: h2connect, constants } = process.getBuiltinModule('node:http2');

/** Streams Bellhop opens on one h2c connection before it opens another. */
export const MAX_STREAMS = 100;
/** An h2c connection with no stream for this long is closed. */
const SESSION_IDLE_MS = 30_000;

/** The Exchange's side of an h2c request: the legacy undici handler methods it already has. */
export interface H2cHandler {
  onConnect(abort: (err?: Error) => void): void;
  onHeaders(statusCode: number, rawHeaders: string[], resume: () => void, statusText: string): boolean;
  onData(chunk: Buffer): boolean;
  onComplete(trailers: Record<string, string | string[] | undefined> | null): void;
  onError(err: Error): void;
}

export interface H2cRequest {
  path: string;
  method: string;
  /** Flat name/value list as pkg/http built it (HTTP/1.1 names; Host becomes :authority). */
  headers: readonly string[];
  body: Readable | null;
}

export interface H2cTimeouts {
  connectMs: number;
  /** Time to the response head. */
  responseMs: number;
  /** No progress on a response body; not applied to gRPC responses (long-lived streams). */
  bodyIdleMs: number;
}

/** Fields HTTP/2 forbids (RFC 9113 §8.2.2); pkg/http dropped them already, this is the backstop. */
const FORBIDDEN: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host']);

function h2Headers(r: H2cRequest, fallbackAuthority: string): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  let authority = fallbackAuthority;
  const h = r.headers;
  for (let i = 0; i + 1 < h.length; i += 2) {
    const name = h[i]!.toLowerCase();
    const value = h[i + 1]!;
    if (name === 'host') authority = value;
    if (FORBIDDEN.has(name)) continue;
    // RFC 9113 §8.2.2: TE may be sent, with "trailers" only
    if (name === 'te') {
      if (value.toLowerCase().split(',').some((t) => t.trim() === 'trailers')) out.te = 'trailers';
      continue;
    }
    const had = out[name];
    if (had === undefined) out[name] = value;
    else if (Array.isArray(had)) had.push(value);
    else out[name] = [String(had), value];
  }
  out[constants.HTTP2_HEADER_METHOD] = r.method;
  out[constants.HTTP2_HEADER_PATH] = r.path;
  out[constants.HTTP2_HEADER_SCHEME] = 'http';
  out[constants.HTTP2_HEADER_AUTHORITY] = authority;
  return out;
}

function flatHeaders(h: IncomingHttpHeaders): string[] {
  const out: string[] = [];
  for (const [name, v] of Object.entries(h)) {
    if (name.charCodeAt(0) === 58 /* ':' */ || v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) out.push(name, x);
    else out.push(name, String(v));
  }
  return out;
}

function isGrpc(h: IncomingHttpHeaders): boolean {
  const ct = h['content-type'];
  return typeof ct === 'string' && ct.toLowerCase().startsWith('application/grpc');
}

interface Session {
  s: ClientHttp2Session;
  connected: boolean;
  /** Streams opened or waiting for the connection. */
  open: number;
  usable: boolean;
  /** Why the connection failed, for the requests that waited for it. */
  error?: Error | undefined;
  /** Requests made while the connection was being set up. */
  waiting: Array<{ r: H2cRequest; handler: H2cHandler }>;
}

/** One member origin's h2c connections; used by upstream-pools.ts in place of an undici Pool. */
export class H2cUpstream {
  readonly #origin: string;
  readonly #authority: string;
  readonly #t: H2cTimeouts;
  readonly #onError: (err: unknown) => void;
  readonly #sessions: Session[] = [];
  /** Requests in flight, to fail them on destroy(). */
  readonly #active = new Set<(err: Error) => void>();
  #closed = false;

  constructor(origin: string, timeouts: H2cTimeouts, onError: (err: unknown) => void) {
    const u = new URL(origin);
    if (u.protocol !== 'http:') throw new UpstreamError('UND_ERR_INVALID_ARG', `h2c needs an http:// origin, not ${origin}`);
    this.#origin = origin;
    this.#authority = u.host;
    this.#t = timeouts;
    this.#onError = onError;
  }

  /** Open connections (tests and the admin API). */
  get sessions(): number {
    return this.#sessions.length;
  }

  dispatch(r: H2cRequest, handler: H2cHandler): void {
    if (this.#closed) {
      handler.onError(new UpstreamError('UND_ERR_CLOSED', 'the h2c upstream is closed'));
      return;
    }
    const session = this.#pickSession();
    session.open++;
    if (session.connected) this.#start(session, r, handler);
    else session.waiting.push({ r, handler });
  }

  #pickSession(): Session {
    for (const x of this.#sessions) {
      if (!x.usable) continue;
      const remote = x.connected ? x.s.remoteSettings.maxConcurrentStreams ?? MAX_STREAMS : MAX_STREAMS;
      if (x.open < Math.min(MAX_STREAMS, remote)) return x;
    }
    return this.#newSession();
  }

  #newSession(): Session {
    const s = h2connect(this.#origin, { settings: { enablePush: false } });
    const x: Session = { s, connected: false, open: 0, usable: true, waiting: [] };
    this.#sessions.push(x);
    const timer = setTimeout(() => {
      x.error = new UpstreamError('UND_ERR_CONNECT_TIMEOUT', `h2c connect timeout after ${String(this.#t.connectMs)} ms`);
      s.destroy(x.error);
    }, this.#t.connectMs);
    timer.unref();
    s.once('connect', () => {
      clearTimeout(timer);
      x.connected = true;
      for (const w of x.waiting.splice(0)) this.#start(x, w.r, w.handler);
    });
    s.on('error', (err) => {
      x.error ??= err;
      this.#onError(err);
    });
    s.once('goaway', () => {
      x.usable = false;
    });
    s.once('close', () => {
      clearTimeout(timer);
      x.usable = false;
      const i = this.#sessions.indexOf(x);
      if (i !== -1) this.#sessions.splice(i, 1);
      // the connection never came up: nothing reached the member (a refused connect, a timeout)
      for (const w of x.waiting.splice(0)) {
        x.open--;
        w.handler.onError(x.error ?? new UpstreamError('UND_ERR_SOCKET', 'the h2c connection closed before it was up'));
      }
    });
    // idle: no frame for a while and no stream left
    // idle: no frame for SESSION_IDLE_MS with no stream open (re-armed when the last stream ends:
    // a quiet long-lived stream lets the timer fire once with a stream still open)
    s.on('timeout', () => {
      if (x.open === 0) {
        x.usable = false;
        s.close();
      }
    });
    s.setTimeout(SESSION_IDLE_MS);
    return x;
  }

  #start(x: Session, r: H2cRequest, handler: H2cHandler): void {
    let done = false;
    let stream: ClientHttp2Stream | undefined;
    let trailers: IncomingHttpHeaders | null = null;
    const release = (): void => {
      if (done) return;
      done = true;
      x.open--;
      this.#active.delete(fail);
      if (x.open === 0 && !x.s.destroyed) x.s.setTimeout(SESSION_IDLE_MS);
    };
    const fail = (err: Error): void => {
      if (done) return;
      release();
      if (r.body !== null && stream !== undefined) r.body.unpipe(stream);
      if (stream !== undefined && !stream.destroyed) stream.close(constants.NGHTTP2_CANCEL);
      handler.onError(err);
    };
    this.#active.add(fail);
    handler.onConnect((err) => fail(err ?? new UpstreamError('UND_ERR_ABORTED', 'request aborted')));
    if (done) return;
    try {
      stream = x.s.request(h2Headers(r, this.#authority), { endStream: r.body === null });
    } catch (err) {
      fail(new UpstreamError('UND_ERR_INVALID_ARG', `h2c request refused: ${(err as Error).message}`, err));
      return;
    }
    const st = stream;
    st.setTimeout(this.#t.responseMs, () => fail(new UpstreamError(gotHead ? 'UND_ERR_BODY_TIMEOUT' : 'UND_ERR_HEADERS_TIMEOUT', 'h2c upstream timeout')));
    let gotHead = false;
    st.once('response', (headers) => {
      if (done) return;
      gotHead = true;
      // a gRPC stream may stay quiet for minutes (docs/proxy.md): no body idle limit for it
      st.setTimeout(isGrpc(headers) ? 0 : this.#t.bodyIdleMs);
      const status = Number(headers[constants.HTTP2_HEADER_STATUS]);
      if (!handler.onHeaders(status, flatHeaders(headers), () => st.resume(), '')) st.pause();
      st.on('data', (chunk: Buffer) => {
        if (!done && !handler.onData(chunk)) st.pause();
      });
    });
    st.once('trailers', (t: IncomingHttpHeaders) => {
      trailers = t;
    });
    st.once('end', () => {
      if (done) return;
      if (!gotHead) {
        fail(new UpstreamError('UND_ERR_SOCKET', 'h2c stream ended without a response'));
        return;
      }
      release();
      handler.onComplete(trailers);
    });
    st.once('close', () => {
      if (done) return;
      // REFUSED_STREAM: the member did not process it (RFC 9113 §8.7), like a refused connect
      const code = st.rstCode === constants.NGHTTP2_REFUSED_STREAM && !gotHead ? 'ECONNREFUSED' : 'UND_ERR_SOCKET';
      fail(new UpstreamError(code, `h2c stream closed (code ${String(st.rstCode)})`));
    });
    st.on('error', (err: Error) => fail(new UpstreamError('UND_ERR_SOCKET', `h2c stream error: ${err.message}`, err)));
    if (r.body !== null) {
      const body = r.body;
      body.on('error', (err) => fail(err));
      body.pipe(st);
    }
  }

  /** Finish what is in flight, then close. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#sessions.map((x) => new Promise<void>((resolve) => {
      if (x.s.closed || x.s.destroyed) resolve();
      else x.s.close(() => resolve());
    })));
  }

  /** Fail everything in flight with `err` and close now. */
  destroy(err?: Error): Promise<void> {
    this.#closed = true;
    const e = err ?? new UpstreamError('UND_ERR_DESTROYED', 'the h2c upstream was destroyed');
    for (const f of [...this.#active]) f(e);
    for (const x of [...this.#sessions]) {
      x.error = e;
      x.s.destroy();
    }
    return Promise.resolve();
  }
}
