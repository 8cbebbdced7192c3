// A raw `net` client for inputs node:http refuses to send (duplicate Host, `//host` targets,
// padding headers, CL+TE, slow writes), with a small response parser that tells a complete
// response from a truncated one.
import net from 'node:net';

export interface RawResponse {
  status: number;
  headers: [string, string][];
  body: Buffer;
  /** The body ended by its framing (Content-Length reached or the final zero chunk). */
  complete: boolean;
  header(name: string): string | undefined;
}

export interface RawResult {
  /** Every byte received until the socket closed (or the wait ended). */
  raw: Buffer;
  /** True when the server closed (or reset) the connection. */
  closed: boolean;
  /** Milliseconds from the first write to close (or the end of the wait). */
  elapsedMs: number;
  /** Responses parsed from `raw`, in order. */
  responses: RawResponse[];
}

/** Parse responses from a byte stream; the last one may be incomplete. */
export function parseResponses(buf: Buffer, headRequest = false): RawResponse[] {
  const out: RawResponse[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const end = buf.indexOf('\r\n\r\n', pos);
    if (end === -1) break;
    const lines = buf.subarray(pos, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]!);
    if (m === null) break;
    const status = Number(m[1]);
    const headers: [string, string][] = lines.slice(1).map((l) => {
      const i = l.indexOf(':');
      return [l.slice(0, i), l.slice(i + 1).trim()] as [string, string];
    });
    const get = (n: string): string | undefined => headers.find(([k]) => k.toLowerCase() === n)?.[1];
    pos = end + 4;
    let body: Buffer = Buffer.alloc(0);
    let complete = false;
    if (headRequest || status === 204 || status === 304 || (status >= 100 && status < 200)) {
      complete = true;
    } else if (get('transfer-encoding')?.toLowerCase() === 'chunked') {
      const parts: Buffer[] = [];
      for (;;) {
        const le = buf.indexOf('\r\n', pos);
        if (le === -1) break;
        const size = parseInt(buf.subarray(pos, le).toString('latin1'), 16);
        if (Number.isNaN(size)) break;
        if (size === 0) {
          const fin = buf.indexOf('\r\n', le + 2);
          if (fin !== -1) { complete = true; pos = fin + 2; }
          else pos = buf.length;
          break;
        }
        if (buf.length < le + 2 + size + 2) {
          parts.push(buf.subarray(le + 2));
          pos = buf.length;
          break;
        }
        parts.push(buf.subarray(le + 2, le + 2 + size));
        pos = le + 2 + size + 2;
      }
      body = Buffer.concat(parts);
    } else if (get('content-length') !== undefined) {
      const n = Number(get('content-length'));
      body = buf.subarray(pos, Math.min(buf.length, pos + n));
      complete = body.length === n;
      pos += body.length;
    } else {
      body = buf.subarray(pos);
      pos = buf.length;
    }
    out.push({ status, headers, body, complete, header: get });
    if (!complete) break;
  }
  return out;
}

/** Open a raw connection. */
export function rawConnect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Collect what `socket` receives until it closes or `waitMs` passes. */
export function collect(socket: net.Socket, waitMs = 3000, headRequest = false): Promise<RawResult> {
  const start = Date.now();
  const chunks: Buffer[] = [];
  return new Promise((resolve) => {
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const raw = Buffer.concat(chunks);
      resolve({ raw, closed, elapsedMs: Date.now() - start, responses: parseResponses(raw, headRequest) });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
  });
}

/** Send exact bytes (latin1 when a string) and collect the answer. */
export async function rawRequest(port: number, data: string | Buffer, waitMs = 3000): Promise<RawResult> {
  const s = await rawConnect(port);
  const p = collect(s, waitMs, typeof data === 'string' && data.startsWith('HEAD '));
  s.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  const r = await p;
  s.destroy();
  return r;
}
