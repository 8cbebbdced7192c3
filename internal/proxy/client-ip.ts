// Minimal trusted-proxy client IP for the proxy (pkg/realip is the full version; the
// composition root may pass its own resolver instead). Uses node:net BlockList: no parsing
// per request beyond the X-Forwarded-For walk, which only happens for trusted peers.
import { BlockList, isIP } from 'node:net';

/** Which peers' forwarding headers are believed. */
export interface TrustedProxies {
  /** `ip` must already be normalised (no `::ffff:` prefix). */
  has(ip: string): boolean;
}

/** Strip the IPv4-mapped IPv6 prefix so 1.2.3.4 and ::ffff:1.2.3.4 are one client. */
export function normaliseIp(ip: string): string {
  if (ip.length > 7 && ip.charCodeAt(0) === 58 /* : */ && ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4) return ip.slice(7);
  return ip;
}

/** Build a TrustedProxies from CIDRs / addresses (`10.0.0.0/8`, `::1`, `172.17.0.1`). Throws on garbage. */
export function trustedProxies(list: readonly string[]): TrustedProxies {
  if (list.length === 0) return { has: () => false };
  const bl = new BlockList();
  for (const entry of list) {
    const slash = entry.indexOf('/');
    const addr = normaliseIp(slash === -1 ? entry : entry.slice(0, slash));
    const fam = isIP(addr);
    if (fam === 0) throw new Error(`trusted_proxies: "${entry}" is not an IP address or CIDR`);
    const type = fam === 4 ? 'ipv4' : 'ipv6';
    if (slash === -1) {
      bl.addAddress(addr, type);
    } else {
      const prefix = Number(entry.slice(slash + 1));
      if (!Number.isInteger(prefix) || prefix < 0 || prefix > (fam === 4 ? 32 : 128)) {
        throw new Error(`trusted_proxies: "${entry}" has a bad prefix length`);
      }
      bl.addSubnet(addr, prefix, type);
    }
  }
  return {
    has(ip: string): boolean {
      const fam = isIP(ip);
      if (fam === 0) return false;
      return bl.check(ip, fam === 4 ? 'ipv4' : 'ipv6');
    },
  };
}

/**
 * The client behind a trusted peer: walk `X-Forwarded-For` (all lines joined) from the right
 * and take the first untrusted address; all trusted → the leftmost; a garbage entry ends the
 * walk with the last good address seen. Never throws.
 */
export function clientFromForwardedFor(peer: string, xff: string, trusted: TrustedProxies): string {
  let last = peer;
  let end = xff.length;
  while (end > 0) {
    const comma = xff.lastIndexOf(',', end - 1);
    let item = xff.slice(comma + 1, end).trim();
    end = comma === -1 ? 0 : comma;
    if (item === '') continue;
    // tolerate [v6]:port and v4:port spellings
    if (item.charCodeAt(0) === 91 /* [ */) {
      const close = item.indexOf(']');
      item = close === -1 ? '' : item.slice(1, close);
    } else if (item.indexOf(':') !== -1 && item.indexOf(':') === item.lastIndexOf(':')) {
      item = item.slice(0, item.indexOf(':'));
    }
    if (isIP(item) === 0) return last;
    item = normaliseIp(item);
    last = item;
    if (!trusted.has(item)) return item;
  }
  return last;
}
