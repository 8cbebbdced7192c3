// HTTP/2 requests enter the same Exchange as HTTP/1.1 ones (routing, gate, pick, retries,
// forwarding, errors, access log): node:http2's compatibility layer already hands out a
// request/response pair shaped like node:http's. Two gaps are closed here, once per request:
// - the request head: `rawHeaders` carries the pseudo-headers and no Host; the Exchange and
//   pkg/http read an HTTP/1.1 head, so the pseudo-headers go, `:authority` becomes Host and a
//   body without Content-Length is announced as chunked;
// - the response head: HTTP/2 forbids connection-specific fields (RFC 9113 §8.2.2), which
//   Bellhop's own answers and the drain add for HTTP/1.1 (`Connection: close`); they are dropped.
// Upstreams stay HTTP/1.1, so nothing else differs.
import type { Http2ServerRequest, Http2ServerResponse, OutgoingHttpHeaders } from 'node:http2';

const { constants: h2constants } = process.getBuiltinModule('node:http2');

/** Fields HTTP/2 does not carry (lower-case). */
const CONNECTION_SPECIFIC: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/** The request head as HTTP/1.1 would have it: no pseudo-headers, Host from `:authority`. */
export function h1Head(raw: readonly string[], bodyFollows: boolean): { rawHeaders: string[]; host: string | undefined; chunked: boolean } {
  const out: string[] = [];
  let authority: string | undefined;
  let host: string | undefined;
  let length = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name === 'content-length') length = true;
    if (name.charCodeAt(0) === 58 /* ':' */) {
      if (name === ':authority') authority = raw[i + 1];
      continue;
    }
    if (name === 'host') host = raw[i + 1];
    out.push(name, raw[i + 1]!);
  }
  // RFC 9113 §8.3.1: :authority wins; a Host field is only the fallback.
  if (authority !== undefined) {
    if (host !== undefined) {
      for (let i = 0; i < out.length; i += 2) if (out[i] === 'host') out[i + 1] = authority;
    } else out.unshift('host', authority);
    host = authority;
  }
  // HTTP/2 frames the body itself: a request whose HEADERS did not end the stream has one even
  // without Content-Length, and HTTP/1.1 says so with chunked framing (undici sends it so).
  const chunked = bodyFollows && !length;
  if (chunked) out.push('transfer-encoding', 'chunked');
  return { rawHeaders: out, host, chunked };
}

/** A head without HTTP/2's forbidden fields: a flat list or an object, as writeHead takes it. */
export function withoutConnectionFields(headers: readonly string[] | OutgoingHttpHeaders): string[] | OutgoingHttpHeaders {
  if (Array.isArray(headers)) {
    const flat = headers as readonly string[];
    const out: string[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      if (!CONNECTION_SPECIFIC.has(flat[i]!.toLowerCase())) out.push(flat[i]!, flat[i + 1]!);
    }
    return out;
  }
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (!CONNECTION_SPECIFIC.has(k.toLowerCase())) out[k] = v;
  return out;
}

type WriteHead = (status: number, headers?: readonly string[] | OutgoingHttpHeaders) => unknown;

/** Makes an HTTP/2 request/response pair look like HTTP/1.1's to the Exchange. */
export function adaptH2(req: Http2ServerRequest, res: Http2ServerResponse): void {
  const head = h1Head(req.rawHeaders, !req.stream.endAfterHeaders);
  Object.defineProperty(req, 'rawHeaders', { value: head.rawHeaders, configurable: true });
  if (head.host !== undefined) req.headers.host = head.host;
  if (head.chunked) req.headers['transfer-encoding'] = 'chunked';
  // From here on it is the HTTP/1.1 request it becomes upstream: the request checks
  // (pkg/http) judge it as one; the framing checks they make were done by node:http2 already.
  Object.defineProperty(req, 'httpVersion', { value: '1.1', configurable: true });
  const writeHead = res.writeHead.bind(res) as WriteHead;
  (res as unknown as { writeHead: WriteHead }).writeHead = (status, headers) =>
    headers === undefined ? writeHead(status) : writeHead(status, withoutConnectionFields(headers));
}

/** Adds Strict-Transport-Security to every answer on `res` (HTTPS only). */
export function addHsts(res: { writeHead: unknown }, value: string): void {
  const r = res as unknown as { writeHead: WriteHead };
  const original: WriteHead = r.writeHead;
  const writeHead: WriteHead = (status, headers) => original.call(res, status, headers);
  r.writeHead = (status, headers) => {
    if (headers === undefined) return writeHead(status, ['strict-transport-security', value]);
    if (Array.isArray(headers)) return writeHead(status, [...(headers as readonly string[]), 'strict-transport-security', value]);
    return writeHead(status, { ...(headers as OutgoingHttpHeaders), 'strict-transport-security': value });
  };
}

/**
 * Ends a response whose upstream failed mid-body so the client cannot take it for complete:
 * HTTP/1.1 closes the connection without the last chunk; HTTP/2 resets the stream with
 * INTERNAL_ERROR (RFC 9113 §8.1). A bare destroy() there sends RST_STREAM(NO_ERROR), which a
 * client (node:http2 for one) reads as the end of the body.
 */
export function abortResponse(res: { destroy(): unknown }): void {
  const stream = (res as { stream?: { close?: (code: number) => void; destroyed?: boolean } }).stream;
  if (stream?.close !== undefined && stream.destroyed !== true) stream.close(h2constants.NGHTTP2_INTERNAL_ERROR);
  else res.destroy();
}
