// A test backend on a raw `net` server: it records every byte the proxy sends and parses the
// requests with its own small, strict HTTP/1.1 parser (not node:http), so framing problems
// (a smuggled second request, a body sent without its length) show up as extra or malformed
// requests instead of being hidden by a shared parser.
import net from 'node:net';

export interface RecordedRequest {
  /** Connection number (0-based, in accept order). */
  conn: number;
  method: string;
  target: string;
  version: string;
  /** Header lines in order, names as sent. */
  headers: [string, string][];
  body: Buffer;
  /** First value of a header (case-insensitive). */
  header(name: string): string | undefined;
  /** All values of a header (case-insensitive). */
  headerAll(name: string): string[];
}

export interface Reply {
  socket: net.Socket;
  /** Write a complete response with Content-Length. */
  send(status: number, headers?: Record<string, string> | [string, string][], body?: string | Buffer): void;
  /** Stop HTTP parsing on this connection; later bytes go to `onData`. Returns bytes already buffered. */
  detach(onData: (chunk: Buffer) => void): Buffer;
}

/** Return 'async' when the handler answers later (or never). */
export type BackendHandler = (req: RecordedRequest, reply: Reply) => void;

export interface RecordingBackend {
  port: number;
  origin: string;
  requests: RecordedRequest[];
  /** Every byte received on each connection. */
  received: Buffer[];
  /** Parse errors seen (a request the parser could not frame). */
  parseErrors: string[];
  connections: number;
  /** Sockets currently open. */
  open: Set<net.Socket>;
  setHandler(h: BackendHandler): void;
  /** Resolves when the nth request (1-based) has arrived; rejects after `timeoutMs` (10 s). */
  waitForRequests(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const defaultHandler: BackendHandler = (req, reply) => {
  reply.send(200, { 'content-type': 'text/plain' }, `ok ${req.method} ${req.target}`);
};

function makeRequest(conn: number, method: string, target: string, version: string, headers: [string, string][], body: Buffer): RecordedRequest {
  return {
    conn, method, target, version, headers, body,
    header(name) {
      const l = name.toLowerCase();
      return headers.find(([k]) => k.toLowerCase() === l)?.[1];
    },
    headerAll(name) {
      const l = name.toLowerCase();
      return headers.filter(([k]) => k.toLowerCase() === l).map(([, v]) => v);
    },
  };
}

interface ParseResult { req: RecordedRequest; used: number }

/** Parse one request from `buf`; null = need more bytes; throws on malformed framing. */
function parseOne(conn: number, buf: Buffer): ParseResult | null {
  const end = buf.indexOf('\r\n\r\n');
  if (end === -1) {
    if (buf.length > 1 << 20) throw new Error('head too long');
    return null;
  }
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const reqLine = /^([A-Z]+) (\S+) (HTTP\/1\.[01])$/.exec(lines[0]!);
  if (reqLine === null) throw new Error(`bad request line: ${JSON.stringify(lines[0])}`);
  const headers: [string, string][] = [];
  for (const line of lines.slice(1)) {
    const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/.exec(line);
    if (m === null) throw new Error(`bad header line: ${JSON.stringify(line)}`);
    headers.push([m[1]!, m[2]!]);
  }
  const cls = headers.filter(([k]) => k.toLowerCase() === 'content-length');
  const tes = headers.filter(([k]) => k.toLowerCase() === 'transfer-encoding');
  if (cls.length > 0 && tes.length > 0) throw new Error('both content-length and transfer-encoding');
  if (cls.length > 1) throw new Error('duplicate content-length');
  let pos = end + 4;
  let body = Buffer.alloc(0);
  if (tes.length > 0) {
    if (tes.length > 1 || tes[0]![1].toLowerCase() !== 'chunked') throw new Error('bad transfer-encoding');
    const parts: Buffer[] = [];
    for (;;) {
      const le = buf.indexOf('\r\n', pos);
      if (le === -1) return null;
      const sizeText = buf.subarray(pos, le).toString('latin1').split(';')[0]!;
      if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) throw new Error(`bad chunk size ${JSON.stringify(sizeText)}`);
      const size = parseInt(sizeText, 16);
      pos = le + 2;
      if (size === 0) {
        // trailers until an empty line
        for (;;) {
          const te = buf.indexOf('\r\n', pos);
          if (te === -1) return null;
          const empty = te === pos;
          pos = te + 2;
          if (empty) break;
        }
        break;
      }
      if (buf.length < pos + size + 2) return null;
      parts.push(buf.subarray(pos, pos + size));
      if (buf[pos + size] !== 13 || buf[pos + size + 1] !== 10) throw new Error('chunk not followed by CRLF');
      pos += size + 2;
    }
    body = Buffer.concat(parts);
  } else if (cls.length === 1) {
    const v = cls[0]![1];
    if (!/^[0-9]+$/.test(v)) throw new Error('bad content-length');
    const n = Number(v);
    if (buf.length < pos + n) return null;
    body = Buffer.from(buf.subarray(pos, pos + n));
    pos += n;
  }
  return { req: makeRequest(conn, reqLine[1]!, reqLine[2]!, reqLine[3]!, headers, body), used: pos };
}

export async function startRecordingBackend(handler: BackendHandler = defaultHandler): Promise<RecordingBackend> {
  let h = handler;
  const requests: RecordedRequest[] = [];
  const received: Buffer[] = [];
  const parseErrors: string[] = [];
  const open = new Set<net.Socket>();
  const waiters: { n: number; resolve: () => void }[] = [];
  let connections = 0;
  const server = net.createServer((socket) => {
    const conn = connections++;
    open.add(socket);
    received[conn] = Buffer.alloc(0);
    let pending = Buffer.alloc(0);
    let raw: ((chunk: Buffer) => void) | undefined;
    socket.on('error', () => socket.destroy());
    socket.on('close', () => open.delete(socket));
    const reply: Reply = {
      socket,
      send(status, headers = {}, body = '') {
        const b = typeof body === 'string' ? Buffer.from(body) : body;
        const pairs = Array.isArray(headers) ? headers : Object.entries(headers);
        let head = `HTTP/1.1 ${status} X\r\n`;
        for (const [k, v] of pairs) head += `${k}: ${v}\r\n`;
        if (!pairs.some(([k]) => k.toLowerCase() === 'content-length' || k.toLowerCase() === 'transfer-encoding')) {
          head += `content-length: ${b.length}\r\n`;
        }
        if (!socket.destroyed) socket.write(Buffer.concat([Buffer.from(head + '\r\n', 'latin1'), b]));
      },
      detach(onData) {
        raw = onData;
        const rest = pending;
        pending = Buffer.alloc(0);
        return rest;
      },
    };
    socket.on('data', (chunk: Buffer) => {
      received[conn] = Buffer.concat([received[conn]!, chunk]);
      if (raw !== undefined) {
        raw(chunk);
        return;
      }
      pending = Buffer.concat([pending, chunk]);
      while (raw === undefined && pending.length > 0) {
        let r: ParseResult | null;
        try {
          r = parseOne(conn, pending);
        } catch (err) {
          parseErrors.push((err as Error).message);
          socket.destroy();
          return;
        }
        if (r === null) return;
        pending = pending.subarray(r.used);
        requests.push(r.req);
        for (const w of waiters.filter((x) => requests.length >= x.n)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
        h(r.req, reply);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    requests,
    received,
    parseErrors,
    get connections() { return connections; },
    open,
    setHandler(nh) { h = nh; },
    waitForRequests(n, timeoutMs = 10_000) {
      if (requests.length >= n) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`backend saw ${requests.length} requests, wanted ${n}`)), timeoutMs);
        waiters.push({ n, resolve: () => { clearTimeout(timer); resolve(); } });
      });
    },
    async close() {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
