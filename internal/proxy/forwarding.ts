// Glue between node:http and the shared per-request rules: pkg/realip decides who the client is,
// pkg/http builds the header blocks. This file adds only what the proxy itself needs: the
// per-connection part cached on the socket (peer address and trust are the same for every
// request of a keep-alive connection), the sticky cookie filter, `Expect`, and the facts the
// pick context wants (client IP, https, Cookie).
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { buildUpstreamHeaders, stripHopByHop } from '../../pkg/http/index.ts';
import { clientIpByRule, resolveClient, type ClientAddress, type ClientIpRule, type TrustedProxies } from '../../pkg/realip/index.ts';
import type { ProxyAnswerCode } from './proxy-errors.ts';
import type { ProxyRoute } from './router.ts';

const kPeer = Symbol('bellhop.peer');
const kPeerTrusted = Symbol('bellhop.peerTrusted');
type PeerSocket = Socket & { [kPeer]?: ClientAddress | undefined; [kPeerTrusted]?: TrustedProxies };

/**
 * The socket's peer as pkg/realip sees it (canonical address, trusted or not), computed once
 * per connection and trusted set. Undefined when the socket has no remote address any more (closed).
 */
export function peerOf(socket: Socket, trusted: TrustedProxies): ClientAddress | undefined {
  const s = socket as PeerSocket;
  let p = s[kPeer];
  // A reload may swap the trusted set; a keep-alive connection is judged by the current one.
  if (p === undefined || s[kPeerTrusted] !== trusted) {
    p = resolveClient(socket.remoteAddress, undefined, trusted);
    if (p !== undefined) {
      s[kPeer] = p;
      s[kPeerTrusted] = trusted;
    }
  }
  return p;
}

/** What the pipeline learns while building the upstream header block. */
export interface ForwardingFacts {
  /** Header block for undici (flat name/value array). */
  headers: string[];
  /** The request has a body to stream (Content-Length other than 0, or chunked). */
  hasBody: boolean;
  /** Real client IP (trusted-proxy aware). */
  clientIp: string;
  /** TLS, or a trusted peer said `X-Forwarded-Proto: https`. */
  secure: boolean;
  /** The Cookie lines as received (joined with `; `), before the sticky cookie is removed. */
  cookie: string | undefined;
}

function firstToken(v: string): string {
  const comma = v.indexOf(',');
  return (comma === -1 ? v : v.slice(0, comma)).trim().toLowerCase();
}

/**
 * Upstream headers and pick facts for a request that passed `checkRequest`. Node has already built `req.headers` (it reads Host and Expect
 * for every HTTP/1.1 request), so single header lookups here cost a property read.
 */
export function upstreamHeaders(
  req: IncomingMessage, peer: ClientAddress, trusted: TrustedProxies, route: ProxyRoute | undefined, rule?: ClientIpRule,
): ForwardingFacts {
  const h = req.headers;
  const tls = (req.socket as { encrypted?: boolean } | null)?.encrypted === true;
  let clientIp = peer.clientIp;
  let secure = tls;
  if (peer.peerTrusted) {
    const xff = h['x-forwarded-for'];
    if (xff !== undefined) clientIp = resolveClient(peer.peerIp, xff, trusted)?.clientIp ?? peer.peerIp;
    const xfp = h['x-forwarded-proto'] as string | undefined;
    if (xfp !== undefined && xfp.trim() !== '') secure = firstToken(xfp) === 'https';
  }
  // real_ip / cloudflare_real_ip (docs/client-ip.md): from its own peers, its header decides
  if (rule !== undefined) clientIp = clientIpByRule(peer.peerIp, req.rawHeaders, rule, trusted) ?? clientIp;
  const headers = buildUpstreamHeaders(req.rawHeaders, { peerIp: peer.peerIp, peerTrusted: peer.peerTrusted, clientIp, tls });
  const cookie = h.cookie;
  const expect = h.expect !== undefined;
  // Expect: node:http answers `100-continue` itself, and undici refuses to send the field.
  if (expect || (cookie !== undefined && route?.upstreamCookie !== undefined)) fixUp(headers, expect, cookie === undefined ? undefined : route);
  if (h.host === undefined) {
    // HTTP/1.0 absolute-form without Host: the target's authority is the host (RFC 9112 §3.2.2)
    const url = req.url ?? '';
    const start = url.indexOf('://');
    if (start !== -1) {
      let end = start + 3;
      while (end < url.length && url.charCodeAt(end) !== 47 && url.charCodeAt(end) !== 63) end++;
      const authority = url.slice(start + 3, end);
      headers.push('Host', authority, 'X-Forwarded-Host', authority);
    }
  }
  const cl = h['content-length'];
  const hasBody = h['transfer-encoding'] !== undefined || (cl !== undefined && cl !== '0');
  return { headers, hasBody, clientIp, secure, cookie };
}

/** Drops Expect and runs the route's sticky-cookie filter over Cookie lines (`route` undefined: no filter). */
function fixUp(a: string[], dropExpect: boolean, route: ProxyRoute | undefined): void {
  let w = 0;
  for (let r = 0; r < a.length; r += 2) {
    const name = a[r]!;
    let value = a[r + 1]!;
    if (name.length === 6) {
      const lower = name.toLowerCase();
      if (dropExpect && lower === 'expect') continue;
      if (route?.upstreamCookie !== undefined && lower === 'cookie') {
        const v = route.upstreamCookie(value);
        if (v === undefined || v === '') continue;
        value = v;
      }
    }
    a[w++] = name;
    a[w++] = value;
  }
  a.length = w;
}

/** A response head for the client. */
export interface ResponseHead {
  headers: string[];
  /** The upstream's Content-Length (-1 when absent or odd). */
  contentLength: number;
  /** The upstream said `Connection: close` (it does not keep connections alive). */
  close: boolean;
}

function isConnection(name: string): boolean {
  return name.length === 10 && (name.charCodeAt(0) | 0x20) === 99 && name.toLowerCase() === 'connection';
}

function isContentLength(name: string): boolean {
  return name.length === 14 && (name.charCodeAt(0) | 0x20) === 99 && name.toLowerCase() === 'content-length';
}

function parseLength(v: string): number {
  if (v.length === 0 || v.length > 15) return -1;
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    n = n * 10 + (c - 48);
  }
  return n;
}

/**
 * Client response headers from undici's raw response headers (Buffers, latin1 as on the wire),
 * hop-by-hop fields and those named in Connection removed (pkg/http `stripHopByHop`), and the
 * Content-Length read on the way.
 */
export function responseHead(raw: readonly (Buffer | string)[]): ResponseHead {
  const n = raw.length;
  const strings = new Array<string>(n);
  let length = -1;
  let close = false;
  for (let i = 0; i < n; i++) {
    const v = raw[i]!;
    const s = typeof v === 'string' ? v : v.toString('latin1');
    strings[i] = s;
    if ((i & 1) === 1) {
      const name = strings[i - 1]!;
      // undici has already refused a response with conflicting lengths
      if (isContentLength(name)) length = parseLength(s);
      else if (isConnection(name) && s.toLowerCase().includes('close')) close = true;
    }
  }
  const headers = stripHopByHop(strings);
  return { headers, contentLength: length, close };
}

/** Proxy error code for a pkg/http `checkRequest` rejection status. */
export function rejectionCode(status: 400 | 405 | 431 | 505): ProxyAnswerCode {
  switch (status) {
    case 431: return 'PROXY_TOO_MANY_HEADERS';
    case 405: return 'PROXY_METHOD_NOT_ALLOWED';
    case 505: return 'PROXY_VERSION_NOT_SUPPORTED';
    default: return 'PROXY_BAD_REQUEST';
  }
}

/** A flat header list without Content-Length (a 204 must not carry one, RFC 9110 §8.6). */
export function withoutContentLength(headers: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if (headers[i]!.toLowerCase() !== 'content-length') out.push(headers[i]!, headers[i + 1]!);
  }
  return out;
}

/** Fields that never travel as trailers (RFC 9110 §6.5.1: framing, routing, control) and HTTP/2 pseudo-fields. */
const NOT_TRAILERS: ReadonlySet<string> = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'content-length',
  'content-type', 'content-encoding', 'content-range', 'host', 'set-cookie', 'authorization', 'cache-control', 'expect', 'max-forwards', 'pragma', 'range',
]);

/** The upstream's trailers for the client (gRPC's grpc-status, grpc-message); undefined when none may pass. */
export function trailerFields(trailers: readonly (Buffer | string)[] | Readonly<Record<string, string | string[] | undefined>> | null | undefined): Record<string, string> | undefined {
  if (trailers === null || trailers === undefined) return undefined;
  const out: Record<string, string> = {};
  let any = false;
  const add = (rawName: string, value: string): void => {
    const name = rawName.toLowerCase();
    if (name.charCodeAt(0) === 58 /* ':' */ || NOT_TRAILERS.has(name)) return;
    out[name] = out[name] === undefined ? value : `${out[name]}, ${value}`;
    any = true;
  };
  if (Array.isArray(trailers)) {
    const flat = trailers as readonly (Buffer | string)[];
    for (let i = 0; i + 1 < flat.length; i += 2) add(flat[i]!.toString('latin1'), flat[i + 1]!.toString('latin1'));
  } else {
    for (const [name, v] of Object.entries(trailers as Readonly<Record<string, string | string[] | undefined>>)) {
      if (v === undefined) continue;
      for (const x of Array.isArray(v) ? v : [v]) add(name, x);
    }
  }
  return any ? out : undefined;
}

/**
 * The client can take trailers: every HTTP/2 client can (RFC 9113 §8.1); an HTTP/1.1 client says
 * so with `TE: trailers` (RFC 9110 §10.1.4), and gets them on a chunked response.
 */
export function clientTakesTrailers(req: IncomingMessage): boolean {
  if (req.httpVersionMajor === 2) return true;
  return teHasTrailers(req.headers.te);
}

/** `TE` names `trailers`. */
export function teHasTrailers(te: string | readonly string[] | undefined): boolean {
  if (te === undefined) return false;
  for (const line of typeof te === 'string' ? [te] : te) {
    for (const t of line.split(',')) if (t.trim().toLowerCase() === 'trailers') return true;
  }
  return false;
}
