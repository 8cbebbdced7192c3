import { CONTENT_LENGTH, HOST, TRANSFER_ENCODING, classifyHeader } from './header-names.ts';
import { normaliseHost } from './host.ts';

/**
 * Header lines allowed per request. Node keeps at most 2,000 in `req.headers` and silently
 * drops the rest while still framing the body by a dropped Content-Length (CVE-2026-58044,
 * DESIGN.md pitfalls): we count `rawHeaders` and refuse far below that.
 */
export const MAX_HEADER_LINES = 200;

/** Stable codes of `checkRequest` rejections. */
export type RequestErrorCode =
  | 'HTTP_TOO_MANY_HEADERS'
  | 'HTTP_CONNECT_NOT_ALLOWED'
  | 'HTTP_VERSION_NOT_SUPPORTED'
  | 'HTTP_BAD_TARGET'
  | 'HTTP_DUPLICATE_HOST'
  | 'HTTP_MISSING_HOST'
  | 'HTTP_BAD_HOST'
  | 'HTTP_HOST_MISMATCH'
  | 'HTTP_CONFLICTING_FRAMING'
  | 'HTTP_DUPLICATE_CONTENT_LENGTH'
  | 'HTTP_BAD_CONTENT_LENGTH'
  | 'HTTP_BAD_TRANSFER_ENCODING';

/** A request the proxy may forward: the origin-form path to send and the routing host. */
export interface RequestAccepted {
  readonly ok: true;
  /** Origin-form path and query for the upstream request (`*` only for `OPTIONS *`). */
  readonly path: string;
  /** `normaliseHost` of Host (or of the absolute-form authority); undefined when Host is empty. */
  readonly host: string | undefined;
}

/** A request to refuse without contacting any upstream. */
export interface RequestRejected {
  readonly ok: false;
  readonly status: 400 | 405 | 431 | 505;
  readonly code: RequestErrorCode;
  /** Short English reason, safe to show to the client (never echoes header values). */
  readonly reason: string;
}

export type RequestVerdict = RequestAccepted | RequestRejected;

/** The parts of a Node `IncomingMessage` the checks read (an IncomingMessage fits). */
export interface RequestHead {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly httpVersion: string;
  readonly rawHeaders: readonly string[];
}

function reject(status: RequestRejected['status'], code: RequestErrorCode, reason: string): RequestRejected {
  return { ok: false, status, code, reason };
}

interface Target {
  path: string;
  authority: string | undefined; // absolute-form only
  https: boolean;
}

function startsWithScheme(url: string, scheme: string): boolean {
  if (url.length < scheme.length) return false;
  for (let i = 0; i < scheme.length; i++) {
    let c = url.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== scheme.charCodeAt(i)) return false;
  }
  return true;
}

/** Origin-form rules shared by both forms: `/`-rooted, no `//` or `/\` start, no fragment, visible ASCII only. */
function isSafeOriginForm(path: string): boolean {
  if (path.charCodeAt(0) !== 47) return false;
  const second = path.charCodeAt(1);
  // `//evil/x` and `/\evil/x` resolve to host `evil` under WHATWG URL rules.
  if (second === 47 || second === 92) return false;
  for (let i = 1; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === 35) return false;
  }
  return true;
}

function parseTarget(url: string | undefined): Target | undefined {
  if (typeof url !== 'string' || url.length === 0) return undefined;
  if (url === '*') return { path: '*', authority: undefined, https: false };
  if (url.charCodeAt(0) === 47) return isSafeOriginForm(url) ? { path: url, authority: undefined, https: false } : undefined;
  let rest: number;
  let https = false;
  if (startsWithScheme(url, 'http://')) rest = 7;
  else if (startsWithScheme(url, 'https://')) {
    rest = 8;
    https = true;
  } else return undefined;
  let end = rest;
  while (end < url.length) {
    const c = url.charCodeAt(end);
    if (c === 47 || c === 63 || c === 35) break;
    end++;
  }
  const authority = url.slice(rest, end);
  let path = url.slice(end);
  if (path === '') path = '/';
  else if (path.charCodeAt(0) === 63) path = `/${path}`;
  if (authority === '' || !isSafeOriginForm(path)) return undefined;
  return { path, authority, https };
}

/**
 * The origin-form path and query to send upstream for a request-target, or undefined when
 * the target must be refused: origin-form is kept as is; absolute-form (`http://a/x?q`) gives
 * its path (`/x?q`); `*` stays `*`; `//host/x`, `/\host/x`, fragments, authority-form and
 * anything not starting with `/` are refused. Never throws.
 */
export function originFormPath(url: string | undefined): string | undefined {
  return parseTarget(url)?.path;
}

function explicitPort(value: string): number | undefined {
  const colon = value.charCodeAt(0) === 91 ? value.indexOf(':', value.indexOf(']')) : value.indexOf(':');
  if (colon < 0 || colon === value.length - 1) return undefined;
  return Number(value.slice(colon + 1));
}

function isChunkedOnly(value: string): boolean {
  return value.trim().toLowerCase() === 'chunked';
}

function isDigits(value: string): boolean {
  if (value.length === 0 || value.length > 15) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * Request hygiene before routing (reliability §5 A and B). In order: more than
 * `maxHeaderLines` header lines → 431; CONNECT → 405; HTTP versions other than 1.0/1.1 → 505;
 * a bad request-target → 400 (see `originFormPath`; `*` only with OPTIONS); duplicate Host,
 * missing Host on HTTP/1.1, an unparseable Host, an absolute-form authority that disagrees
 * with Host (name or port, default ports filled in) → 400; Content-Length with
 * Transfer-Encoding, more than one Content-Length, a non-numeric one, Transfer-Encoding other
 * than a single `chunked`, or Transfer-Encoding on HTTP/1.0 → 400. Node's parser already
 * refuses most framing cases; these checks do not rely on it. Never throws.
 */
export function checkRequest(req: RequestHead, maxHeaderLines: number = MAX_HEADER_LINES): RequestVerdict {
  const raw = req.rawHeaders;
  if (raw.length > maxHeaderLines * 2) return reject(431, 'HTTP_TOO_MANY_HEADERS', `more than ${maxHeaderLines} header lines`);
  const method = req.method;
  if (method === 'CONNECT') return reject(405, 'HTTP_CONNECT_NOT_ALLOWED', 'CONNECT is not supported by this proxy');
  const version = req.httpVersion;
  if (version !== '1.1' && version !== '1.0') return reject(505, 'HTTP_VERSION_NOT_SUPPORTED', 'only HTTP/1.0 and HTTP/1.1 are supported');
  const target = parseTarget(req.url);
  if (target === undefined) return reject(400, 'HTTP_BAD_TARGET', 'request target must be an origin-form path');
  if (target.path === '*' && method !== 'OPTIONS') return reject(400, 'HTTP_BAD_TARGET', 'the * target is only allowed with OPTIONS');

  let host: string | undefined;
  let hosts = 0;
  let contentLength: string | undefined;
  let contentLengths = 0;
  let transferEncoding: string | undefined;
  let transferEncodings = 0;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    switch (classifyHeader(raw[i]!)) {
      case HOST:
        hosts++;
        host = raw[i + 1];
        break;
      case CONTENT_LENGTH:
        contentLengths++;
        contentLength = raw[i + 1];
        break;
      case TRANSFER_ENCODING:
        transferEncodings++;
        transferEncoding = raw[i + 1];
        break;
      default:
        break;
    }
  }

  if (hosts > 1) return reject(400, 'HTTP_DUPLICATE_HOST', 'more than one Host header');
  if (hosts === 0 && version === '1.1') return reject(400, 'HTTP_MISSING_HOST', 'HTTP/1.1 request without Host');
  let routeHost: string | undefined;
  if (host !== undefined && host !== '') {
    routeHost = normaliseHost(host);
    if (routeHost === undefined) return reject(400, 'HTTP_BAD_HOST', 'Host header is not a valid host[:port]');
  }
  if (target.authority !== undefined) {
    const authorityHost = normaliseHost(target.authority);
    if (authorityHost === undefined) return reject(400, 'HTTP_BAD_TARGET', 'absolute-form target has an invalid authority');
    if (host !== undefined) {
      const defaultPort = target.https ? 443 : 80;
      const samePort = (explicitPort(target.authority) ?? defaultPort) === (explicitPort(host) ?? defaultPort);
      if (authorityHost !== routeHost || !samePort) return reject(400, 'HTTP_HOST_MISMATCH', 'absolute-form target disagrees with Host');
    }
    routeHost = authorityHost;
  }

  if (contentLengths > 0 && transferEncodings > 0) return reject(400, 'HTTP_CONFLICTING_FRAMING', 'both Content-Length and Transfer-Encoding');
  if (contentLengths > 1) return reject(400, 'HTTP_DUPLICATE_CONTENT_LENGTH', 'more than one Content-Length');
  if (contentLength !== undefined && !isDigits(contentLength.trim())) return reject(400, 'HTTP_BAD_CONTENT_LENGTH', 'Content-Length is not a decimal number');
  if (transferEncoding !== undefined) {
    if (transferEncodings > 1 || !isChunkedOnly(transferEncoding)) return reject(400, 'HTTP_BAD_TRANSFER_ENCODING', 'Transfer-Encoding must be exactly chunked');
    if (version === '1.0') return reject(400, 'HTTP_BAD_TRANSFER_ENCODING', 'Transfer-Encoding on an HTTP/1.0 request');
  }
  return { ok: true, path: target.path, host: routeHost };
}
