import { EMPTY_ELEMENT, parseEntry } from './ip-address.ts';
import { walkForwardedList } from './client-ip.ts';
import type { TrustedProxies } from './trusted-proxies.ts';

/**
 * A route's (or the entrypoint's) own way to find the client: GoDoxy's `real_ip` and
 * `cloudflare_real_ip` middlewares (docs/client-ip.md#real_ip-and-cloudflare_real_ip). It is
 * asked before anything else looks at the client address, so cidr_whitelist, rate_limit,
 * bypass rules, iphash, X-Real-IP and the access log all see the same client.
 */
export interface ClientIpRule {
  /** The middleware it came from, for display (`real_ip`, `cloudflare_real_ip`). */
  readonly name: string;
  /** The header carrying the client address, as configured. */
  readonly header: string;
  readonly headerLower: string;
  /** Peers whose header is believed; undefined: the entrypoint's trusted_proxies. */
  readonly from: TrustedProxies | undefined;
  /** Walk the header from the right, skipping `from` addresses (nginx real_ip_recursive). */
  readonly recursive: boolean;
}

/**
 * The client address by `rule`, or undefined when the rule does not apply (the peer is not in
 * its `from`, or the header is absent): then the entrypoint's rule (trusted_proxies) decides.
 * Several header lines and comma lists are one list; garbage ends the walk at the last good
 * address (or the peer). Never throws.
 */
export function clientIpByRule(peerIp: string, rawHeaders: readonly string[], rule: ClientIpRule, trusted: TrustedProxies): string | undefined {
  const from = rule.from ?? trusted;
  if (from.isEmpty) return undefined;
  const peer = parseEntry(peerIp, 0, peerIp.length);
  if (peer === undefined || peer === EMPTY_ELEMENT || !from.containsIp(peer.ip)) return undefined;
  const name = rule.headerLower;
  let lines: string[] | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const n = rawHeaders[i]!;
    if (n.length === name.length && n.toLowerCase() === name) (lines ??= []).push(rawHeaders[i + 1]!);
  }
  if (lines === undefined) return undefined;
  return walkForwardedList(lines, from, rule.recursive, peer.text);
}
