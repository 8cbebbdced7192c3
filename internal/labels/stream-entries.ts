// TCP/UDP stream aliases (docs/streams.md), GoDoxy's way: `scheme: tcp|udp`, or a `port` written
// `listen:target` with no scheme (GoDoxy then means TCP). A stream member is an ordinary member
// entry (same address, weight, health and sleep settings) with a `stream` listen; this file
// decides which aliases are streams, and groups stream entries into stream routes: the same
// pool rules as HTTP (pool-assembly.ts), then one listener per protocol and port.

import { listensClash, type LoadBalanceSpec, type RouteError, type StreamListen, type StreamProtocol, type StreamRouteSpec } from '../routes/index.ts';
import type { MemberEntry } from './container-entries.ts';
import type { LabelProblem } from './label-collect.ts';
import { LabelErrorCode as C } from './label-error-codes.ts';
import { assemblePools, type PoolDefaults, type RouteConflict } from './pool-assembly.ts';
import type { PortValue, SchemeName } from './value-parsers.ts';

/** What an alias's `scheme` and `port` make of it. */
export interface AliasKind {
  /** The upstream URL scheme: http, https, tcp or udp (h2c is http with `h2c` set). */
  scheme: 'http' | 'https' | 'tcp' | 'udp';
  h2c: boolean;
  /** Set for stream aliases. */
  stream?: StreamListen | undefined;
  warnings: LabelProblem[];
}

/**
 * GoDoxy's rule (routevalidate/finalize.go): an explicit scheme decides; without one, a
 * listening port makes a TCP stream, else http (https for ports ending in 443).
 */
export function aliasKind(alias: string, scheme: SchemeName | undefined, port: PortValue | undefined, bind: string | undefined, defaultScheme: 'http' | 'https', labels: { port: string; bind: string }): AliasKind {
  const warnings: LabelProblem[] = [];
  const protocol: StreamProtocol | undefined = scheme === 'tcp' || scheme === 'udp' ? scheme : scheme === undefined && port?.listen !== undefined && port.listen !== 0 ? 'tcp' : undefined;
  if (protocol === undefined) {
    if (port?.listen !== undefined) {
      warnings.push({ code: C.IGNORED_LISTEN_PORT, key: labels.port, message: `port "${String(port.listen)}:${String(port.target)}" with scheme ${scheme ?? 'http'}: HTTP routes are served on Bellhop's own entrypoint; the listening port ${String(port.listen)} is ignored and ${String(port.target)} is used (a TCP stream needs scheme tcp)` });
    }
    if (bind !== undefined) warnings.push({ code: C.FIELD_NOT_APPLICABLE, key: labels.bind, message: `bind applies to tcp/udp streams only; alias "${alias}" is served on Bellhop's HTTP entrypoint` });
    if (scheme === 'h2c') return { scheme: 'http', h2c: true, warnings };
    return { scheme: scheme === 'http' || scheme === 'https' ? scheme : defaultScheme, h2c: false, warnings };
  }
  const listen = port?.listen ?? 0;
  if (listen === 0) {
    warnings.push({ code: C.STREAM_ANY_PORT, key: labels.port, message: `stream alias "${alias}" has no listening port: it listens on any free port (see /api/routes); write port: "<listen>:<target>", e.g. "2222:22"` });
  }
  return { scheme: protocol, h2c: false, stream: { protocol, port: listen, ...(bind !== undefined ? { bind } : {}) }, warnings };
}

/** Stream members have ids of their own: one container may serve 53/tcp, 53/udp and HTTP at once. */
export function streamMemberId(containerId: string, protocol: StreamProtocol, port: number): string {
  return `${containerId}:${String(port)}/${protocol}`;
}

export interface AssembledStreams {
  streams: StreamRouteSpec[];
  errors: RouteError[];
  warnings: RouteError[];
  conflicts: RouteConflict[];
}

function listenText(l: StreamListen): string {
  return `${l.protocol} ${l.bind ?? ''}:${String(l.port)}`;
}


/**
 * Stream entries → stream routes. Pools form as for HTTP (link, compose replicas, the oldest
 * owner of an alias, the oldest member's settings); a pool listens where its oldest member says.
 * Members that say otherwise, and pools that want a taken port, are errors (the oldest wins).
 * Access control (middlewares, refused labels) cannot apply to a byte stream: such an alias is
 * not served at all.
 */
export function assembleStreams(entries: MemberEntry[], defaults: PoolDefaults): AssembledStreams {
  const errors: RouteError[] = [];
  const usable: MemberEntry[] = [];
  for (const e of entries) {
    if ((e.middlewares?.length ?? 0) > 0 || e.refusedBy !== undefined) {
      const what = [...(e.middlewares ?? []).map((m) => `middlewares.${m.name}`), ...(e.refusedBy ?? [])].join(', ');
      errors.push({ code: C.STREAM_ACCESS_CONTROL, source: e.record.name, key: `proxy.${e.alias}`, message: `stream alias "${e.alias}" is not served: ${what} apply to HTTP requests only, and a ${e.stream?.protocol ?? 'tcp'} stream is never served without its access control` });
      continue;
    }
    usable.push(e);
  }
  const pools = assemblePools(usable, defaults);
  errors.push(...pools.errors);
  const byMember = new Map(usable.map((e) => [e.member.id, e]));
  const routes: StreamRouteSpec[] = [];
  const age = new Map<StreamRouteSpec, number>();
  for (const r of pools.routes) {
    const first = r.members[0];
    const head = first === undefined ? undefined : byMember.get(first.id);
    if (head?.stream === undefined) continue;
    const listen = head.stream;
    const members = r.members.filter((m) => {
      const e = byMember.get(m.id);
      if (e?.stream === undefined) return false;
      if (e.stream.protocol === listen.protocol && e.stream.port === listen.port && e.stream.bind === listen.bind) return true;
      errors.push({ code: C.STREAM_PORT_CONFLICT, source: e.record.name, key: `proxy.${e.alias}.port`, message: `stream pool "${r.name}" listens on ${listenText(listen)} (${head.record.name}, oldest); this member asks for ${listenText(e.stream)} and is left out` });
      return false;
    });
    const lb: LoadBalanceSpec = { mode: r.loadBalance.mode, sticky: false, stickyMaxAgeMs: r.loadBalance.stickyMaxAgeMs };
    const route: StreamRouteSpec = { name: r.name, aliases: r.aliases, loadBalance: lb, members, source: 'docker', stream: listen };
    age.set(route, head.record.createdAt);
    routes.push(route);
  }
  // One listener per port: the route whose oldest member is oldest keeps it.
  const byAge = [...routes].sort((a, b) => (age.get(a) ?? 0) - (age.get(b) ?? 0) || (a.name < b.name ? -1 : 1));
  const kept: StreamRouteSpec[] = [];
  for (const r of byAge) {
    const holder = kept.find((k) => listensClash(k.stream, r.stream));
    if (holder !== undefined) {
      const names = [...new Set(r.members.map((m) => m.name))];
      const message = `${listenText(r.stream)} is already used by stream "${holder.name}" (${[...new Set(holder.members.map((m) => m.name))].join(', ')}, older); stream "${r.name}" is not served`;
      for (const n of names) errors.push({ code: C.STREAM_PORT_CONFLICT, source: n, key: `proxy.${r.name}.port`, message });
      continue;
    }
    kept.push(r);
  }
  const streams = kept.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { streams, errors, warnings: pools.warnings, conflicts: pools.conflicts };
}
