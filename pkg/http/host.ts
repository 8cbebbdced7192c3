import { normaliseIp } from '../realip/index.ts';

// Host header → routing key. Called once per request, so it is a single character scan that
// allocates only the result (and only lower-cases when an upper-case letter was seen).

// Longest DNS name is 253 characters (+1 for a trailing dot); `[` IPv6 `]` and `:65535` fit.
const MAX_HOST_LENGTH = 262;

function isPortText(s: string, start: number, end: number): boolean {
  // An empty port is allowed by RFC 3986 (`host:`) and means "no port".
  if (end - start > 5) return false;
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
    v = v * 10 + (c - 48);
  }
  return v <= 65535;
}

/**
 * Routing form of a `Host` header (or an absolute-form authority): lower case, port removed,
 * one trailing dot removed. IPv6 literals keep their brackets (`[::1]:8080` → `[::1]`).
 * Undefined for an empty value, whitespace or control characters, userinfo (`u@h`), paths
 * (`a/b`), empty labels (`a..b`, `.a`), a bad port (`a:x`, `a:70000`) or any character a host
 * name cannot hold, or an IP literal that is not an IPv6 address. Never throws; `normaliseHost(normaliseHost(h)) === normaliseHost(h)`.
 */
export function normaliseHost(host: string | undefined): string | undefined {
  if (typeof host !== 'string') return undefined;
  let end = host.length;
  if (end === 0 || end > MAX_HOST_LENGTH) return undefined;
  if (host.charCodeAt(0) === 91) {
    // IP literal: `[` hex, `:` and `.` `]` then optional `:port`.
    const close = host.indexOf(']');
    if (close < 3) return undefined;
    if (close + 1 < end && (host.charCodeAt(close + 1) !== 58 || !isPortText(host, close + 2, end))) return undefined;
    let upper = false;
    for (let i = 1; i < close; i++) {
      const c = host.charCodeAt(i);
      if ((c >= 48 && c <= 58) || c === 46 || (c >= 97 && c <= 102)) continue;
      if (c >= 65 && c <= 70) {
        upper = true;
        continue;
      }
      return undefined;
    }
    // The character check bounds the input; the IP scanner decides it really is an address.
    const inner = host.slice(1, close);
    if (!inner.includes(':') || normaliseIp(inner) === undefined) return undefined;
    const lit = host.slice(0, close + 1);
    return upper ? lit.toLowerCase() : lit;
  }
  const colon = host.indexOf(':');
  if (colon >= 0) {
    if (!isPortText(host, colon + 1, end)) return undefined;
    end = colon;
  }
  if (end > 0 && host.charCodeAt(end - 1) === 46) end--; // one trailing dot: `example.com.`
  if (end === 0) return undefined;
  let upper = false;
  let prevDot = true; // a leading dot is an empty label
  for (let i = 0; i < end; i++) {
    const c = host.charCodeAt(i);
    if (c === 46) {
      if (prevDot) return undefined;
      prevDot = true;
      continue;
    }
    prevDot = false;
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 95) continue;
    if (c >= 65 && c <= 90) {
      upper = true;
      continue;
    }
    return undefined;
  }
  if (prevDot) return undefined; // `a..` (two trailing dots)
  const name = end === host.length ? host : host.slice(0, end);
  return upper ? name.toLowerCase() : name;
}
