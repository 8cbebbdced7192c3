import { EMPTY, IPV4, IPV6, NOT_IP, formatAddress, scanEntry } from './ip-address.ts';
import type { TrustedProxies } from './trusted-proxies.ts';

const scratch = new Uint16Array(8);

/**
 * Walks header lines as ONE comma-separated list from the right (last line, last element
 * first). `trusted` elements are skipped when `recursive`; the first other address is the
 * answer. A garbage element ends the walk with the last good address seen (or `fallback` when
 * there is none); if every element is skipped the leftmost one wins. Empty list elements are
 * ignored (RFC 9110 §5.6.1 lets recipients skip them). Linear in the header size, no
 * allocation except the returned string.
 */
export function walkForwardedList(
  lines: readonly string[],
  trusted: TrustedProxies,
  recursive: boolean,
  fallback: string,
): string {
  let goodLine = -1;
  let goodStart = 0;
  let goodEnd = 0;
  for (let li = lines.length - 1; li >= 0; li--) {
    const line = lines[li];
    if (typeof line !== 'string') continue;
    let pos = line.length;
    while (true) {
      const comma = pos > 0 ? line.lastIndexOf(',', pos - 1) : -1;
      const kind = scanEntry(line, comma + 1, pos, scratch);
      if (kind === NOT_IP) return goodLine < 0 ? fallback : reformat(lines, goodLine, goodStart, goodEnd, fallback);
      if (kind !== EMPTY) {
        if (!recursive || !trusted.containsScanned(kind, scratch)) return formatAddress(kind, scratch);
        goodLine = li;
        goodStart = comma + 1;
        goodEnd = pos;
      }
      if (comma < 0) break;
      pos = comma;
    }
  }
  return goodLine < 0 ? fallback : reformat(lines, goodLine, goodStart, goodEnd, fallback);
}

function reformat(lines: readonly string[], li: number, start: number, end: number, fallback: string): string {
  const kind = scanEntry(lines[li]!, start, end, scratch);
  return kind === IPV4 || kind === IPV6 ? formatAddress(kind, scratch) : fallback;
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
 * SPEC §6 client address. The socket peer is the client unless it is trusted; from a trusted
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
  const kind = scanEntry(peer, 0, peer.length, scratch);
  if (kind === NOT_IP || kind === EMPTY) return undefined;
  const peerIp = formatAddress(kind, scratch);
  const peerTrusted = !trusted.isEmpty && trusted.containsScanned(kind, scratch);
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
