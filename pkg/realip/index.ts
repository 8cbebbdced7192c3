// pkg/realip: who is the client of a request. Trusted-proxy ranges are compiled once at config
// time (ipaddr.js ranges); the per-request functions parse with ipaddr.js behind a strict
// syntax guard and never throw.

/** Canonical text of an IP address (`::ffff:1.2.3.4` → `1.2.3.4`, RFC 5952 IPv6), or undefined. */
export { normaliseIp } from './ip-address.ts';
/** Compiled address ranges and the function that builds them from config text. */
export { TrustedProxies, parseTrustedProxies, NO_TRUSTED_PROXIES } from './trusted-proxies.ts';
/** docs/client-ip.md: the client address behind trusted proxies (X-Forwarded-For walk). */
export { clientIp, resolveClient } from './client-ip.ts';
export type { ClientAddress } from './client-ip.ts';
/** GoDoxy-compatible per-pool real-IP options (`load_balance.options`) for `iphash`. */
export { compileRealIpOptions, realIpFromOptions, DEFAULT_REAL_IP_HEADER } from './real-ip-options.ts';
export type { RealIpOptions, RealIpOptionsInput } from './real-ip-options.ts';
/** A route's or the entrypoint's own client rule (real_ip, cloudflare_real_ip middlewares). */
export { clientIpByRule } from './client-ip-rule.ts';
export type { ClientIpRule } from './client-ip-rule.ts';
/** Configuration errors with a stable `code` and the offending `entry`. */
export { RealIpError } from './realip-error.ts';
export type { RealIpErrorCode } from './realip-error.ts';
