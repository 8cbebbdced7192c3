// Stream routes from two places, the config file and labels (docs/streams.md), made one list:
// one listener per protocol and port. Pure.
import type { RouteError, StreamListen, StreamRouteSpec } from './route-spec.ts';

/** Two listens that cannot both be had: same protocol and port, and addresses that overlap. */
export function listensClash(a: StreamListen, b: StreamListen): boolean {
  if (a.protocol !== b.protocol || a.port !== b.port || a.port === 0) return false;
  const any = (x: string | undefined): boolean => x === undefined || x === '0.0.0.0' || x === '::';
  return any(a.bind) || any(b.bind) || a.bind === b.bind;
}

/** Error code of a label stream that wants what a config-file stream has (its name or its port). */
export const STREAM_TAKEN_BY_FILE = 'ROUTE_STREAM_TAKEN_BY_FILE';

/**
 * The config file's streams, then the labels' ones that do not clash with them: the file is
 * written by the person running Bellhop, so it wins a name or a port; each label stream left
 * out is an error naming its members' containers.
 */
export function mergeStreamRoutes(file: readonly StreamRouteSpec[], docker: readonly StreamRouteSpec[]): { streams: StreamRouteSpec[]; errors: RouteError[] } {
  const errors: RouteError[] = [];
  const streams = [...file];
  for (const d of docker) {
    const holder = file.find((f) => f.name === d.name || listensClash(f.stream, d.stream));
    if (holder === undefined) {
      streams.push(d);
      continue;
    }
    const why = holder.name === d.name ? `the name "${d.name}"` : `${d.stream.protocol} port ${String(d.stream.port)}`;
    const message = `stream "${d.name}" is not served: ${why} belongs to the config file's stream route "${holder.name}"`;
    for (const n of [...new Set(d.members.map((m) => m.container?.name ?? m.name))]) {
      errors.push({ code: STREAM_TAKEN_BY_FILE, source: n, key: `proxy.${d.name}.port`, message });
    }
  }
  return { streams: streams.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)), errors };
}
