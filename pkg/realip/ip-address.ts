// A strict, allocation-free IP address scanner. It runs on every request (socket peer and each
// X-Forwarded-For entry), so it parses in place over a [start, end) slice of the caller's
// string into a reused 8-word scratch buffer instead of splitting, regex matching or building
// objects. Only the final answer is turned into a string.
//
// Accepted text forms: dotted-decimal IPv4 with exactly four parts and no leading zeros
// (`010.0.0.1` is rejected: some stacks read it as octal), and RFC 4291 IPv6 including `::`
// compression, an embedded IPv4 tail and a zone (`%eth0`, dropped). IPv4-mapped IPv6
// (`::ffff:1.2.3.4`) is reported as IPv4 so it matches IPv4 ranges and hashes like IPv4.

/** Result of a scan: not an address, IPv4 (words 6-7 of the scratch) or IPv6 (all 8 words). */
export const NOT_IP = 0;
export const IPV4 = 4;
export const IPV6 = 6;
/** `scanEntry` only: the slice was empty or whitespace (an empty list element). */
export const EMPTY = -1;

export type IpKind = typeof NOT_IP | typeof IPV4 | typeof IPV6;

// Longest text we are willing to look at: a full IPv6 with IPv4 tail is 45 characters, plus
// brackets, a port and a short zone. Anything longer is garbage; the cap bounds the work.
const MAX_ENTRY_LENGTH = 80;

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}

/** Dotted-decimal IPv4 in s[start, end) into words at out[at], out[at+1]. */
function scanV4(s: string, start: number, end: number, out: Uint16Array, at: number): boolean {
  let part = 0;
  let val = 0;
  let digits = 0;
  let hi = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits > 0 && val === 0) return false; // leading zero
      val = val * 10 + (c - 48);
      if (val > 255) return false;
      digits++;
    } else if (c === 46) {
      if (digits === 0 || part === 3) return false;
      if (part === 0) hi = val << 8;
      else if (part === 1) hi |= val;
      else out[at + 1] = val << 8;
      part++;
      val = 0;
      digits = 0;
    } else {
      return false;
    }
  }
  if (digits === 0 || part !== 3) return false;
  out[at] = hi;
  out[at + 1] = out[at + 1]! | val;
  return true;
}

function isZoneChar(c: number): boolean {
  // RFC 6874 zone IDs are unreserved characters: ALPHA / DIGIT / "-" / "." / "_" / "~"
  return (c >= 48 && c <= 57) || ((c | 0x20) >= 97 && (c | 0x20) <= 122) || c === 45 || c === 46 || c === 95 || c === 126;
}

/** RFC 4291 IPv6 text in s[start, end), optional zone, into out[0..7]. */
function scanV6(s: string, start: number, end: number, out: Uint16Array): boolean {
  const pct = s.indexOf('%', start);
  if (pct >= 0 && pct < end) {
    if (pct + 1 === end) return false;
    for (let i = pct + 1; i < end; i++) if (!isZoneChar(s.charCodeAt(i))) return false;
    end = pct;
  }
  let i = start;
  let w = 0;
  let gap = -1; // word index where `::` stands
  if (end - i >= 2 && s.charCodeAt(i) === 58 && s.charCodeAt(i + 1) === 58) {
    gap = 0;
    i += 2;
  } else if (i < end && s.charCodeAt(i) === 58) {
    return false;
  }
  if (i < end) {
    while (true) {
      const groupStart = i;
      let val = 0;
      let n = 0;
      while (i < end) {
        const h = hexValue(s.charCodeAt(i));
        if (h < 0) break;
        if (++n > 4) return false;
        val = val * 16 + h;
        i++;
      }
      if (i < end && s.charCodeAt(i) === 46) {
        // Embedded IPv4 tail: takes the last two words and must end the address.
        if (w > 6 || !scanV4(s, groupStart, end, out, w)) return false;
        w += 2;
        break;
      }
      if (n === 0 || w === 8) return false;
      out[w++] = val;
      if (i === end) break;
      if (s.charCodeAt(i) !== 58) return false;
      i++;
      if (i < end && s.charCodeAt(i) === 58) {
        if (gap >= 0) return false;
        gap = w;
        i++;
        if (i === end) break;
      } else if (i === end) {
        return false; // trailing single colon
      }
    }
  }
  if (gap >= 0) {
    if (w > 7) return false; // `::` stands for at least one zero word
    const tail = w - gap;
    for (let k = 1; k <= tail; k++) out[8 - k] = out[w - k]!;
    for (let k = gap; k < 8 - tail; k++) out[k] = 0;
  } else if (w !== 8) {
    return false;
  }
  return true;
}

function isMappedV4(out: Uint16Array): boolean {
  return out[0] === 0 && out[1] === 0 && out[2] === 0 && out[3] === 0 && out[4] === 0 && out[5] === 0xffff;
}

/**
 * Scans a bare address (no brackets, no port) in s[start, end). IPv4-mapped IPv6 is
 * reported as IPv4.
 */
export function scanAddress(s: string, start: number, end: number, out: Uint16Array): IpKind {
  if (end - start > MAX_ENTRY_LENGTH || end <= start) return NOT_IP;
  const colon = s.indexOf(':', start);
  if (colon < 0 || colon >= end) return scanV4(s, start, end, out, 6) ? IPV4 : NOT_IP;
  if (!scanV6(s, start, end, out)) return NOT_IP;
  return isMappedV4(out) ? IPV4 : IPV6;
}

function isPort(s: string, start: number, end: number): boolean {
  const n = end - start;
  if (n < 1 || n > 5) return false;
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
    v = v * 10 + (c - 48);
  }
  return v <= 65535;
}

/**
 * Scans one list element as found in X-Forwarded-For: optional surrounding spaces/tabs, an
 * address, `[ipv6]`, `[ipv6]:port` or `ipv4:port`. A bare IPv6 address cannot carry a port
 * (the last group would be ambiguous). Returns EMPTY for an empty or blank slice.
 */
export function scanEntry(s: string, start: number, end: number, out: Uint16Array): IpKind | typeof EMPTY {
  while (start < end) {
    const c = s.charCodeAt(start);
    if (c !== 32 && c !== 9) break;
    start++;
  }
  while (end > start) {
    const c = s.charCodeAt(end - 1);
    if (c !== 32 && c !== 9) break;
    end--;
  }
  if (start === end) return EMPTY;
  if (end - start > MAX_ENTRY_LENGTH) return NOT_IP;
  if (s.charCodeAt(start) === 91) {
    const close = s.indexOf(']', start);
    if (close < 0 || close >= end) return NOT_IP;
    if (close + 1 < end && (s.charCodeAt(close + 1) !== 58 || !isPort(s, close + 2, end))) return NOT_IP;
    const inner = start + 1;
    // Brackets are for IPv6 only: `[1.2.3.4]` is not a valid URI host.
    const colon = s.indexOf(':', inner);
    if (colon < 0 || colon >= close) return NOT_IP;
    return scanAddress(s, inner, close, out);
  }
  const first = s.indexOf(':', start);
  if (first >= 0 && first < end) {
    const second = s.indexOf(':', first + 1);
    if (second < 0 || second >= end) {
      // Exactly one colon: only `ipv4:port` makes sense.
      if (!isPort(s, first + 1, end)) return NOT_IP;
      return scanV4(s, start, first, out, 6) ? IPV4 : NOT_IP;
    }
  }
  return scanAddress(s, start, end, out);
}

/** Canonical text of a scanned address: dotted decimal, or RFC 5952 IPv6 (lower case, `::`). */
export function formatAddress(kind: typeof IPV4 | typeof IPV6, w: Uint16Array): string {
  if (kind === IPV4) {
    const hi = w[6]!;
    const lo = w[7]!;
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  // RFC 5952 §4.2: compress the longest run of two or more zero words, the first on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += '::';
      i += bestLen - 1;
      continue;
    }
    if (out.length > 0 && !out.endsWith(':')) out += ':';
    out += w[i]!.toString(16);
  }
  return out;
}

const scratch = new Uint16Array(8);

/**
 * Canonical form of an IP address, or undefined when `s` is not one. Accepts what may appear
 * as a socket address or an X-Forwarded-For element: surrounding blanks, `[v6]`, `[v6]:port`,
 * `v4:port`, a zone (`fe80::1%eth0`, dropped). IPv4-mapped IPv6 (`::ffff:1.2.3.4`) becomes
 * `1.2.3.4`; IPv6 is printed per RFC 5952. Never throws; the result is a fixed point.
 */
export function normaliseIp(s: unknown): string | undefined {
  if (typeof s !== 'string') return undefined;
  const kind = scanEntry(s, 0, s.length, scratch);
  if (kind === IPV4 || kind === IPV6) return formatAddress(kind, scratch);
  return undefined;
}
