import { IPV4, IPV6, NOT_IP, formatAddress, scanAddress, scanEntry } from './ip-address.ts';
import type { IpKind } from './ip-address.ts';
import { RealIpError } from './realip-error.ts';

/**
 * A compiled set of address ranges (trusted proxies, or a pool's `from` list). Build it once
 * with `parseTrustedProxies` at config time; `contains` is then a few integer compares per
 * range, no allocation.
 */
export class TrustedProxies {
  /** Canonical `network/prefix` form of every range, in configuration order. */
  readonly entries: readonly string[];
  // IPv4 ranges as 32-bit network and mask; IPv6 ranges as 8 words of network and mask each.
  readonly #v4Net: Uint32Array;
  readonly #v4Mask: Uint32Array;
  readonly #v6Net: Uint16Array;
  readonly #v6Mask: Uint16Array;

  /** @internal use parseTrustedProxies */
  constructor(entries: readonly string[], v4Net: Uint32Array, v4Mask: Uint32Array, v6Net: Uint16Array, v6Mask: Uint16Array) {
    this.entries = Object.freeze([...entries]);
    this.#v4Net = v4Net;
    this.#v4Mask = v4Mask;
    this.#v6Net = v6Net;
    this.#v6Mask = v6Mask;
  }

  /** True when no range is configured: nothing is trusted. */
  get isEmpty(): boolean {
    return this.entries.length === 0;
  }

  /** Whether `ip` (any text form normaliseIp accepts) lies in one of the ranges. Never throws. */
  contains(ip: string): boolean {
    if (this.entries.length === 0 || typeof ip !== 'string') return false;
    const kind = scanEntry(ip, 0, ip.length, probe);
    return (kind === IPV4 || kind === IPV6) && this.containsScanned(kind, probe);
  }

  /** @internal Match an address already scanned into `w`. */
  containsScanned(kind: typeof IPV4 | typeof IPV6, w: Uint16Array): boolean {
    if (kind === IPV4) {
      const net = this.#v4Net;
      const mask = this.#v4Mask;
      const ip = ((w[6]! << 16) | w[7]!) >>> 0;
      for (let i = 0; i < net.length; i++) if (((ip & mask[i]!) >>> 0) === net[i]) return true;
      return false;
    }
    const net = this.#v6Net;
    const mask = this.#v6Mask;
    for (let base = 0; base < net.length; base += 8) {
      let j = 0;
      while (j < 8 && (w[j]! & mask[base + j]!) === net[base + j]) j++;
      if (j === 8) return true;
    }
    return false;
  }
}

const probe = new Uint16Array(8);

function parsePrefix(s: string, max: number): number | undefined {
  if (s.length < 1 || s.length > 3) return undefined;
  let v = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
    v = v * 10 + (c - 48);
  }
  if (s.length > 1 && s.charCodeAt(0) === 48) return undefined;
  return v <= max ? v : undefined;
}

function badEntry(entry: string, why: string): RealIpError {
  return new RealIpError('REALIP_BAD_TRUSTED_PROXY', `trusted proxy ${JSON.stringify(entry)} is not valid: ${why}`, entry);
}

/**
 * Compiles a list of IPv4/IPv6 addresses and CIDR ranges (`10.0.0.0/8`, `192.168.1.1`,
 * `fd00::/8`, `::1`). Host bits after the prefix are ignored (`10.1.2.3/8` = `10.0.0.0/8`).
 * An IPv4-mapped IPv6 range with a prefix of 96 or more (`::ffff:10.0.0.0/104`) is stored as
 * the IPv4 range it denotes, because clients are normalised to IPv4 before matching.
 * Throws RealIpError `REALIP_BAD_TRUSTED_PROXY` naming the first bad entry.
 */
export function parseTrustedProxies(list: readonly string[]): TrustedProxies {
  if (!Array.isArray(list)) throw new RealIpError('REALIP_BAD_TRUSTED_PROXY', 'trusted proxies must be a list of IP addresses or CIDRs');
  const entries: string[] = [];
  const v4Net: number[] = [];
  const v4Mask: number[] = [];
  const v6Net: number[] = [];
  const v6Mask: number[] = [];
  const w = new Uint16Array(8);
  for (const raw of list) {
    if (typeof raw !== 'string') throw badEntry(String(raw), 'expected a string');
    const entry = raw.trim();
    if (entry === '') throw badEntry(raw, 'empty entry');
    const slash = entry.indexOf('/');
    const addr = slash < 0 ? entry : entry.slice(0, slash);
    if (addr.includes('%')) throw badEntry(raw, 'zone identifiers are not allowed in ranges');
    const kind: IpKind = scanAddress(addr, 0, addr.length, w);
    if (kind === NOT_IP) {
      const hint = addr.startsWith('[') || /^[\d.]+:\d+$/.test(addr) ? ' (no brackets or ports)' : '';
      throw badEntry(raw, `not an IP address${hint}`);
    }
    const writtenAsV6 = addr.includes(':');
    const maxPrefix = writtenAsV6 ? 128 : 32;
    let prefix = maxPrefix;
    if (slash >= 0) {
      const p = parsePrefix(entry.slice(slash + 1), maxPrefix);
      if (p === undefined) throw badEntry(raw, `prefix length must be a whole number from 0 to ${maxPrefix}`);
      prefix = p;
    }
    if (kind === IPV4 && writtenAsV6) {
      if (prefix < 96) {
        // A wide IPv6 range that happens to be written with a mapped address: keep it IPv6.
        pushV6(w, prefix, v6Net, v6Mask);
        entries.push(`${formatAddressV6Masked(w, prefix)}/${prefix}`);
        continue;
      }
      prefix -= 96;
    }
    if (kind === IPV4) {
      const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
      const net = ((((w[6]! << 16) | w[7]!) >>> 0) & mask) >>> 0;
      v4Net.push(net);
      v4Mask.push(mask);
      w[6] = net >>> 16;
      w[7] = net & 0xffff;
      entries.push(`${formatAddress(IPV4, w)}/${prefix}`);
    } else {
      pushV6(w, prefix, v6Net, v6Mask);
      entries.push(`${formatAddressV6Masked(w, prefix)}/${prefix}`);
    }
  }
  return new TrustedProxies(entries, Uint32Array.from(v4Net), Uint32Array.from(v4Mask), Uint16Array.from(v6Net), Uint16Array.from(v6Mask));
}

function pushV6(w: Uint16Array, prefix: number, nets: number[], masks: number[]): void {
  for (let j = 0; j < 8; j++) {
    const bits = Math.max(0, Math.min(16, prefix - 16 * j));
    const mask = bits === 0 ? 0 : (0xffff << (16 - bits)) & 0xffff;
    nets.push(w[j]! & mask);
    masks.push(mask);
  }
}

function formatAddressV6Masked(w: Uint16Array, prefix: number): string {
  const m = new Uint16Array(8);
  for (let j = 0; j < 8; j++) {
    const bits = Math.max(0, Math.min(16, prefix - 16 * j));
    m[j] = bits === 0 ? 0 : w[j]! & ((0xffff << (16 - bits)) & 0xffff);
  }
  return formatAddress(IPV6, m);
}

/** A matcher that trusts nothing (the default when `trusted_proxies` is empty). */
export const NO_TRUSTED_PROXIES: TrustedProxies = parseTrustedProxies([]);
