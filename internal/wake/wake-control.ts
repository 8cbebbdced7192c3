// The narrow slice of the Docker API that waking and sleeping need. internal/wake never imports
// dockerode: the composition root hands in an implementation (internal/docker's
// ContainerControl fits with a thin adapter), and tests use a real engine through dockerode or
// an in-memory fake.

/** What the wake module needs to know about a container right now. */
export interface WakeInspect {
  /** Docker state: running | exited | created | paused | restarting | removing | dead. */
  state: string;
  /**
   * The host (IP) the container is reachable at now, on the network Bellhop routes to. Docker
   * may hand out a different IP after every start, so readiness is probed here, not at the
   * address from before the start. `undefined` keeps the member URL's host (host network mode,
   * `proxy.host` overrides, remote hosts with published ports).
   */
  host?: string | undefined;
  /**
   * Member URLs (by member id) at the container's current address, when the caller can work
   * them out (the composition root re-runs the label parser on the fresh inspect). A stopped
   * container has no address, so discovery lists its members with url `''`: without these the
   * wake could not tell where to probe or forward after the start.
   */
  urls?: Readonly<Record<string, string>> | undefined;
  /** Docker HEALTHCHECK status when the image has one: starting | healthy | unhealthy. */
  dockerHealth?: string | undefined;
  /** Exit code of the last run, meaningful when `state` is exited/dead. */
  exitCode?: number | undefined;
}

/** Start/stop/inspect by container ID. Every method may reject; the wake module handles it. */
export interface WakeControl {
  start(id: string): Promise<void>;
  /** `docker stop -t timeoutSec [-s signal]`. */
  stop(id: string, opts: { timeoutSec: number; signal?: string | undefined }): Promise<void>;
  kill(id: string, signal?: string): Promise<void>;
  pause(id: string): Promise<void>;
  unpause(id: string): Promise<void>;
  inspect(id: string): Promise<WakeInspect>;
  /** The last `lines` lines of stdout+stderr, as text (demultiplexed). */
  logsTail(id: string, lines: number): Promise<string>;
}

/**
 * The service variant (docs/sleep-and-wake.md, "Swarm services"): a Docker Swarm service sleeps
 * at 0 replicas and wakes at the count it had, by service ID. Slots of services use it in place
 * of the container calls (service-control.ts routes them).
 */
export interface ServiceWakeControl {
  /** Back to the replica count it had before it slept (at least 1); already up: nothing to do. */
  scaleUp(serviceId: string): Promise<void>;
  /** To 0 replicas, remembering the count; resolves once no task runs (or after `waitMs`). */
  scaleDown(serviceId: string, opts: { waitMs: number }): Promise<void>;
  /**
   * `running` once a task runs; `exited` at 0 replicas; `created` while replicas are wanted but
   * none runs yet. `urls` holds the member URLs at a running task's address, keyed by the
   * service's own (address-less) member ids and by that task's member ids; `host` stays unset
   * (every task has its own address).
   */
  inspect(serviceId: string): Promise<WakeInspect>;
  logsTail(serviceId: string, lines: number): Promise<string>;
}
