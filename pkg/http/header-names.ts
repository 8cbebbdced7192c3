// Classifies a header name for the forwarding pass without lower-casing every name: a switch on
// the first letter and the length rules out nearly every ordinary header (Accept, Cookie,
// User-Agent, Sec-*, ...) with two integer compares; only candidates are compared in full.

export const PASS = 0; // end-to-end, forwarded as is
export const HOP = 1; // hop-by-hop (RFC 9110 §7.6.1) or h2c's HTTP2-Settings: always dropped
export const CONNECTION = 2;
export const UPGRADE = 3;
export const TRANSFER_ENCODING = 4; // hop-by-hop; the proxy re-frames the body
export const HOST = 5;
export const CONTENT_LENGTH = 6;
export const X_FORWARDED_FOR = 7;
export const X_FORWARDED_PROTO = 8;
export const X_FORWARDED_HOST = 9;
export const X_REAL_IP = 10;
export const X_FORWARDED_OTHER = 11; // X-Forwarded-Port, -Prefix, -Server, -Ssl, ...
export const FORWARDED = 12; // RFC 7239
export const UNDERSCORE_FORWARDING = 13; // X_Forwarded_For, X_Real_IP, ...: CGI-style backends read them as the real thing

export type HeaderKind =
  | typeof PASS | typeof HOP | typeof CONNECTION | typeof UPGRADE | typeof TRANSFER_ENCODING | typeof HOST
  | typeof CONTENT_LENGTH | typeof X_FORWARDED_FOR | typeof X_FORWARDED_PROTO | typeof X_FORWARDED_HOST
  | typeof X_REAL_IP | typeof X_FORWARDED_OTHER | typeof FORWARDED | typeof UNDERSCORE_FORWARDING;

const NO = 0;
const EXACT = 1;
const UNDERSCORED = 2;

/**
 * Compares the first `lower.length` characters of `name` with the lower-case `lower`, ASCII
 * case-insensitively. `_` in `name` matches `-` in `lower` but is reported as UNDERSCORED.
 */
function prefixIs(name: string, lower: string): typeof NO | typeof EXACT | typeof UNDERSCORED {
  let result: typeof EXACT | typeof UNDERSCORED = EXACT;
  for (let i = 0; i < lower.length; i++) {
    let c = name.charCodeAt(i);
    const want = lower.charCodeAt(i);
    if (c === want) continue;
    if (c >= 65 && c <= 90) c += 32;
    if (c === want) continue;
    if (c === 95 && want === 45) {
      result = UNDERSCORED;
      continue;
    }
    return NO;
  }
  return result;
}

function is(name: string, lower: string): boolean {
  return name.length === lower.length && prefixIs(name, lower) === EXACT;
}

function forwarding(name: string, lower: string, kind: HeaderKind): HeaderKind {
  if (name.length !== lower.length) return PASS;
  const m = prefixIs(name, lower);
  return m === NO ? PASS : m === EXACT ? kind : UNDERSCORE_FORWARDING;
}

/** Which rule applies to a header name (any case). */
export function classifyHeader(name: string): HeaderKind {
  const len = name.length;
  if (len < 2) return PASS;
  switch (name.charCodeAt(0) | 0x20) {
    case 0x63: // c
      if (len === 10) return is(name, 'connection') ? CONNECTION : PASS;
      if (len === 14) return is(name, 'content-length') ? CONTENT_LENGTH : PASS;
      return PASS;
    case 0x66: // f
      return len === 9 && is(name, 'forwarded') ? FORWARDED : PASS;
    case 0x68: // h
      if (len === 4) return is(name, 'host') ? HOST : PASS;
      if (len === 14) return is(name, 'http2-settings') ? HOP : PASS;
      return PASS;
    case 0x6b: // k
      return len === 10 && is(name, 'keep-alive') ? HOP : PASS;
    case 0x70: // p
      if (len === 16) return is(name, 'proxy-connection') ? HOP : PASS;
      if (len === 18) return is(name, 'proxy-authenticate') ? HOP : PASS;
      if (len === 19) return is(name, 'proxy-authorization') ? HOP : PASS;
      return PASS;
    case 0x74: // t
      if (len === 2) return is(name, 'te') ? HOP : PASS;
      if (len === 7) return is(name, 'trailer') ? HOP : PASS;
      if (len === 17) return is(name, 'transfer-encoding') ? TRANSFER_ENCODING : PASS;
      return PASS;
    case 0x75: // u
      return len === 7 && is(name, 'upgrade') ? UPGRADE : PASS;
    case 0x78: // x
      if (len === 9) return forwarding(name, 'x-real-ip', X_REAL_IP);
      if (len < 13) return PASS;
      switch (prefixIs(name, 'x-forwarded-')) {
        case NO:
          return PASS;
        case UNDERSCORED:
          return UNDERSCORE_FORWARDING;
        default:
          break;
      }
      if (len === 15) return forwarding(name, 'x-forwarded-for', X_FORWARDED_FOR) || X_FORWARDED_OTHER;
      if (len === 16) return forwarding(name, 'x-forwarded-host', X_FORWARDED_HOST) || X_FORWARDED_OTHER;
      if (len === 17) return forwarding(name, 'x-forwarded-proto', X_FORWARDED_PROTO) || X_FORWARDED_OTHER;
      // Any other X-Forwarded-* name: underscores after the prefix still count as a spoof.
      return name.includes('_') ? UNDERSCORE_FORWARDING : X_FORWARDED_OTHER;
    default:
      return PASS;
  }
}

/** The standard hop-by-hop header names (lower case), for documentation and callers. */
export const HOP_BY_HOP_HEADERS: readonly string[] = Object.freeze([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade',
]);

/**
 * Splits the `Connection` header values of a raw header array into lower-case tokens.
 * Returns whether `upgrade` was named and the extra header names it nominates for removal
 * (undefined when none). Names the proxy owns or needs are never removable this way: Host,
 * Content-Length and the forwarding headers it sets itself (reliability C2, Traefik's rule).
 */
export function connectionTokens(rawHeaders: readonly string[]): { upgrade: boolean; extra: string[] | undefined } {
  let upgrade = false;
  let extra: string[] | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length !== 10 || classifyHeader(name) !== CONNECTION) continue;
    const value = rawHeaders[i + 1]!;
    let start = 0;
    while (start <= value.length) {
      let comma = value.indexOf(',', start);
      if (comma < 0) comma = value.length;
      const token = value.slice(start, comma).trim().toLowerCase();
      start = comma + 1;
      if (token === '') continue;
      if (token === 'upgrade') {
        upgrade = true;
        continue;
      }
      const kind = classifyHeader(token);
      if (kind === PASS || kind === X_FORWARDED_OTHER || kind === FORWARDED) (extra ??= []).push(token);
    }
  }
  return { upgrade, extra };
}

/** Whether `name` is one of the lower-case `tokens` (ASCII case-insensitive). */
export function isNominated(name: string, tokens: readonly string[]): boolean {
  let lower: string | undefined;
  for (const t of tokens) {
    if (t.length !== name.length) continue;
    lower ??= name.toLowerCase();
    if (lower === t) return true;
  }
  return false;
}
