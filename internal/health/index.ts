/**
 * Member health (docs/health.md): active HTTP/TCP probes with rise/fall and jittered schedules, Docker
 * HEALTHCHECK gating, and passive ejection from real request outcomes, folded into one
 * precomputed `isUsable(memberId)` per member for the balancer.
 */
export {
  HealthMonitor,
  type HealthChangeListener,
  type HealthMonitorOptions,
  type PoolMembers,
} from './health-monitor.ts';
export type { DockerHealth, HealthState, MemberHealthStatus } from './member-entry.ts';
/** The pino-compatible logger health logs through (pkg/log's `Logger`). */
export type { Logger as HealthLogger } from '../../pkg/log/index.ts';
export { DEFAULT_PASSIVE_POLICY, isMemberFailure, type PassiveOutcome, type PassivePolicy } from './passive-ejection.ts';
export { PROBE_USER_AGENT, defaultHealthyStatus, type HealthyStatus } from './probe.ts';
/**
 * One HTTP or TCP check of a member, as health probes it; internal/wake reuses it for wake
 * readiness (the same check at the address Docker gave the start). Never rejects.
 */
export { Prober, type ProbeResult, type ProbeTarget } from './probe.ts';
