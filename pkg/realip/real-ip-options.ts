import { EMPTY_ELEMENT, parseEntry } from './ip-address.ts';
import { walkForwardedList } from './client-ip.ts';
import { RealIpError } from './realip-error.ts';
import { parseTrustedProxies } from './trusted-proxies.ts';
import type { TrustedProxies } from './trusted-proxies.ts';

/** A pool's `load_balance.options` as written (GoDoxy's RealIP middleware options). */
export interface RealIpOptionsInput {
  /** Header carrying the client address; default `X-Real-IP`. */
  header?: string | undefined;
  /** Peers whose header is believed (CIDRs or addresses); required, at least one. */
  from: readonly string[];
  /** Walk the header from the right skipping `from` addresses; default false. */
  recursive?: boolean | undefined;
}

/** Compiled options, built once at config time by `compileRealIpOptions`. */
export interface RealIpOptions {
  /** Header name as configured (for display). */
  readonly header: string;
  /** Lower-case header name, compared against rawHeaders names. */
  readonly headerLower: string;
  readonly from: TrustedProxies;
  readonly recursive: boolean;
}

export const DEFAULT_REAL_IP_HEADER = 'X-Real-IP';

// RFC 9110 §5.6.2 token characters.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Validates and compiles a pool's real-IP options. Unlike GoDoxy, which logs "invalid
 * real_ip options, ignoring" and silently hashes the socket address, a missing `from` is an
 * error (`REALIP_NO_FROM`), as are a bad header name (`REALIP_BAD_HEADER`) and a bad range
 * (`REALIP_BAD_TRUSTED_PROXY`, naming it).
 */
export function compileRealIpOptions(input: RealIpOptionsInput): RealIpOptions {
  const header = input.header ?? DEFAULT_REAL_IP_HEADER;
  if (typeof header !== 'string' || !TOKEN.test(header)) {
    throw new RealIpError('REALIP_BAD_HEADER', `options.header ${JSON.stringify(header)} is not a valid header name`, String(header));
  }
  if (!Array.isArray(input.from) || input.from.length === 0) {
    throw new RealIpError('REALIP_NO_FROM', 'options.from must list at least one trusted address or CIDR whose header is believed');
  }
  return Object.freeze({
    header,
    headerLower: header.toLowerCase(),
    from: parseTrustedProxies(input.from),
    recursive: input.recursive === true,
  });
}

/**
 * GoDoxy-compatible real IP for a pool's `iphash` (its RealIP middleware), with its bugs
 * fixed. `rawHeaders` is Node's flat name/value array.
 *
 * - header absent, or the peer not in `from`: the socket peer;
 * - not recursive: the rightmost element of the header (all lines and comma lists as one
 *   list; GoDoxy parsed each line as a single address, so `a, b` was ignored); garbage there
 *   means the peer (GoDoxy used the garbage string itself);
 * - recursive: walk from the right skipping `from` addresses, first other address wins; all
 *   in `from` → the leftmost (GoDoxy kept the peer); garbage ends the walk with the last good
 *   address seen (GoDoxy could pick the garbage).
 *
 * Returns canonical text; undefined only when `peer` is not an IP address. Never throws.
 */
export function realIpFromOptions(peer: string | undefined, rawHeaders: readonly string[], opts: RealIpOptions): string | undefined {
  if (typeof peer !== 'string') return undefined;
  const peerAddr = parseEntry(peer, 0, peer.length);
  if (peerAddr === undefined || peerAddr === EMPTY_ELEMENT) return undefined;
  const peerIp = peerAddr.text;
  if (!opts.from.containsIp(peerAddr.ip)) return peerIp;
  const name = opts.headerLower;
  let lines: string[] | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const n = rawHeaders[i]!;
    if (n.length === name.length && n.toLowerCase() === name) (lines ??= []).push(rawHeaders[i + 1]!);
  }
  if (lines === undefined) return peerIp;
  return walkForwardedList(lines, opts.from, opts.recursive, peerIp);
}
