// real_ip and cloudflare_real_ip (docs/client-ip.md#real_ip-and-cloudflare_real_ip): not steps of
// the chain but the route's (or the entrypoint's) rule for who the client is. The proxy applies
// it when it reads the request, before any middleware runs, so cidr_whitelist, rate_limit,
// bypass `remote` rules, iphash, X-Real-IP and the access log all judge the same address.
//
// GoDoxy's options: `header` (default X-Real-IP), `from` (peers whose header is believed),
// `recursive` (default false). GoDoxy ignores a real_ip without `from` (it logs and does
// nothing); Bellhop then believes the header from entrypoint.trusted_proxies only, so it never
// trusts more peers than the operator already does. cloudflare_real_ip reads CF-Connecting-IP
// (`recursive` as real_ip's, default false as in GoDoxy's schema)
// from Cloudflare's published ranges (embedded, cloudflare-ranges.ts) plus `from`; unlike
// GoDoxy it does not also trust every private range (behind Docker's userland proxy every
// outside client arrives from a private address and could forge the header): list cloudflared's
// address in `from` for a Cloudflare Tunnel.
import { parseTrustedProxies, type ClientIpRule, type TrustedProxies } from '../../pkg/realip/index.ts';
import { CLOUDFLARE_RANGES } from './cloudflare-ranges.ts';
import type { Middleware, MiddlewareFactory, MiddlewareSpec } from './middleware.ts';
import { OptionProblems, readBool, readCidrs, readHeaderNames } from './option-values.ts';

function ruleMiddleware(name: string, rule: ClientIpRule): Middleware {
  return { name, clientIpRule: rule, handle: () => 'continue' };
}

function noBypass(spec: MiddlewareSpec, p: OptionProblems): void {
  if (spec.bypass.length > 0) p.bad('bypass', `${spec.name} decides who the client is before any middleware runs; it takes no bypass rules`);
}

export const realIp: MiddlewareFactory = {
  name: 'real_ip',
  options: ['header', 'from', 'recursive'],
  restrictsAccess: true,
  create(spec) {
    const p = new OptionProblems(spec);
    const o = spec.options;
    noBypass(spec, p);
    let header = 'X-Real-IP';
    if (o.header !== undefined) {
      const names = p.take('header', readHeaderNames(o.header));
      if (names !== undefined && names.length !== 1) p.bad('header', 'one header name, e.g. X-Forwarded-For');
      else if (names !== undefined) header = names[0]!;
    }
    let from: TrustedProxies | undefined;
    if (o.from !== undefined) {
      from = p.take('from', readCidrs(o.from));
      if (from?.isEmpty === true) p.bad('from', 'at least one CIDR or IP whose header is believed (or leave from out: entrypoint.trusted_proxies)');
    }
    const recursive = o.recursive === undefined ? false : p.take('recursive', readBool(o.recursive));
    if (p.list.length > 0 || recursive === undefined) return p.list;
    return ruleMiddleware('real_ip', Object.freeze({ name: 'real_ip', header, headerLower: header.toLowerCase(), from, recursive }));
  },
};

export const cloudflareRealIp: MiddlewareFactory = {
  name: 'cloudflare_real_ip',
  options: ['from', 'recursive'],
  restrictsAccess: true,
  create(spec) {
    const p = new OptionProblems(spec);
    const o = spec.options;
    noBypass(spec, p);
    let extra: string[] = [];
    if (o.from !== undefined) {
      const more = p.take('from', readCidrs(o.from));
      if (more !== undefined) extra = [...more.entries];
    }
    const recursive = o.recursive === undefined ? false : p.take('recursive', readBool(o.recursive));
    if (p.list.length > 0 || recursive === undefined) return p.list;
    const from = parseTrustedProxies([...CLOUDFLARE_RANGES, ...extra]);
    return ruleMiddleware('cloudflare_real_ip', Object.freeze({ name: 'cloudflare_real_ip', header: 'CF-Connecting-IP', headerLower: 'cf-connecting-ip', from, recursive }));
  },
};
