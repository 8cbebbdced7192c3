import ipaddr from 'ipaddr.js';
import { EMPTY_ELEMENT, isIPv6, parseEntry, parseIPv4, parseIPv6, unmapIp } from './ip-address.ts';
import type { Ip } from './ip-address.ts';
import { RealIpError } from './realip-error.ts';

/**
 * A compiled set of address ranges (trusted proxies, or a pool's `from` list). Build it once
 * with `parseTrustedProxies` at config time: the ranges are kept as parsed ipaddr.js
 * `[network, prefix]` pairs per family, so `contains` is one `match` (a few integer compares)
 * per range of the address's family.
 */
export class TrustedProxies {
  /** Canonical `network/prefix` form of every range, in configuration order. */
  readonly entries: readonly string[];
  readonly #v4: readonly (readonly [ipaddr.IPv4, number])[];
  readonly #v6: readonly (readonly [ipaddr.IPv6, number])[];

  /** @internal use parseTrustedProxies */
  constructor(entries: readonly string[], v4: readonly (readonly [ipaddr.IPv4, number])[], v6: readonly (readonly [ipaddr.IPv6, number])[]) {
    this.entries = Object.freeze([...entries]);
    this.#v4 = v4;
    this.#v6 = v6;
  }

  /** True when no range is configured: nothing is trusted. */
  get isEmpty(): boolean {
    return this.entries.length === 0;
  }

  /** Whether `ip` (any text form normaliseIp accepts) lies in one of the ranges. Never throws. */
  contains(ip: string): boolean {
    if (this.entries.length === 0 || typeof ip !== 'string') return false;
    const addr = parseEntry(ip, 0, ip.length);
    return addr !== undefined && addr !== EMPTY_ELEMENT && this.containsIp(addr.ip);
  }

  /**
   * @internal Match an address already parsed by ip-address.ts (so never IPv4-mapped). IPv4
   * is only compared with IPv4 ranges and IPv6 with IPv6 ranges, as ipaddr.subnetMatch does.
   */
  containsIp(ip: Ip): boolean {
    const ranges = isIPv6(ip) ? this.#v6 : this.#v4;
    for (let i = 0; i < ranges.length; i++) {
      const [net, bits] = ranges[i]!;
      if (ip.match(net, bits)) return true;
    }
    return false;
  }
}

// ipaddr.js's parseCIDR reads the prefix with parseInt, so `/08` and `/008` pass there; we
// take a plain number without leading zeros.
const PREFIX = /^(0|[1-9]\d{0,2})$/;

function badEntry(entry: string, why: string): RealIpError {
  return new RealIpError('REALIP_BAD_TRUSTED_PROXY', `trusted proxy ${JSON.stringify(entry)} is not valid: ${why}`, entry);
}

/**
 * Compiles a list of IPv4/IPv6 addresses and CIDR ranges (`10.0.0.0/8`, `192.168.1.1`,
 * `fd00::/8`, `::1`). Host bits after the prefix are ignored (`10.1.2.3/8` = `10.0.0.0/8`).
 * An IPv4-mapped IPv6 range with a prefix of 96 or more (`::ffff:10.0.0.0/104`) is stored as
 * the IPv4 range it denotes, because clients are normalised to IPv4 before matching.
 * Addresses follow the same strict syntax as per-request parsing (no `0x7f.1`, no leading
 * zeros, no zones). Throws RealIpError `REALIP_BAD_TRUSTED_PROXY` naming the first bad entry.
 */
export function parseTrustedProxies(list: readonly string[]): TrustedProxies {
  if (!Array.isArray(list)) throw new RealIpError('REALIP_BAD_TRUSTED_PROXY', 'trusted proxies must be a list of IP addresses or CIDRs');
  const entries: string[] = [];
  const v4: [ipaddr.IPv4, number][] = [];
  const v6: [ipaddr.IPv6, number][] = [];
  for (const raw of list) {
    if (typeof raw !== 'string') throw badEntry(String(raw), 'expected a string');
    const entry = raw.trim();
    if (entry === '') throw badEntry(raw, 'empty entry');
    const slash = entry.indexOf('/');
    const addr = slash < 0 ? entry : entry.slice(0, slash);
    if (addr.includes('%')) throw badEntry(raw, 'zone identifiers are not allowed in ranges');
    const writtenAsV6 = addr.includes(':');
    const parsed: Ip | undefined = writtenAsV6 ? parseIPv6(addr) : parseIPv4(addr);
    if (parsed === undefined) {
      const hint = addr.startsWith('[') || /^[\d.]+:\d+$/.test(addr) ? ' (no brackets or ports)' : '';
      throw badEntry(raw, `not an IP address${hint}`);
    }
    const maxPrefix = writtenAsV6 ? 128 : 32;
    let prefix = maxPrefix;
    if (slash >= 0) {
      const p = entry.slice(slash + 1);
      if (!PREFIX.test(p) || Number(p) > maxPrefix) throw badEntry(raw, `prefix length must be a whole number from 0 to ${maxPrefix}`);
      prefix = Number(p);
    }
    // A mapped range of /96 or narrower is an IPv4 range; a wider one stays IPv6.
    const ip = prefix >= 96 ? unmapIp(parsed) : parsed;
    if (isIPv6(ip)) {
      const net = ipaddr.IPv6.networkAddressFromCIDR(`${ip.toRFC5952String()}/${prefix}`);
      v6.push([net, prefix]);
      entries.push(`${net.toRFC5952String()}/${prefix}`);
    } else {
      if (writtenAsV6) prefix -= 96;
      const net = ipaddr.IPv4.networkAddressFromCIDR(`${ip.toString()}/${prefix}`);
      v4.push([net, prefix]);
      entries.push(`${net.toString()}/${prefix}`);
    }
  }
  return new TrustedProxies(entries, v4, v6);
}

/** A matcher that trusts nothing (the default when `trusted_proxies` is empty). */
export const NO_TRUSTED_PROXIES: TrustedProxies = parseTrustedProxies([]);
