// `filters` (docs/access-log.md), GoDoxy's semantics: every filter must let a request through;
// a filter passes when one of its values matches, or — with `negative` — when none does. An
// empty list passes everything (negative: nothing). Unlike GoDoxy, `host` is applied (GoDoxy
// parses it but never checks it), hosts and header names match in any case, and `cidr` is
// matched against the real client IP.
import { parseTrustedProxies, type TrustedProxies } from '../../pkg/realip/index.ts';
import type { AccessLogFilters, FilterSpec } from './access-log-spec.ts';
import type { LineFacts } from './format-line.ts';

export type RequestFilter = (f: LineFacts) => boolean;

function one<T>(spec: FilterSpec<T> | undefined, match: (v: T, f: LineFacts) => boolean): RequestFilter | undefined {
  if (spec === undefined) return undefined;
  const { negative, values } = spec;
  if (values.length === 0) return negative ? () => false : undefined;
  return (f) => {
    for (const v of values) if (match(v, f)) return !negative;
    return negative;
  };
}

function headerMatches(raw: readonly string[], name: string, value: string | undefined): boolean {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== name) continue;
    if (value === undefined || raw[i + 1]!.trim().toLowerCase() === value.toLowerCase()) return true;
  }
  return false;
}

/** The filters as one predicate; undefined when nothing is filtered. */
export function compileFilters(spec: AccessLogFilters): RequestFilter | undefined {
  // one compiled range set stands for the whole list
  const c = spec.cidr;
  const cidr: FilterSpec<TrustedProxies> | undefined = c === undefined ? undefined : { negative: c.negative, values: c.values.length === 0 ? [] : [parseTrustedProxies(c.values)] };
  const parts = [
    one(spec.statusCodes, ([from, to], f) => f.status >= from && f.status <= to),
    one(spec.method, (m, f) => f.method === m),
    one(spec.host, (h, f) => f.routingHost === h),
    one(spec.headers, (h, f) => headerMatches(f.rawHeaders, h.name, h.value)),
    one(cidr, (set, f) => set.contains(f.clientIp)),
  ].filter((p): p is RequestFilter => p !== undefined);
  if (parts.length === 0) return undefined;
  return (f) => {
    for (const p of parts) if (!p(f)) return false;
    return true;
  };
}
