// internal/wake — sleep when idle, wake on demand.
//
// Wiring (composition root):
//   const wake = new WakeManager({ control, logger: log.child({ module: 'wake' }) });
//   discovery:  wake.sync({ routes, containers })          on every route-table swap
//   proxy:      wake.gate(req, resOrSocket, { route, clientIp })  after route lookup, before picking
//               wake.isUsable(memberId)                    in the selector's usable check
//               const release = wake.begin(memberId, req)  around every proxied request/websocket
//                                                          (req: proxy.idle_ignore is judged on it)
//               wake.upstreamUrl(memberId, member.url)     forward target right after a wake
//               wake.ensureAwake(memberId, signal)         wake a specific pool member
//   admin API:  wake.status(), wake.stateOf(memberId), wake.metrics(), wake.onWake(record => …)
//   shutdown:   wake.close()
//
// The reserved path prefix `/.bellhop/wake/` (events: server-sent progress; status: JSON) is
// answered by the gate on every host whose route can sleep.

export { WakeManager } from './wake-manager.ts';
export type {
  GateResult,
  SleepState,
  WakeContainerInfo,
  WakeContainerStatus,
  WakeFailure,
  WakeGateContext,
  WakeManagerOptions,
  WakeMetrics,
  WakeOutcome,
  WakeRecord,
  WakeSyncInput,
} from './wake-manager.ts';
export type { ServiceWakeControl, WakeControl, WakeInspect } from './wake-control.ts';
/** The pino-compatible logger wake logs through (pkg/log's `Logger`). */
export type { Logger as WakeLogger } from '../../pkg/log/index.ts';
export { silentLogger } from '../../pkg/log/index.ts';
export { WakeError } from './wake-error.ts';
export type { WakeErrorCode } from './wake-error.ts';
/** Wake's codes in Bellhop's error catalogue (docs/errors.md). */
export { WAKE_ERRORS, type WakeCode } from './wake-error.ts';
export { WAKE_EVENTS_PATH, WAKE_PATH_PREFIX, WAKE_STATUS_PATH, renderLoadingPage } from './loading-page.ts';
export { isBrowserNavigation } from './request-kind.ts';
