// One pass over the raw request head: hygiene checks (SPEC 9, reliability groups A–C) and the
// facts the pipeline needs later. Works on rawHeaders, never on req.headers: Node silently
// drops lines past maxHeadersCount (the ~1,100-line smuggling case), rawHeaders shows them.
import type { IncomingMessage } from 'node:http';
import type { ProxyErrorCode } from './proxy-error.ts';
import { normaliseHost } from './host-name.ts';

/** More header lines than this → 431 (nginx/Envoy use 100; browsers send ~20). */
export const MAX_HEADER_LINES = 200;

/** What the scan learned about a request that passed the checks. */
export interface RequestHead {
  /** Routing key (normalised host; from the absolute-form target when there is one). */
  host: string;
  /** The Host header as sent ('' when absent, HTTP/1.0). */
  hostHeader: string;
  /** Origin-form path (with query) to send upstream. */
  path: string;
  /** True when the request has a body to stream. */
  hasBody: boolean;
  accept: string | undefined;
}

const scratch: RequestHead = { host: '', hostHeader: '', path: '', hasBody: false, accept: undefined };

/** Lower-cased header names of the last scanned request, index-aligned with rawHeaders. */
export const lowerNames: string[] = [];

function targetPath(url: string): string | null {
  if (url.charCodeAt(0) === 47 /* / */) {
    const c1 = url.charCodeAt(1);
    if (c1 === 47 || c1 === 92 /* \ */) return null; // `//evil`, `/\evil` resolve to another host
    return url;
  }
  return null;
}

/**
 * Check the request head. Returns an error code to answer with, or the RequestHead (a reused
 * object: copy what you keep before the next request is scanned).
 */
export function scanRequest(req: IncomingMessage): RequestHead | ProxyErrorCode {
  const raw = req.rawHeaders;
  const n = raw.length;
  if (n > MAX_HEADER_LINES * 2) return 'PROXY_TOO_MANY_HEADERS';
  if (req.method === 'CONNECT') return 'PROXY_METHOD_NOT_ALLOWED';
  let hostCount = 0;
  let hostHeader = '';
  let te: string | undefined;
  let teCount = 0;
  let cl: string | undefined;
  let accept: string | undefined;
  lowerNames.length = n;
  for (let i = 0; i < n; i += 2) {
    const name = raw[i]!.toLowerCase();
    lowerNames[i] = name;
    switch (name) {
      case 'host': hostCount++; hostHeader = raw[i + 1]!; break;
      case 'transfer-encoding': teCount++; te = raw[i + 1]!; break;
      case 'content-length': cl = raw[i + 1]!; break;
      case 'accept': accept = accept === undefined ? raw[i + 1]! : `${accept}, ${raw[i + 1]!}`; break;
    }
  }
  if (hostCount > 1) return 'PROXY_BAD_REQUEST';
  // Node already rejects CL+TE, duplicate CL and malformed TE lists; these are what it lets
  // through: a TE other than plain `chunked` (`gzip, chunked`) and TE on HTTP/1.0.
  if (teCount > 0) {
    if (teCount > 1 || te!.trim().toLowerCase() !== 'chunked' || cl !== undefined) return 'PROXY_BAD_REQUEST';
    if (req.httpVersionMajor !== 1 || req.httpVersionMinor !== 1) return 'PROXY_BAD_REQUEST';
  }
  if (req.httpVersionMajor !== 1) return 'PROXY_BAD_REQUEST'; // `HTTP/2.0` / 0.9 request lines
  const url = req.url ?? '';
  if (url.indexOf('#') !== -1) return 'PROXY_BAD_REQUEST';
  let host: string;
  let path: string | null;
  if (hostHeader !== '' || hostCount === 1) {
    const h = normaliseHost(hostHeader);
    if (h === undefined) return 'PROXY_BAD_REQUEST';
    host = h;
  } else {
    host = '';
  }
  if (url.charCodeAt(0) === 47) {
    path = targetPath(url);
  } else {
    // absolute-form: route by its authority, which must agree with Host (RFC 9112 §3.2.2)
    const m = /^https?:\/\/([^/?]*)(.*)$/i.exec(url);
    if (m === null) return 'PROXY_BAD_REQUEST'; // `*`, authority-form, garbage
    const authority = m[1]!;
    if (authority.indexOf('@') !== -1) return 'PROXY_BAD_REQUEST';
    const a = normaliseHost(authority);
    if (a === undefined || a === '') return 'PROXY_BAD_REQUEST';
    if (hostCount === 1 && a !== host) return 'PROXY_BAD_REQUEST';
    host = a;
    if (hostCount === 0) hostHeader = authority;
    const rest = m[2]!;
    path = rest === '' ? '/' : rest.charCodeAt(0) === 63 /* ? */ ? `/${rest}` : targetPath(rest);
  }
  if (path === null) return 'PROXY_BAD_REQUEST';
  scratch.host = host;
  scratch.hostHeader = hostHeader;
  scratch.path = path;
  scratch.hasBody = te !== undefined || (cl !== undefined && cl !== '0');
  scratch.accept = accept;
  return scratch;
}
