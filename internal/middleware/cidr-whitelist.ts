// cidr_whitelist: only clients whose real IP (trusted proxies applied, docs/client-ip.md) lies
// in `allow` get through; others get `status_code` (403) with `message`. Ranges are compiled
// once by pkg/realip (ipaddr.js); IPv4-mapped IPv6 clients match their IPv4 ranges.
import type { MiddlewareFactory } from './middleware.ts';
import { sendMiddlewareError } from './middleware-errors.ts';
import { OptionProblems, readCidrs, readInt, readText } from './option-values.ts';

export const cidrWhitelist: MiddlewareFactory = {
  name: 'cidr_whitelist',
  options: ['allow', 'status_code', 'message'],
  restrictsAccess: true,
  create(spec) {
    const p = new OptionProblems(spec);
    const o = spec.options;
    const allow = o.allow === undefined ? (p.missing('allow', 'the CIDRs or IPs let in, e.g. [10.0.0.0/8, 192.168.1.5]'), undefined) : p.take('allow', readCidrs(o.allow));
    if (allow?.isEmpty === true) p.missing('allow', 'at least one CIDR or IP (an empty list would let nobody in)');
    const status = o.status_code === undefined ? 403 : p.take('status_code', readInt(o.status_code, 400, 599));
    const message = o.message === undefined ? 'IP not allowed' : p.take('message', readText(o.message));
    if (p.list.length > 0 || allow === undefined || status === undefined || message === undefined) return p.list;
    return {
      name: 'cidr_whitelist',
      handle(_req, res, facts) {
        if (allow.contains(facts.clientIp)) return 'continue';
        sendMiddlewareError(res, 'MIDDLEWARE_IP_NOT_ALLOWED', { status, message });
        return 'answered';
      },
    };
  },
};
