// Header rewriting in both directions: hop-by-hop removal (RFC 9110 §7.6.1, including fields
// named in Connection), forwarded headers (SPEC 6) and the sticky cookie. Works on flat
// [name, value, ...] arrays so nothing is turned into an object per request.
import { clientFromForwardedFor, type TrustedProxies } from './client-ip.ts';

/** Hop-by-hop and proxy-owned fields never forwarded upstream. */
const REQUEST_DROP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade',
  'proxy-authorization', 'proxy-authenticate', 'http2-settings',
  // Node answers `Expect: 100-continue` itself; undici refuses to send it.
  'expect',
]);

/** Hop-by-hop fields never relayed to the client. */
const RESPONSE_DROP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade',
  'proxy-authorization', 'proxy-authenticate',
]);

/** Fields a Connection header may not remove: the proxy's own and the framing/routing ones. */
const PROTECTED = new Set(['host', 'content-length', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-real-ip']);

function isForwardingName(n: string): boolean {
  // x-forwarded-*, x-real-ip, forwarded, and their `_` spellings (which some frameworks map
  // onto the dashed name, so they must go too)
  const c = n.charCodeAt(0);
  if (c === 120 /* x */) {
    return n.startsWith('x-forwarded-') || n.startsWith('x_forwarded_') || n === 'x-real-ip' || n === 'x_real_ip' ||
      n === 'x-forwarded_for' || n === 'x_forwarded-for';
  }
  return n === 'forwarded';
}

function connectionTokens(value: string): string[] | undefined {
  let out: string[] | undefined;
  for (const t of value.split(',')) {
    const tok = t.trim().toLowerCase();
    if (tok === '' || tok === 'close' || tok === 'keep-alive' || tok === 'upgrade' || PROTECTED.has(tok)) continue;
    (out ??= []).push(tok);
  }
  return out;
}

/** Per-request inputs to (and outputs of) the upstream header block. */
export interface ForwardingFacts {
  trusted: TrustedProxies;
  trustedPeer: boolean;
  peerIp: string;
  /** `http` / `https` as the client connection says. */
  proto: string;
  hostHeader: string;
  cookieFilter: ((cookie: string) => string | undefined) | undefined;
  /** Out: the real client IP (peer, or the X-Forwarded-For walk for a trusted peer). */
  clientIp: string;
  /** Out: TLS, or a trusted peer said X-Forwarded-Proto: https. */
  secure: boolean;
  /** Out: the Cookie lines as received (joined with '; '), before the sticky cookie is removed. */
  cookie: string | undefined;
}

/**
 * Upstream request headers from the client's raw headers. `lower` holds the lower-cased names
 * aligned with `raw` (from scanRequest).
 */
export function upstreamRequestHeaders(raw: readonly string[], lower: readonly string[], f: ForwardingFacts): string[] {
  const out: string[] = [];
  let xff: string | undefined;
  let xfp: string | undefined;
  let xfh: string | undefined;
  let conn: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const n = lower[i]!;
    const v = raw[i + 1]!;
    if (REQUEST_DROP.has(n)) {
      if (n === 'connection') conn = conn === undefined ? v : `${conn}, ${v}`;
      continue;
    }
    if (isForwardingName(n)) {
      if (!f.trustedPeer) continue;
      if (n === 'x-forwarded-for') xff = xff === undefined ? v : `${xff}, ${v}`;
      else if (n === 'x-forwarded-proto') xfp ??= v;
      else if (n === 'x-forwarded-host') xfh ??= v;
      else if (n === 'x-real-ip' || n.indexOf('_') !== -1) continue;
      else out.push(raw[i]!, v);
      continue;
    }
    if (n === 'cookie') {
      f.cookie = f.cookie === undefined ? v : `${f.cookie}; ${v}`;
      if (f.cookieFilter === undefined) {
        out.push(raw[i]!, v);
        continue;
      }
      const c = f.cookieFilter(v);
      if (c !== undefined && c !== '') out.push(raw[i]!, c);
      continue;
    }
    out.push(raw[i]!, v);
  }
  if (conn !== undefined) {
    const toks = connectionTokens(conn);
    if (toks !== undefined) removeNamed(out, toks);
  }
  f.clientIp = xff === undefined ? f.peerIp : clientFromForwardedFor(f.peerIp, xff, f.trusted);
  const proto = xfp === undefined ? f.proto : xfp.trim().toLowerCase();
  f.secure = proto === 'https';
  out.push(
    'x-forwarded-for', xff === undefined ? f.peerIp : `${xff}, ${f.peerIp}`,
    'x-forwarded-proto', proto,
  );
  const host = xfh ?? f.hostHeader;
  if (host !== '') out.push('x-forwarded-host', host);
  out.push('x-real-ip', f.clientIp);
  return out;
}

function removeNamed(arr: string[], names: readonly string[]): void {
  let w = 0;
  for (let r = 0; r < arr.length; r += 2) {
    if (names.includes(arr[r]!.toLowerCase())) continue;
    arr[w++] = arr[r]!;
    arr[w++] = arr[r + 1]!;
  }
  arr.length = w;
}

/**
 * Client response headers from undici's raw response headers (Buffers, latin1, as on the
 * wire), hop-by-hop removed. `extra` pairs (Set-Cookie, Connection: close) are appended.
 */
export function clientResponseHeaders(raw: readonly (Buffer | string)[], extra1?: string, extra1v?: string, extra2?: string, extra2v?: string): string[] {
  const out: string[] = [];
  let conn: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1');
    const n = name.toLowerCase();
    if (RESPONSE_DROP.has(n)) {
      if (n === 'connection') {
        const v = raw[i + 1]!.toString('latin1');
        conn = conn === undefined ? v : `${conn}, ${v}`;
      }
      continue;
    }
    out.push(name, raw[i + 1]!.toString('latin1'));
  }
  if (conn !== undefined) {
    const toks = connectionTokens(conn);
    if (toks !== undefined) removeNamed(out, toks);
  }
  if (extra1 !== undefined) out.push(extra1, extra1v!);
  if (extra2 !== undefined) out.push(extra2, extra2v!);
  return out;
}
