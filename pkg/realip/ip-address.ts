// Reading IP addresses as they appear in a socket's remoteAddress or an X-Forwarded-For
// element. ipaddr.js does the address math (octet/word values, IPv6 `::` expansion, the
// IPv4-mapped test and conversion, RFC 5952 printing, CIDR matching). ipaddr.js's parsers
// accept more than a forwarding header may contain, so a thin guard stands in front of them:
//
// - IPv4: ipaddr.IPv4.parse also reads `0x7f.1`, `2130706433`, `127.1` and octal `010.0.0.1`.
//   We accept only what ipaddr.IPv4.isValidFourPartDecimal accepts (four decimal parts, no
//   leading zeros, each 0-255). The guard is that function's rule as one regular expression,
//   and the four parts go straight to the ipaddr.IPv4 constructor: isValidFourPartDecimal +
//   parse would read the same text twice (~370 ns against ~60 ns), and letting the
//   constructor reject `256` costs a thrown error (~3 us). The tests check the equivalence.
// - IPv6 with a dotted IPv4 tail: ipaddr.js reads the IPv4-compatible `::1.2.3.4` as the
//   mapped `::ffff:1.2.3.4` (a different address), and reads the tail with parseInt, so
//   `::ffff:010.0.0.1` is 10.0.0.1 there but 8.0.0.1 in its IPv4 parser, and `0x` parts pass.
//   We read the tail with the strict IPv4 reader above and give ipaddr.IPv6 the all-hex text.
// - Zones: ipaddr.js allows only `%[0-9a-z]+`; Linux interface names carry `-` and `.`
//   (`%br-4f2a`, `%eth0.100`). The zone is dropped from the result anyway, so we check it
//   against RFC 6874 (unreserved characters) and strip it before ipaddr.js sees the text.
// - `::ffff:a.b.c.d`, the form Node reports for every IPv4 client of a dual-stack listener, is
//   read as the IPv4 address a.b.c.d directly: same answer as
//   `ipaddr.IPv6.parse(s).toIPv4Address()` (the tests check this) at a tenth of the cost.
//
// IPv4-mapped IPv6 always comes out as IPv4, so it matches IPv4 ranges and hashes like IPv4.
import ipaddr from 'ipaddr.js';

/** A parsed address. Never IPv4-mapped IPv6 (that is converted to IPv4) and never zoned. */
export type Ip = ipaddr.IPv4 | ipaddr.IPv6;

// Longest text we are willing to look at: a full IPv6 with IPv4 tail is 45 characters, plus
// brackets, a port and a short zone. Anything longer is garbage; the cap bounds the regex work.
const MAX_ENTRY_LENGTH = 80;

// What ipaddr.IPv4.isValidFourPartDecimal accepts: four parts 0-255, no leading zeros.
const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const FOUR_PART_DECIMAL = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

// RFC 6874 zone IDs are unreserved characters: ALPHA / DIGIT / "-" / "." / "_" / "~".
const ZONE_ID = /^[A-Za-z0-9\-._~]+$/;

/** `::ffff:0:0/96`, the IPv4-mapped block (precompiled: `match` is a few compares). */
const IPV4_MAPPED: [ipaddr.IPv6, number] = ipaddr.IPv6.parseCIDR('::ffff:0:0/96');

/** Strict dotted-decimal IPv4 (see the guard above), or undefined. */
export function parseIPv4(text: string): ipaddr.IPv4 | undefined {
  const m = FOUR_PART_DECIMAL.exec(text);
  return m === null ? undefined : new ipaddr.IPv4([Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])]);
}

/**
 * Strict RFC 4291 IPv6 text without a zone, including `::` and a dotted IPv4 tail, or
 * undefined. IPv4-mapped addresses are returned as IPv6 (see `unmapIp`).
 */
export function parseIPv6(text: string): ipaddr.IPv6 | undefined {
  if (text.length > MAX_ENTRY_LENGTH || text.indexOf('%') >= 0) return undefined;
  if (text.indexOf('.') >= 0) {
    const colon = text.lastIndexOf(':');
    if (colon < 0) return undefined;
    const tail = parseIPv4(text.slice(colon + 1));
    if (tail === undefined) return undefined;
    const [a, b, c, d] = tail.octets as [number, number, number, number];
    // `::1.2.3.4` → `::102:304`: the IPv4 tail is the last two 16-bit words.
    text = `${text.slice(0, colon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  try {
    // IPv6.parse is IPv6.isValid's check and the construction in one call (isValid + parse
    // would read the text twice); it throws on anything isValid rejects.
    return ipaddr.IPv6.parse(text);
  } catch {
    return undefined;
  }
}

/** Narrows by ipaddr.js's own family tag. */
export function isIPv6(ip: Ip): ip is ipaddr.IPv6 {
  return ip.kind() === 'ipv6';
}

/** IPv4 for an IPv4-mapped IPv6 address, else the address itself. */
export function unmapIp(ip: Ip): Ip {
  return isIPv6(ip) && ip.match(IPV4_MAPPED) ? ip.toIPv4Address() : ip;
}

function isMappedPrefix(s: string): boolean {
  // `::ffff:` in any letter case, as the first seven characters.
  return s.length > 7 && s.charCodeAt(0) === 58 && s.charCodeAt(1) === 58 && s.charCodeAt(6) === 58 && s.slice(2, 6).toLowerCase() === 'ffff';
}

/** A parsed address and its canonical text (dotted decimal, or RFC 5952 IPv6). */
export interface Address {
  readonly ip: Ip;
  readonly text: string;
}

// ipaddr.IPv6.parse costs ~450-650 ns and toRFC5952String ~300 ns (regex work), against
// ~60 ns for the IPv4 path, so IPv6 answers are remembered by their text. The same few
// addresses come back on every request (the trusted proxy in front, a client's repeated
// requests). Bounded: emptied when full, so odd or hostile input cannot grow it. Only valid
// addresses are stored; garbage ends a walk, so it is parsed at most once a request.
const V6_CACHE_MAX = 1024;
const v6Cache = new Map<string, Address>();

function v6Address(text: string): Address | undefined {
  const hit = v6Cache.get(text);
  if (hit !== undefined) return hit;
  const v6 = parseIPv6(text);
  if (v6 === undefined) return undefined;
  const ip = unmapIp(v6);
  const addr: Address = { ip, text: formatIp(ip) };
  if (v6Cache.size >= V6_CACHE_MAX) v6Cache.clear();
  v6Cache.set(text, addr);
  return addr;
}

/**
 * A bare address (no brackets, no port, no blanks): IPv4, or IPv6 with an optional zone
 * (checked, then dropped). IPv4-mapped IPv6 is returned as IPv4.
 */
export function parseAddress(text: string): Address | undefined {
  if (text.length === 0 || text.length > MAX_ENTRY_LENGTH) return undefined;
  if (text.indexOf(':') < 0) return v4Address(text);
  const pct = text.indexOf('%');
  if (pct >= 0) {
    if (!ZONE_ID.test(text.slice(pct + 1))) return undefined;
    text = text.slice(0, pct);
  }
  if (isMappedPrefix(text) && text.indexOf(':', 7) < 0) return v4Address(text.slice(7));
  return v6Address(text);
}

function v4Address(text: string): Address | undefined {
  const ip = parseIPv4(text);
  // Text that passed the four-part-decimal guard is already canonical (ip.toString()).
  return ip === undefined ? undefined : { ip, text };
}

function isPort(s: string): boolean {
  return /^\d{1,5}$/.test(s) && Number(s) <= 65535;
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9;
}

/** `parseEntry` result for an empty or blank list element (`a,,b`). */
export const EMPTY_ELEMENT = null;

/**
 * One list element as found in X-Forwarded-For, s[start, end): optional surrounding
 * spaces/tabs, then an address, `[ipv6]`, `[ipv6]:port` or `ipv4:port` (the port is checked
 * and dropped). A bare IPv6 address cannot carry a port (its last group would be ambiguous).
 * Returns EMPTY_ELEMENT for a blank slice and undefined when it is not an address.
 */
export function parseEntry(s: string, start: number, end: number): Address | undefined | typeof EMPTY_ELEMENT {
  while (start < end && isBlank(s.charCodeAt(start))) start++;
  while (end > start && isBlank(s.charCodeAt(end - 1))) end--;
  if (start === end) return EMPTY_ELEMENT;
  if (end - start > MAX_ENTRY_LENGTH) return undefined;
  if (s.charCodeAt(start) === 91) {
    const close = s.indexOf(']', start);
    if (close < 0 || close >= end) return undefined;
    if (close + 1 < end && (s.charCodeAt(close + 1) !== 58 || !isPort(s.slice(close + 2, end)))) return undefined;
    const inner = s.slice(start + 1, close);
    // Brackets are for IPv6 only: `[1.2.3.4]` is not a valid URI host.
    if (inner.indexOf(':') < 0) return undefined;
    return parseAddress(inner);
  }
  const text = start === 0 && end === s.length ? s : s.slice(start, end);
  const first = text.indexOf(':');
  if (first >= 0 && text.indexOf(':', first + 1) < 0) {
    // Exactly one colon: only `ipv4:port` makes sense.
    return isPort(text.slice(first + 1)) ? v4Address(text.slice(0, first)) : undefined;
  }
  return parseAddress(text);
}

/** Canonical text: dotted decimal, or RFC 5952 IPv6 (lower case, longest zero run as `::`). */
export function formatIp(ip: Ip): string {
  return isIPv6(ip) ? ip.toRFC5952String() : ip.toString();
}

/**
 * Canonical form of an IP address, or undefined when `s` is not one. Accepts what may appear
 * as a socket address or an X-Forwarded-For element: surrounding blanks, `[v6]`, `[v6]:port`,
 * `v4:port`, a zone (`fe80::1%eth0`, dropped). IPv4-mapped IPv6 (`::ffff:1.2.3.4`) becomes
 * `1.2.3.4`; IPv6 is printed per RFC 5952. Never throws; the result is a fixed point.
 */
export function normaliseIp(s: unknown): string | undefined {
  if (typeof s !== 'string') return undefined;
  const addr = parseEntry(s, 0, s.length);
  return addr === undefined || addr === EMPTY_ELEMENT ? undefined : addr.text;
}
