// internal/docker: the only user of dockerode. It watches Docker hosts (event-first, with
// reconnect and full resync), turns `docker inspect` into plain ContainerRecords for labels/,
// and controls containers for wake/. Other modules import only from here.

/** The records handed to internal/labels, and facts about Bellhop's own container. */
export type { ContainerRecord, ContainerNetwork, SelfInfo, SwarmServiceRef } from './container-record.ts';

/** Pure mapping of `docker inspect` JSON to a ContainerRecord; compose depends_on parser. */
export { toContainerRecord, parseComposeDependsOn } from './to-container-record.ts';

/** Watches one Docker host: immutable snapshots, reconnect with backoff, status for metrics. */
export { DockerWatcher } from './docker-watcher.ts';
export type { DockerWatcherOptions, DockerWatcherState, DockerWatcherStatus } from './docker-watcher.ts';

/** Runs one watcher per `docker.hosts` entry and merges their records; recordKey = host#id. */
export { DockerHub, recordKey } from './docker-hub.ts';
export type { DockerHubOptions } from './docker-hub.ts';

/** Docker Swarm: services and their running tasks as records (`<service>.<slot>`), docs/discovery.md. */
export { toSwarmRecords, isSwarmManager, taskName, SWARM_TASK_LABEL } from './swarm-records.ts';
export type { SwarmServiceJson, SwarmTaskJson } from './swarm-records.ts';
export { SwarmWatcher } from './swarm-watcher.ts';
/** Scale-to-zero of swarm services for wake/ (the replica count is kept in the `bellhop.replicas` label). */
export { SwarmServiceControl, REPLICAS_LABEL, wakeReplicas } from './swarm-control.ts';
export type { SwarmServiceControlOptions, SwarmServiceInspect, ServiceSnapshot } from './swarm-control.ts';
export type { SwarmMode, SwarmWatcherOptions } from './swarm-watcher.ts';

/** start/stop/kill/pause/unpause/inspect/logsTail with deadlines and coded errors. */
export { ContainerControl } from './container-control.ts';
export type { ContainerControlOptions, StopOptions } from './container-control.ts';

/** Every Docker failure: stable `code`, HTTP `status` when Docker answered, `op`, `containerId`. */
export { DockerError, toDockerError } from './docker-error.ts';
export type { DockerErrorCode } from './docker-error.ts';

/** Bellhop's own container networks (empty outside a container). */
export { detectSelf, selfContainerCandidates } from './detect-self.ts';
export type { DetectSelfOptions, SelfHints } from './detect-self.ts';

/**
 * Host strings: unix://, tcp://host:port, ssh://user@host (config validation can call this).
 * ssh:// reads its identity from `env` (SSH_AUTH_SOCK, else ~/.ssh/id_ed25519|id_ecdsa|id_rsa)
 * and checks host keys against ~/.ssh/known_hosts; failures are DOCKER_SSH_AUTH and
 * DOCKER_SSH_HOST_KEY. dockerClientFor builds the client for a parsed host (e.g. with a test env);
 * closeDockerClient ends the SSH connection an ssh:// client keeps open.
 */
export { parseDockerHost, dockerClientFor, closeDockerClient, DEFAULT_DOCKER_HOST } from './docker-host.ts';
export type { DockerHostTarget } from './docker-host.ts';
export type { SshTransport } from './ssh-identity.ts';

/** Event filtering, exported for tests and diagnostics. */
export { affectedContainer, EVENT_FILTERS } from './docker-event.ts';
export type { DockerEventMessage } from './docker-event.ts';

/** The pino-compatible logger this module logs through (pkg/log's `Logger`). */
export type { Logger as DockerLogger } from '../../pkg/log/index.ts';
export { silentLogger } from '../../pkg/log/index.ts';
