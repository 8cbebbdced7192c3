import {
  CONNECTION, CONTENT_LENGTH, FORWARDED, HOP, HOST, PASS, TRANSFER_ENCODING, UNDERSCORE_FORWARDING, UPGRADE,
  X_FORWARDED_FOR, X_FORWARDED_HOST, X_FORWARDED_OTHER, X_FORWARDED_PROTO, X_REAL_IP,
  classifyHeader, connectionTokens, isNominated,
} from './header-names.ts';

/** What the proxy knows about the connection a request came in on. */
export interface ForwardingContext {
  /** Canonical socket peer address (pkg/realip `resolveClient().peerIp`). */
  readonly peerIp: string;
  /** Whether the peer is a trusted proxy: its X-Forwarded-* are kept, not replaced. */
  readonly peerTrusted: boolean;
  /** Client address as decided by pkg/realip; sent as X-Real-IP. */
  readonly clientIp: string;
  /** Whether the client connection is TLS (X-Forwarded-Proto when not taken from a trusted peer). */
  readonly tls: boolean;
  /** True when the request is tunnelled as a websocket: adds `Connection: upgrade` and `Upgrade: websocket`. */
  readonly websocket?: boolean | undefined;
}

/**
 * The header array to send upstream, built in one pass over Node's `rawHeaders` (flat
 * name/value pairs, original case and order kept). It:
 *
 * - drops hop-by-hop headers (Connection, Keep-Alive, Proxy-Connection, Proxy-Authenticate,
 *   Proxy-Authorization, TE, Trailer, Transfer-Encoding, Upgrade, HTTP2-Settings) and every
 *   header named in Connection, except Host, Content-Length and the forwarding headers set here;
 * - from an untrusted peer drops every X-Forwarded-*, X-Real-IP and Forwarded; from a trusted
 *   one keeps X-Forwarded-Proto, X-Forwarded-Host, other X-Forwarded-* and Forwarded;
 * - always drops underscore spellings (X_Forwarded_For, X_Real_IP, ...) and incoming X-Real-IP;
 * - appends X-Forwarded-For (trusted: incoming lines joined, then the peer; else the peer),
 *   X-Real-IP (the client), X-Forwarded-Proto and X-Forwarded-Host (unless a trusted peer sent
 *   non-empty ones; Host's value otherwise, omitted without Host);
 * - passes Host unchanged; with `websocket` appends `Connection: upgrade`, `Upgrade: websocket`.
 */
export function buildUpstreamHeaders(rawHeaders: readonly string[], ctx: ForwardingContext): string[] {
  const { extra } = connectionTokens(rawHeaders);
  const trusted = ctx.peerTrusted;
  const out: string[] = [];
  let xff: string | undefined;
  let host: string | undefined;
  let hasProto = false;
  let hasHost = false;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const value = rawHeaders[i + 1]!;
    switch (classifyHeader(name)) {
      case PASS:
        if (extra === undefined || !isNominated(name, extra)) out.push(name, value);
        break;
      case HOST:
        host ??= value;
        out.push(name, value);
        break;
      case CONTENT_LENGTH:
        out.push(name, value);
        break;
      case X_FORWARDED_FOR:
        if (trusted && value.trim() !== '') xff = xff === undefined ? value : `${xff}, ${value}`;
        break;
      case X_FORWARDED_PROTO:
        if (trusted && value.trim() !== '') {
          hasProto = true;
          out.push(name, value);
        }
        break;
      case X_FORWARDED_HOST:
        if (trusted && value.trim() !== '') {
          hasHost = true;
          out.push(name, value);
        }
        break;
      case X_FORWARDED_OTHER:
      case FORWARDED:
        if (trusted && (extra === undefined || !isNominated(name, extra))) out.push(name, value);
        break;
      case HOP:
      case CONNECTION:
      case UPGRADE:
      case TRANSFER_ENCODING:
      case X_REAL_IP:
      case UNDERSCORE_FORWARDING:
        break;
    }
  }
  out.push('X-Forwarded-For', xff === undefined ? ctx.peerIp : `${xff}, ${ctx.peerIp}`, 'X-Real-IP', ctx.clientIp);
  if (!hasProto) out.push('X-Forwarded-Proto', ctx.tls ? 'https' : 'http');
  if (!hasHost && host !== undefined) out.push('X-Forwarded-Host', host);
  if (ctx.websocket === true) out.push('Connection', 'upgrade', 'Upgrade', 'websocket');
  return out;
}

/** Options for `stripHopByHop`. */
export interface StripOptions {
  /** Keep the exchange a websocket upgrade: appends `Connection: upgrade`, `Upgrade: websocket`. */
  readonly websocket?: boolean | undefined;
}

/**
 * A copy of a raw header array (either direction, typically an upstream response) without
 * hop-by-hop headers and without the headers named in its Connection header (Host and
 * Content-Length are never removed that way). Order and case of the rest are kept.
 */
export function stripHopByHop(rawHeaders: readonly string[], options?: StripOptions): string[] {
  const { extra } = connectionTokens(rawHeaders);
  const out: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const kind = classifyHeader(name);
    if (kind === HOP || kind === CONNECTION || kind === UPGRADE || kind === TRANSFER_ENCODING) continue;
    if (extra !== undefined && kind !== HOST && kind !== CONTENT_LENGTH && isNominated(name, extra)) continue;
    out.push(name, rawHeaders[i + 1]!);
  }
  if (options?.websocket === true) out.push('Connection', 'upgrade', 'Upgrade', 'websocket');
  return out;
}

/**
 * `stripHopByHop` for header objects such as undici's response `headers` (lower-case keys,
 * string or string[] values). Returns a new object; the input is not modified.
 */
export function stripHopByHopObject(headers: Readonly<Record<string, string | string[] | undefined>>): Record<string, string | string[]> {
  const connection = headers['connection'];
  const raw: string[] = [];
  if (connection !== undefined) for (const v of Array.isArray(connection) ? connection : [connection]) raw.push('connection', v);
  const { extra } = connectionTokens(raw);
  const out: Record<string, string | string[]> = {};
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined) continue;
    const kind = classifyHeader(name);
    if (kind === HOP || kind === CONNECTION || kind === UPGRADE || kind === TRANSFER_ENCODING) continue;
    if (extra !== undefined && kind !== HOST && kind !== CONTENT_LENGTH && isNominated(name, extra)) continue;
    out[name] = value;
  }
  return out;
}

function hasToken(value: string, token: string): boolean {
  let start = 0;
  while (start <= value.length) {
    let comma = value.indexOf(',', start);
    if (comma < 0) comma = value.length;
    if (value.slice(start, comma).trim().toLowerCase() === token) return true;
    start = comma + 1;
  }
  return false;
}

/**
 * Whether a request asks for a websocket (RFC 6455 §4.1): method GET, `Connection` naming
 * `upgrade` and `Upgrade` naming `websocket`. Other upgrades (h2c) are not tunnelled.
 */
export function isWebSocketUpgrade(method: string | undefined, rawHeaders: readonly string[]): boolean {
  if (method !== 'GET') return false;
  let wantsUpgrade = false;
  let websocket = false;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const kind = classifyHeader(rawHeaders[i]!);
    if (kind === CONNECTION && !wantsUpgrade) wantsUpgrade = hasToken(rawHeaders[i + 1]!, 'upgrade');
    else if (kind === UPGRADE && !websocket) websocket = hasToken(rawHeaders[i + 1]!, 'websocket');
  }
  return wantsUpgrade && websocket;
}
