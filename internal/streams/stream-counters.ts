// Traffic counters of one stream route, for /api/routes and /metrics. Plain numbers: the
// listener that owns the route updates them; readers copy them.

export interface StreamCounters {
  /** TCP connections accepted / UDP sessions opened, since the route appeared. */
  accepted: number;
  /** Connections or sessions closed because no member could take them. */
  failed: number;
  /** Open now (TCP connections spliced to a member, UDP sessions). */
  open: number;
  /** Bytes from clients to members, counted when a connection or session closes. */
  bytesIn: number;
  /** Bytes from members to clients, counted when a connection or session closes. */
  bytesOut: number;
}

export function newCounters(): StreamCounters {
  return { accepted: 0, failed: 0, open: 0, bytesIn: 0, bytesOut: 0 };
}
