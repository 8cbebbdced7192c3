// internal/reconcile: a Docker change (or a config reload) → a new route table → the live state.
// The flow step between discovery (internal/docker → internal/labels → internal/routes) and the
// runtime (internal/pools, internal/health, internal/wake); the composition root only wires it.

/** Builds the table from the visible containers and config routes; applies only what changed. */
export { Reconciler, type ReconcilerOptions, type ReconcileHealth, type ReconcileWake, type ReconcileLogger, type ReconcileStreams } from './reconciler.ts';
/** docker.label_filter: `key` or `key=value` entries a container must all carry to be seen. */
export { matchesLabelFilter } from './label-filter.ts';
/** The wake module's container control: by the container's Docker host, inspect re-parsed by the label parser. */
export { createWakeControl, type ContainerActions, type WakeControlSources } from './wake-control.ts';
/** Its service variant: a swarm service sleeps at 0 replicas (SwarmServiceControl), inspect re-parsed likewise. */
export { createServiceWakeControl, type ServiceActions, type ServiceWakeControlSources } from './wake-control.ts';
