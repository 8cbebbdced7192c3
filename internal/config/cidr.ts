// A dependency-free check for `entrypoint.trusted_proxies` and `options.from` entries; the caller
// may inject a stricter validator (pkg/realip owns ipaddr.js, which config must not import).
import { isIP } from 'node:net';

/** Returns undefined when `text` is an IP or CIDR, else a reason. */
export type CidrValidator = (text: string) => string | undefined;

/** Accepts `1.2.3.4`, `10.0.0.0/8`, `::1`, `fd00::/8`. */
export const checkCidr: CidrValidator = (text) => {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  // isIP accepts IPv6 zone identifiers (fe80::1%eth0); a range cannot carry one (pkg/realip agrees).
  const family = addr.includes('%') ? 0 : isIP(addr);
  if (family === 0) return `${JSON.stringify(text)} is not an IP address or CIDR (e.g. "10.0.0.0/8", "192.168.1.10", "fd00::/8")`;
  if (slash < 0) return undefined;
  const bits = text.slice(slash + 1);
  const max = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return `${JSON.stringify(text)}: prefix length must be 0-${String(max)}`;
  return undefined;
};
