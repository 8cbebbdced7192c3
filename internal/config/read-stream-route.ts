// A `routes:` entry with `scheme: tcp` or `udp` is a stream route (docs/streams.md, "In the
// config file"): the fields of the stream labels, GoDoxy's route-file way —
//   gitea-ssh: { scheme: tcp, host: 10.0.0.5, port: "2222:22" }
// or a listening port and targets:
//   dns: { scheme: udp, listen: 53, members: [{ url: "10.0.0.2:53" }, { url: "10.0.0.3:53" }] }
// served by internal/streams exactly like a label stream. Every problem is a CONFIG_BAD_STREAM
// (or the reader's usual type errors) naming the key.
import { isIP } from 'node:net';
import { isMap, isScalar } from 'yaml';
import type { HealthcheckSpec, LoadBalanceSpec, MemberSpec, StreamProtocol, StreamRouteSpec } from '../routes/index.ts';
import type { Draft } from './config-draft.ts';
import { KEYS } from './config-keys.ts';
import { readMemberList } from './member-list.ts';
import type { Entry, EntryReader, Value } from './entry-reader.ts';

/** The stream protocol a `routes.<name>` entry asks for (`scheme: tcp|udp`), read without reporting anything. */
export function streamScheme(reader: EntryReader, node: Value): StreamProtocol | undefined {
  const n = reader.deref(node);
  if (!isMap(n)) return undefined;
  for (const pair of n.items) {
    const k = reader.deref(pair.key as Value);
    if (!isScalar(k) || k.value !== 'scheme') continue;
    const v = reader.deref(pair.value as Value);
    const s = isScalar(v) && typeof v.value === 'string' ? v.value.toLowerCase() : undefined;
    return s === 'tcp' || s === 'udp' ? s : undefined;
  }
  return undefined;
}

/** A port number 1-65535 (0 too when `zero`), from a YAML number or a numeric string. */
function portOf(text: string, zero: boolean): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return (n >= 1 || (zero && n === 0)) && n <= 65535 ? n : undefined;
}

/** `host:port`, `[v6]:port` or `tcp://host:port` (the route's protocol) → `tcp://host:port`; a reason string otherwise. */
function target(text: string, protocol: StreamProtocol): { url: string } | { error: string } {
  let rest = text;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text);
  if (scheme !== null) {
    if (scheme[1]!.toLowerCase() !== protocol) return { error: `${JSON.stringify(text)}: a ${protocol} stream's target is ${protocol}://host:port or host:port` };
    rest = text.slice(scheme[0].length);
  }
  const m = /^(\[[^\]]+\]|[^:/[\]]+):(\d+)$/.exec(rest);
  if (m === null) return { error: `${JSON.stringify(text)} is not host:port (e.g. "10.0.0.5:22")` };
  const port = portOf(m[2]!, false);
  if (port === undefined) return { error: `${JSON.stringify(text)}: port must be 1-65535` };
  const host = m[1]!;
  if (host.startsWith('[') && isIP(host.slice(1, -1)) !== 6) return { error: `${JSON.stringify(text)}: ${host} is not an IPv6 address` };
  return { url: `${protocol}://${host.toLowerCase()}:${String(port)}` };
}

/** `routes.<name>` with `scheme: tcp|udp` → a stream route, or undefined after reporting why not. */
export function readStreamRoute(reader: EntryReader, e: Entry, draft: Draft, protocol: StreamProtocol): StreamRouteSpec | undefined {
  const name = e.key;
  const base = `routes.${name}`;
  const entries = reader.map(e.value, base, KEYS.streamRoute, `{ scheme: ${protocol}, host: 10.0.0.5, port: "2222:22" }`);
  if (entries === undefined) return undefined;
  const by = new Map(entries.map((x) => [x.key, x]));
  let ok = true;
  const bad = (key: string, message: string, node: Value): void => {
    reader.fail('CONFIG_BAD_STREAM', key, message, node);
    ok = false;
  };

  // port: "listen:target" | target; listen: <port>
  let listen: number | undefined;
  let targetPort: number | undefined;
  const pe = by.get('port');
  if (pe) {
    const v = reader.scalar(pe);
    const text = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim() : undefined;
    const parts = text?.split(':');
    if (parts === undefined || parts.length > 2) bad(`${base}.port`, `expected "listen:target" (e.g. "2222:22") or a target port, got ${reader.describe(pe.value)}`, reader.valueNode(pe));
    else {
      const t = portOf(parts.at(-1)!, false);
      const l = parts.length === 2 && parts[0] !== '' ? portOf(parts[0]!, true) : undefined;
      if (t === undefined || (parts.length === 2 && parts[0] !== '' && l === undefined)) bad(`${base}.port`, `${JSON.stringify(text)}: ports must be 1-65535 (the listening one may be 0: any free port)`, reader.valueNode(pe));
      else {
        targetPort = t;
        listen = l;
      }
    }
  }
  const le = by.get('listen');
  if (le) {
    const v = reader.scalar(le);
    const l = typeof v === 'number' || typeof v === 'string' ? portOf(String(v).trim(), true) : undefined;
    if (l === undefined) bad(`${base}.listen`, `expected a port 0-65535 (0: any free port), got ${reader.describe(le.value)}`, reader.valueNode(le));
    else if (listen !== undefined) bad(`${base}.listen`, `the listening port is already given by port: "${String(listen)}:…"; give it once`, le.keyNode);
    else listen = l;
  }
  if (ok && listen === undefined) bad(base, `a ${protocol} stream route needs a listening port: port: "2222:22" (listen:target) or listen: 2222`, e.keyNode);

  // bind
  let bind: string | undefined;
  const be = by.get('bind');
  if (be) {
    const s = reader.string(be, `${base}.bind`, 'an IP address');
    const bare = s?.startsWith('[') === true && s.endsWith(']') ? s.slice(1, -1) : s;
    if (bare === undefined) ok = false;
    else if (isIP(bare) === 0) bad(`${base}.bind`, `${JSON.stringify(s)} is not an IP address (e.g. 0.0.0.0 or 127.0.0.1)`, reader.valueNode(be));
    else bind = bare.toLowerCase();
  }

  // udp_idle_timeout: how long a UDP session lives without a datagram (docs/streams.md)
  let udpIdleTimeoutMs: number | undefined;
  const ie = by.get('udp_idle_timeout');
  if (ie) {
    const ms = reader.duration(ie, `${base}.udp_idle_timeout`, { positive: true });
    if (ms === undefined) ok = false;
    else if (protocol !== 'udp') bad(`${base}.udp_idle_timeout`, 'applies to udp stream routes only', ie.keyNode);
    else udpIdleTimeoutMs = ms;
  }

  // load_balance: mode only (a stream has no cookies; weights are per member)
  const lb: LoadBalanceSpec = { mode: draft.loadBalance.mode, sticky: false, stickyMaxAgeMs: draft.loadBalance.stickyMaxAgeMs };
  const lbe = by.get('load_balance');
  if (lbe) {
    for (const l of reader.map(lbe.value, `${base}.load_balance`, KEYS.streamLoadBalance, '{ mode: least_conn }') ?? []) {
      const m = reader.mode(l, `${base}.load_balance.${l.key}`);
      if (m === undefined) ok = false;
      else lb.mode = m;
    }
  }

  // healthcheck: a TCP connect (UDP has nothing to connect to: off unless Docker reports health)
  const hc: HealthcheckSpec = { path: undefined, useGet: false, intervalMs: draft.healthcheck.intervalMs, timeoutMs: draft.healthcheck.timeoutMs, rise: draft.healthcheck.rise, fall: draft.healthcheck.fall, disable: protocol === 'udp' };
  const hce = by.get('healthcheck');
  if (hce) {
    for (const h of reader.map(hce.value, `${base}.healthcheck`, KEYS.streamHealthcheck, '{ interval: 5s, fall: 3 }') ?? []) {
      const p = `${base}.healthcheck.${h.key}`;
      if (h.key === 'interval' || h.key === 'timeout') {
        const ms = reader.duration(h, p, { timer: true, positive: true });
        if (ms === undefined) ok = false;
        else hc[h.key === 'interval' ? 'intervalMs' : 'timeoutMs'] = ms;
      } else if (h.key === 'rise' || h.key === 'fall') {
        const n = reader.positiveInt(h, p);
        if (n === undefined) ok = false;
        else hc[h.key] = n;
      } else {
        const b = reader.bool(h, p);
        if (b === undefined) ok = false;
        else if (protocol === 'udp' && !b) bad(p, 'a udp stream has no connection to check: its health comes from Docker or none', reader.valueNode(h));
        else hc.disable = b;
      }
    }
  }

  // targets: host + port's target, or url, or members
  const he = by.get('host');
  const ue = by.get('url');
  const me = by.get('members');
  const given = [he && 'host', ue && 'url', me && 'members'].filter((x): x is string => typeof x === 'string');
  const members: MemberSpec[] = [];
  const member = (memberName: string, url: string, weight: number | undefined): void => {
    const id = `file:${name}/${memberName}`;
    members.push({ id, identity: id, name: memberName, url, weight, noTlsVerify: false, healthcheck: { ...hc } });
  };
  if ((ue || me) && (he || targetPort !== undefined)) {
    bad(base, `give the target once: host + port "listen:target", or url:, or members: (this route has ${[...given, ...(targetPort !== undefined ? ['a target in port'] : [])].join(' and ')})`, (ue ?? me)!.keyNode);
  } else if (ue && me) {
    bad(base, 'give either "url:" or "members:", not both', me.keyNode);
  } else if (ue) {
    const s = reader.string(ue, `${base}.url`, `${protocol}://host:port`);
    if (s === undefined) ok = false;
    else {
      const t = target(s, protocol);
      if ('error' in t) bad(`${base}.url`, t.error, reader.valueNode(ue));
      else member(name, t.url, undefined);
    }
  } else if (me) {
    const listed = readMemberList(reader, me, {
      base, route: name, keys: KEYS.streamMember, example: '{ name: a, url: "10.0.0.5:22", weight: 30 }',
      code: 'CONFIG_BAD_STREAM', typeCode: 'CONFIG_BAD_STREAM', duplicateCode: 'CONFIG_BAD_STREAM',
      url: (mu, path) => {
        const s = reader.string(mu, path, 'host:port');
        if (s === undefined) return undefined;
        const t = target(s, protocol);
        if (!('error' in t)) return t.url;
        reader.fail('CONFIG_BAD_STREAM', path, t.error, reader.valueNode(mu));
        return undefined;
      },
      urlMissing: 'each member needs a url (host:port)',
    }, (m) => {
      member(m.name, m.url, m.weight);
      return true;
    });
    if (!listed) ok = false;
  } else if (targetPort === undefined) {
    if (ok) bad(base, `a ${protocol} stream route needs a target: host + port: "2222:22", url: "10.0.0.5:22" or members:`, e.keyNode);
  } else {
    // GoDoxy's route files default the host to localhost
    let host = '127.0.0.1';
    if (he) {
      const s = reader.string(he, `${base}.host`, 'a host name or IP address');
      const bare = s?.startsWith('[') === true && s.endsWith(']') ? s.slice(1, -1) : s;
      if (bare === undefined) ok = false;
      else if (isIP(bare) === 6) host = `[${bare.toLowerCase()}]`;
      else if (isIP(bare) === 4 || /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(bare)) host = bare.toLowerCase();
      else bad(`${base}.host`, `${JSON.stringify(s)} is not a host name or IP address`, reader.valueNode(he));
    }
    member(name, `${protocol}://${host}:${String(targetPort)}`, undefined);
  }
  if (!ok || listen === undefined) return undefined;
  return { name, aliases: [name], loadBalance: lb, members, source: 'file', stream: { protocol, port: listen, ...(bind !== undefined ? { bind } : {}), ...(udpIdleTimeoutMs !== undefined ? { udpIdleTimeoutMs } : {}) } };
}
