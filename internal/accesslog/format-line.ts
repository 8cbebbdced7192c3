// The three line formats (docs/access-log.md). `common` and `combined` are Apache's / NCSA's,
// byte for byte (`%h %l %u %t "%r" %>s %b` and `… "%{Referer}i" "%{User-agent}i"`), with
// Apache's escaping of quotes, backslashes and control bytes, so GoAccess, fail2ban and
// CrowdSec read them with their stock patterns. `json` has GoDoxy's field names and order.
import type { FieldMode, FieldSpec } from './access-log-spec.ts';

/** Everything a line is made of, gathered once per request. */
export interface LineFacts {
  /** When the request arrived (epoch ms), as Apache's %t. */
  readonly timeMs: number;
  /** The real client IP (trusted proxies applied). */
  readonly clientIp: string;
  readonly method: string;
  /** The request target as received (origin form, query included). */
  readonly target: string;
  /** `HTTP/1.1`, `HTTP/2.0`. */
  readonly protocol: string;
  /** The Host header as received ('' when none). */
  readonly host: string;
  /** Routing host: lower case, no port ('' when none). */
  readonly routingHost: string;
  readonly status: number;
  /** Response body bytes sent. */
  readonly bytes: number;
  /** The client connection is TLS. */
  readonly secure: boolean;
  /** The response's Content-Type ('' when none). */
  readonly contentType: string;
  /** The request's raw header list [name, value, …]. */
  readonly rawHeaders: readonly string[];
}

export const REDACTED = 'REDACTED';
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad2(n: number): string {
  return n < 10 ? `0${String(n)}` : String(n);
}

/** `10/Oct/2000:13:55:36 -0700` in the process's local time zone (TZ), as Apache and GoDoxy write it. */
export function clfTime(ms: number): string {
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const a = Math.abs(off);
  return `${pad2(d.getDate())}/${MONTHS[d.getMonth()]!}/${String(d.getFullYear())}:${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())} ${off < 0 ? '-' : '+'}${pad2(Math.floor(a / 60))}${pad2(a % 60)}`;
}

const NAMED: Record<number, string> = { 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 13: '\\r', 34: '\\"', 92: '\\\\' };

/**
 * Apache's ap_escape_logitem: `"` and `\` get a backslash, \b \t \n \v \r their C escapes, and
 * other bytes outside printable ASCII `\xhh`. Node hands header values and targets over as
 * latin1 (one char per byte); a char above 0xff (HTTP/2) is escaped byte by byte as UTF-8.
 */
export function escapeLogItem(s: string): string {
  let i = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 32 || c > 126 || c === 34 || c === 92) break;
  }
  if (i === s.length) return s;
  let out = s.slice(0, i);
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 32 && c <= 126 && c !== 34 && c !== 92) out += s[i];
    else if (NAMED[c] !== undefined) out += NAMED[c];
    else if (c <= 0xff) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else for (const b of Buffer.from(String.fromCodePoint(s.codePointAt(i)!), 'utf8')) out += `\\x${b.toString(16).padStart(2, '0')}`;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) i++;
  }
  return out;
}

function headerValue(raw: readonly string[], lower: string): string | undefined {
  for (let i = 0; i + 1 < raw.length; i += 2) if (raw[i]!.length === lower.length && raw[i]!.toLowerCase() === lower) return raw[i + 1];
  return undefined;
}

function modeOf(spec: FieldSpec, name: string): FieldMode {
  return spec.config[name] ?? spec.default;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** The target with the query's parameters kept, redacted or dropped (`fields.query`); as received when all are kept. */
export function targetWithQuery(target: string, query: FieldSpec): string {
  const q = target.indexOf('?');
  if (q === -1 || (query.default === 'keep' && Object.keys(query.config).length === 0)) return target;
  const kept: string[] = [];
  for (const part of target.slice(q + 1).split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const rawName = eq === -1 ? part : part.slice(0, eq);
    const mode = modeOf(query, decode(rawName));
    if (mode === 'keep') kept.push(part);
    else if (mode === 'redact') kept.push(`${rawName}=${REDACTED}`);
  }
  return kept.length === 0 ? target.slice(0, q) : `${target.slice(0, q)}?${kept.join('&')}`;
}

/** `%h %l %u %t "%r" %>s %b`, without the newline. */
export function commonLine(f: LineFacts, query: FieldSpec): string {
  return `${f.clientIp || '-'} - - [${clfTime(f.timeMs)}] "${escapeLogItem(`${f.method} ${targetWithQuery(f.target, query)} ${f.protocol}`)}" ${String(f.status)} ${f.bytes > 0 ? String(f.bytes) : '-'}`;
}

/** Common plus `"%{Referer}i" "%{User-agent}i"` (`-` when absent), without the newline. */
export function combinedLine(f: LineFacts, query: FieldSpec): string {
  const referer = headerValue(f.rawHeaders, 'referer');
  const ua = headerValue(f.rawHeaders, 'user-agent');
  return `${commonLine(f, query)} "${referer === undefined ? '-' : escapeLogItem(referer)}" "${ua === undefined ? '-' : escapeLogItem(ua)}"`;
}

/** Go's canonical header key: `x-forwarded-for` → `X-Forwarded-For`. */
export function canonicalHeader(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

function jsonQuery(target: string, spec: FieldSpec): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const q = target.indexOf('?');
  if (q === -1 || (spec.default === 'drop' && Object.keys(spec.config).length === 0)) return out;
  for (const part of target.slice(q + 1).split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = decode(eq === -1 ? part : part.slice(0, eq));
    const mode = modeOf(spec, name);
    if (mode === 'drop') continue;
    const value = mode === 'redact' ? REDACTED : eq === -1 ? '' : decode(part.slice(eq + 1));
    const list = Object.hasOwn(out, name) ? out[name]! : (out[name] = []);
    if (mode === 'keep' || list.length === 0) list.push(value);
  }
  return out;
}

function jsonHeaders(raw: readonly string[], spec: FieldSpec): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (spec.default === 'drop' && Object.keys(spec.config).length === 0) return out;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    // Go keeps Host out of the header map (it is the request's Host); HTTP/2 pseudo-headers are no headers
    if (lower === 'host' || lower.startsWith(':')) continue;
    const mode = modeOf(spec, lower);
    if (mode === 'drop') continue;
    const name = canonicalHeader(lower);
    const list = Object.hasOwn(out, name) ? out[name]! : (out[name] = []);
    if (mode === 'keep') list.push(raw[i + 1]!);
    else if (list.length === 0) list.push(REDACTED);
  }
  return out;
}

function jsonCookies(raw: readonly string[], spec: FieldSpec): Record<string, string> {
  const out: Record<string, string> = {};
  if (spec.default === 'drop' && Object.keys(spec.config).length === 0) return out;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== 'cookie') continue;
    for (const pair of raw[i + 1]!.split(';')) {
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const mode = modeOf(spec, name);
      if (mode === 'drop' || name === '') continue;
      out[name] = mode === 'redact' ? REDACTED : pair.slice(eq + 1).trim();
    }
  }
  return out;
}

function pathOf(target: string): string {
  const q = target.indexOf('?');
  const p = q === -1 ? target : target.slice(0, q);
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}

/** GoDoxy's JSON line (zerolog field order), without the newline. */
export function jsonLine(f: LineFacts, fields: { readonly headers: FieldSpec; readonly query: FieldSpec; readonly cookies: FieldSpec }): string {
  return JSON.stringify({
    level: 'info',
    time: clfTime(f.timeMs),
    ip: f.clientIp,
    method: f.method,
    scheme: f.secure ? 'https' : 'http',
    host: f.host,
    path: pathOf(f.target),
    protocol: f.protocol,
    status: f.status,
    type: f.contentType,
    size: f.bytes,
    referer: headerValue(f.rawHeaders, 'referer') ?? '',
    useragent: headerValue(f.rawHeaders, 'user-agent') ?? '',
    query: jsonQuery(f.target, fields.query),
    headers: jsonHeaders(f.rawHeaders, fields.headers),
    cookies: jsonCookies(f.rawHeaders, fields.cookies),
  });
}
