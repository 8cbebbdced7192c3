// `routes:` in the config file (docs/configuration.md): static routes with one url or a list of
// members, their aliases, load_balance and healthcheck, as RouteSpecs like the labels' ones.
import { isScalar, isSeq } from 'yaml';
import { isHostAlias, listensClash, type HealthcheckSpec, type LoadBalanceSpec, type MemberSpec, type RealIpOptionsSpec, type RouteSpec } from '../routes/index.ts';
import type { Draft } from './config-draft.ts';
import { KEYS } from './config-keys.ts';
import { hasControl, readMemberList } from './member-list.ts';
import { DEFAULTS } from './defaults.ts';
import { normaliseDomain } from './domain-name.ts';
import type { Entry, EntryReader, Value } from './entry-reader.ts';
import { readRouteMiddlewares, readRouteRules } from './read-middlewares.ts';
import { readAccessLog } from './read-access-log.ts';
import { readStreamRoute, streamScheme } from './read-stream-route.ts';

/** `routes:` → draft.routes; an alias belongs to one route only. */
export function readRoutes(reader: EntryReader, r: Entry, draft: Draft): void {
  const entries = reader.map(r.value, 'routes', 'any', 'nas: { url: "http://127.0.0.1:5000" }');
  if (entries === undefined) return;
  const owner = new Map<string, string>();
  for (const e of entries) {
    const protocol = streamScheme(reader, e.value);
    if (protocol !== undefined) {
      const stream = readStreamRoute(reader, e, draft, protocol);
      if (stream === undefined) continue;
      const holder = draft.streams.find((x) => listensClash(x.stream, stream.stream));
      if (holder !== undefined) {
        reader.fail('CONFIG_DUPLICATE', `routes.${e.key}`, `${protocol} port ${String(stream.stream.port)} is already used by stream route ${JSON.stringify(holder.name)}`, e.keyNode);
        continue;
      }
      draft.streams.push(stream);
      continue;
    }
    const route = readRoute(reader, e, draft);
    if (route === undefined) continue;
    const aliases: string[] = [];
    for (const [alias, node] of route.aliases) {
      const prev = owner.get(alias);
      if (prev !== undefined) {
        reader.fail('CONFIG_DUPLICATE', `routes.${e.key}`, `alias ${JSON.stringify(alias)} is already used by route ${JSON.stringify(prev)}`, node);
        continue;
      }
      owner.set(alias, e.key);
      aliases.push(alias);
    }
    draft.routes.push({ ...route.spec, aliases });
  }
}

function readRoute(reader: EntryReader, e: Entry, draft: Draft): { spec: RouteSpec; aliases: [string, Value][] } | undefined {
  const name = e.key;
  const base = `routes.${name}`;
  let ok = true;
  const aliases: [string, Value][] = [];
  const addAlias = (text: string, node: Value, path: string): void => {
    const a = normaliseDomain(text);
    if (!isHostAlias(a)) {
      reader.fail('CONFIG_BAD_ALIAS', path, `${JSON.stringify(text)} is not a valid alias: use a host name label (e.g. "nas"), a full host name or "*.example.com"`, node);
      ok = false;
    } else if (!aliases.some(([x]) => x === a)) aliases.push([a, node]);
  };
  addAlias(name, e.keyNode, base);

  const entries = reader.map(e.value, base, KEYS.route, 'url: "http://127.0.0.1:5000" or members: [...]');
  if (entries === undefined) return undefined;
  if (entries.length === 0) {
    reader.fail('CONFIG_BAD_ROUTE', base, 'a route needs "url:" or "members:"', e.keyNode);
    return undefined;
  }
  const by = new Map(entries.map((x) => [x.key, x]));
  const mw = by.get('middlewares');
  const middlewares = mw === undefined ? [] : readRouteMiddlewares(reader, mw, base);
  if (middlewares === undefined) ok = false;
  const rulesEntry = by.get('rules');
  const rules = rulesEntry === undefined ? { ok: true } : readRouteRules(reader, rulesEntry, base);
  if (!rules.ok) ok = false;
  // GoDoxy's rules (docs/rules.md) run as the first stage of the route's chain
  if (rules.spec !== undefined && middlewares !== undefined) middlewares.unshift(rules.spec);
  const alog = by.get('access_log');
  const accessLog = alog === undefined || reader.isNull(alog.value) ? undefined : readAccessLog(reader, alog, `${base}.access_log`);
  if (alog !== undefined && !reader.isNull(alog.value) && accessLog === undefined) ok = false;
  let routeNoTls = false;
  const nt = by.get('no_tls_verify');
  if (nt) {
    const b = reader.bool(nt, `${base}.no_tls_verify`);
    if (b === undefined) ok = false;
    else routeNoTls = b;
  }
  let noPipelining = false;
  const np = by.get('no_pipelining');
  if (np) {
    const b = reader.bool(np, `${base}.no_pipelining`);
    if (b === undefined) ok = false;
    else noPipelining = b;
  }
  const al = by.get('aliases');
  if (al) {
    const n = reader.deref(al.value);
    if (isSeq(n)) {
      n.items.forEach((raw, i) => {
        const item = reader.deref(raw as Value);
        const p = `${base}.aliases[${String(i)}]`;
        if (isScalar(item) && typeof item.value === 'string') addAlias(item.value, item, p);
        else {
          reader.fail('CONFIG_BAD_TYPE', p, `expected a string, got ${reader.describe(item)}`, item ?? n);
          ok = false;
        }
      });
    } else if (!reader.isNull(n)) {
      reader.fail('CONFIG_BAD_TYPE', `${base}.aliases`, `expected a list, got ${reader.describe(n)}`, reader.valueNode(al));
      ok = false;
    }
  }

  // load_balance
  const lb: LoadBalanceSpec = { mode: draft.loadBalance.mode, sticky: draft.loadBalance.sticky, stickyMaxAgeMs: draft.loadBalance.stickyMaxAgeMs };
  let singleWeight: number | undefined;
  let weightEntry: Entry | undefined;
  const lbe = by.get('load_balance');
  if (lbe) {
    const lbEntries = reader.map(lbe.value, `${base}.load_balance`, KEYS.routeLoadBalance, '{ mode: roundrobin, sticky: true }');
    if (lbEntries === undefined) ok = false;
    for (const l of lbEntries ?? []) {
      const p = `${base}.load_balance.${l.key}`;
      if (l.key === 'mode') {
        const m = reader.mode(l, p);
        if (m === undefined) ok = false;
        else lb.mode = m;
      } else if (l.key === 'sticky') {
        const b = reader.bool(l, p);
        if (b === undefined) ok = false;
        else lb.sticky = b;
      } else if (l.key === 'sticky_max_age') {
        const ms = reader.duration(l, p);
        if (ms === undefined) ok = false;
        else lb.stickyMaxAgeMs = ms;
      } else if (l.key === 'weight') {
        weightEntry = l;
        singleWeight = reader.positiveInt(l, p);
        if (singleWeight === undefined) ok = false;
      } else {
        const o = readRealIpOptions(reader, l, p);
        if (o === undefined) ok = false;
        else lb.options = o;
      }
    }
  }

  // healthcheck
  const hc: HealthcheckSpec = { path: undefined, useGet: false, intervalMs: draft.healthcheck.intervalMs, timeoutMs: draft.healthcheck.timeoutMs, rise: draft.healthcheck.rise, fall: draft.healthcheck.fall, disable: false };
  if (draft.healthcheck.status !== undefined) hc.status = draft.healthcheck.status;
  const hce = by.get('healthcheck');
  if (hce) {
    const hcEntries = reader.map(hce.value, `${base}.healthcheck`, KEYS.routeHealthcheck, '{ path: /health, interval: 5s }');
    if (hcEntries === undefined) ok = false;
    for (const h of hcEntries ?? []) {
      const p = `${base}.healthcheck.${h.key}`;
      if (h.key === 'path') {
        const s = reader.string(h, p, 'a path like "/health"');
        if (s === undefined) ok = false;
        else if (!s.startsWith('/') || s.startsWith('//') || /[\s#]/.test(s) || hasControl(s)) {
          reader.fail('CONFIG_BAD_PATH', p, `${JSON.stringify(s)} must start with "/" and contain no spaces, control characters or "#" (e.g. "/health")`, reader.valueNode(h));
          ok = false;
        } else hc.path = s;
      } else if (h.key === 'interval' || h.key === 'timeout') {
        const ms = reader.duration(h, p, { timer: true, positive: true });
        if (ms === undefined) ok = false;
        else hc[h.key === 'interval' ? 'intervalMs' : 'timeoutMs'] = ms;
      } else if (h.key === 'rise' || h.key === 'fall') {
        const n = reader.positiveInt(h, p);
        if (n === undefined) ok = false;
        else hc[h.key] = n;
      } else if (h.key === 'status') {
        const st = reader.status(h, p);
        if (st === undefined) ok = false;
        else hc.status = st;
      } else {
        const b = reader.bool(h, p);
        if (b === undefined) ok = false;
        else if (h.key === 'use_get') hc.useGet = b;
        else hc.disable = b;
      }
    }
  }

  // members
  const members: MemberSpec[] = [];
  const member = (memberName: string, url: string, weight: number | undefined, noTls: boolean): MemberSpec => {
    const id = `file:${name}/${memberName}`;
    // h2c://host:port: an http:// origin spoken to with HTTP/2 prior knowledge (docs/proxy.md)
    const h2c = url.startsWith('h2c://');
    return {
      id, identity: id, name: memberName, url: h2c ? `http${url.slice(3)}` : url, weight, noTlsVerify: noTls,
      ...(noPipelining ? { noPipelining: true } : {}), ...(h2c ? { h2c: true } : {}), healthcheck: { ...hc },
    };
  };
  const urlEntry = by.get('url');
  const membersEntry = by.get('members');
  if (urlEntry && membersEntry) {
    reader.fail('CONFIG_BAD_ROUTE', base, 'give either "url:" or "members:", not both', membersEntry.keyNode);
    return undefined;
  }
  if (!urlEntry && !membersEntry) {
    reader.fail('CONFIG_BAD_ROUTE', base, 'a route needs "url:" or "members:"', e.keyNode);
    return undefined;
  }
  if (urlEntry) {
    const url = reader.url(urlEntry, `${base}.url`);
    if (url === undefined) ok = false;
    else members.push(member(name, url, singleWeight, routeNoTls));
  } else if (membersEntry) {
    if (weightEntry) {
      reader.fail('CONFIG_BAD_ROUTE', `${base}.load_balance.weight`, 'with "members:", set weight on each member instead', weightEntry.keyNode);
      ok = false;
    }
    const listed = readMemberList(reader, membersEntry, {
      base, route: name, keys: KEYS.member, example: '{ name: web-1, url: "http://127.0.0.1:9001", weight: 30 }',
      code: 'CONFIG_BAD_ROUTE', typeCode: 'CONFIG_BAD_TYPE', duplicateCode: 'CONFIG_DUPLICATE',
      url: (ue, path) => reader.url(ue, path), urlMissing: 'each member needs a url',
    }, (m) => {
      let noTls = routeNoTls;
      const te = m.fields.get('no_tls_verify');
      if (te) {
        const b = reader.bool(te, `${m.path}.no_tls_verify`);
        if (b === undefined) return false;
        noTls = b;
      }
      members.push(member(m.name, m.url, m.weight, noTls));
      return true;
    });
    if (!listed) ok = false;
  }
  if (!ok) return undefined;
  const withMiddlewares = middlewares !== undefined && middlewares.length > 0 ? { middlewares } : {};
  return { spec: { name, aliases: [], loadBalance: lb, members, source: 'file', ...withMiddlewares, ...(accessLog !== undefined ? { accessLog } : {}) }, aliases };
}

function readRealIpOptions(reader: EntryReader, l: Entry, path: string): RealIpOptionsSpec | undefined {
  const entries = reader.map(l.value, path, KEYS.options, '{ header: X-Forwarded-For, from: [10.0.0.0/8] }');
  if (entries === undefined) return undefined;
  const o: RealIpOptionsSpec = { header: DEFAULTS.realIpHeader, from: [], recursive: false };
  let ok = true;
  let fromGiven = false;
  for (const e of entries) {
    const p = `${path}.${e.key}`;
    if (e.key === 'header') {
      const s = reader.string(e, p, 'a header name');
      if (s !== undefined && !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(s)) {
        reader.fail('CONFIG_BAD_TYPE', p, `${JSON.stringify(s)} is not a valid header name`, reader.valueNode(e));
        ok = false;
      } else if (s === undefined) ok = false;
      else o.header = s;
    } else if (e.key === 'from') {
      fromGiven = true;
      const v = reader.stringList(e, p, reader.cidr, 'CONFIG_BAD_CIDR');
      if (v === undefined) ok = false;
      else o.from = v;
    } else {
      const b = reader.bool(e, p);
      if (b === undefined) ok = false;
      else o.recursive = b;
    }
  }
  if (ok && o.from.length === 0) {
    // GoDoxy silently ignores options without `from`; say so instead.
    reader.fail('CONFIG_BAD_CIDR', `${path}.from`, 'needs at least one trusted CIDR or IP: the header is only believed from these peers', fromGiven ? (entries.find((x) => x.key === 'from')?.keyNode ?? l.keyNode) : l.keyNode);
    ok = false;
  }
  return ok ? o : undefined;
}
