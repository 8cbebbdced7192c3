// Config → the shared RouteSpec contract, plus the defaults labels need for Docker routes.
import type { Config } from './config-types.ts';
import type { HealthcheckSpec, LoadBalanceSpec, RouteSpec, StreamRouteSpec } from '../routes/index.ts';

/** The file's `routes:` as RouteSpec (source 'file'), in file order. Fresh mutable copies. */
export function staticRoutes(config: Config): RouteSpec[] {
  return Object.values(config.routes).map((r) => structuredClone(r) as RouteSpec);
}

/** The file's stream routes (`scheme: tcp|udp`, docs/streams.md), in file order. Fresh mutable copies. */
export function staticStreams(config: Config): StreamRouteSpec[] {
  return Object.values(config.streams).map((r) => structuredClone(r) as StreamRouteSpec);
}

/** `defaults.healthcheck` as a full HealthcheckSpec (TCP check, HEAD, enabled, its status) for label parsing. */
export function defaultHealthcheck(config: Config): HealthcheckSpec {
  const h = config.defaults.healthcheck;
  const hc: HealthcheckSpec = { path: undefined, useGet: false, intervalMs: h.intervalMs, timeoutMs: h.timeoutMs, rise: h.rise, fall: h.fall, disable: false };
  if (h.status !== undefined) hc.status = h.status;
  return hc;
}

/** `defaults.load_balance` as a LoadBalanceSpec (no real-IP options) for label parsing. */
export function defaultLoadBalance(config: Config): LoadBalanceSpec {
  const l = config.defaults.loadBalance;
  return { mode: l.mode, sticky: l.sticky, stickyMaxAgeMs: l.stickyMaxAgeMs };
}
