// internal/streams: TCP and UDP stream routes (docs/streams.md). One listener per stream route,
// a pkg/balance pool per route with health and wake as its usability check; TCP connections are
// spliced to a member (held while it wakes), UDP datagrams travel in per-client sessions.
//
// Wiring (composition root): `new StreamManager({ health, wake, logger })`; the reconciler calls
// `update(streamRoutes)` on every table change; the admin API reads `views()` and `errors()`.

export { StreamManager, type StreamManagerOptions, type StreamView } from './stream-manager.ts';
export type { StreamHealth, StreamWake } from './stream-pool.ts';
/** Streams' codes in Bellhop's error catalogue (docs/errors.md); all log only. */
export { STREAM_ERRORS, type StreamErrorCode } from './stream-errors.ts';
