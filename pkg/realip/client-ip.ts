import { EMPTY_ELEMENT, parseEntry } from './ip-address.ts';
import type { Address } from './ip-address.ts';
import type { TrustedProxies } from './trusted-proxies.ts';

/**
 * Walks header lines as ONE comma-separated list from the right (last line, last element
 * first). `trusted` elements are skipped when `recursive`; the first other address is the
 * answer. A garbage element ends the walk with the last good address seen (or `fallback` when
 * there is none); if every element is skipped the leftmost one wins. Empty list elements are
 * ignored (RFC 9110 §5.6.1 lets recipients skip them). Linear in the header size; only the
 * answer is turned back into text.
 */
export function walkForwardedList(
  lines: readonly string[],
  trusted: TrustedProxies,
  recursive: boolean,
  fallback: string,
): string {
  let good: Address | undefined;
  for (let li = lines.length - 1; li >= 0; li--) {
    const line = lines[li];
    if (typeof line !== 'string') continue;
    let pos = line.length;
    while (true) {
      const comma = pos > 0 ? line.lastIndexOf(',', pos - 1) : -1;
      const addr = parseEntry(line, comma + 1, pos);
      if (addr === undefined) return good === undefined ? fallback : good.text;
      if (addr !== EMPTY_ELEMENT) {
        if (!recursive || !trusted.containsIp(addr.ip)) return addr.text;
        good = addr;
      }
      if (comma < 0) break;
      pos = comma;
    }
  }
  return good === undefined ? fallback : good.text;
}

/** Who is on the other end of a request, as decided by `resolveClient`. */
export interface ClientAddress {
  /** Canonical socket peer address. */
  readonly peerIp: string;
  /** Whether the peer is one of the trusted proxies (its forwarding headers are believed). */
  readonly peerTrusted: boolean;
  /** Canonical client address (the peer itself unless the peer is trusted). */
  readonly clientIp: string;
}

const one: [string] = [''];

/**
 * docs/client-ip.md client address. The socket peer is the client unless it is trusted; from a trusted
 * peer, X-Forwarded-For (all lines and comma lists as one list) is walked from the right and
 * the first address that is not trusted is the client; if all are trusted, the leftmost;
 * a garbage element ends the walk with the last good address seen (the peer if the rightmost
 * element is garbage). Elements may carry ports (`1.2.3.4:5678`, `[2001:db8::1]:443`), which
 * are dropped. Returns undefined only when `peer` itself is not an IP address (for example
 * `socket.remoteAddress` of an already closed socket). Never throws.
 */
export function resolveClient(
  peer: string | undefined,
  xff: string | readonly string[] | undefined,
  trusted: TrustedProxies,
): ClientAddress | undefined {
  if (typeof peer !== 'string') return undefined;
  const peerAddr = parseEntry(peer, 0, peer.length);
  if (peerAddr === undefined || peerAddr === EMPTY_ELEMENT) return undefined;
  const peerIp = peerAddr.text;
  const peerTrusted = !trusted.isEmpty && trusted.containsIp(peerAddr.ip);
  if (!peerTrusted || xff === undefined) return { peerIp, peerTrusted, clientIp: peerIp };
  let lines: readonly string[];
  if (typeof xff === 'string') {
    one[0] = xff;
    lines = one;
  } else {
    lines = xff;
  }
  const clientIp = walkForwardedList(lines, trusted, true, peerIp);
  one[0] = '';
  return { peerIp, peerTrusted, clientIp };
}

/** The client address alone; see `resolveClient`. Undefined only for a non-IP `peer`. */
export function clientIp(
  peer: string | undefined,
  xff: string | readonly string[] | undefined,
  trusted: TrustedProxies,
): string | undefined {
  return resolveClient(peer, xff, trusted)?.clientIp;
}
