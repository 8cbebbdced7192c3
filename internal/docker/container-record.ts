// What internal/docker hands to internal/labels: one plain record per container, already
// resolved from `docker inspect`, so labels/ stays pure (no I/O, no clock).

export interface ContainerNetwork {
  name: string;
  ip: string; // '' when none
}

export interface ContainerRecord {
  id: string;
  /** Without the leading slash. */
  name: string;
  dockerHost: string; // e.g. 'unix:///var/run/docker.sock' or 'tcp://10.0.0.5:2375'
  /** For remote hosts: the host's address, used with published ports. undefined for local sockets. */
  remoteAddress?: string | undefined;
  labels: Record<string, string>;
  image: string;
  createdAt: number; // ms since epoch
  state: string; // running | exited | created | paused | restarting | removing | dead
  dockerHealth?: string | undefined; // starting | healthy | unhealthy (undefined: no HEALTHCHECK)
  /** Exit code of the last run (meaningful when state is exited/dead). */
  exitCode?: number | undefined;
  networkMode: string; // 'bridge', 'host', 'container:<id>', or a network name
  networks: ContainerNetwork[];
  /** Container ports exposed ('80/tcp' → 80), TCP only, ascending. */
  exposedPorts: number[];
  /** Published ports: container port → host port. */
  publishedPorts: Record<number, number>;
  /** Container ports exposed or published as `/udp` ('53/udp' → 53), ascending (a UDP stream is guessed from them). */
  udpPorts?: number[] | undefined;
  composeProject?: string | undefined;
  composeService?: string | undefined;
  composeReplica?: number | undefined; // com.docker.compose.container-number
  composeDependsOn: string[]; // parsed from com.docker.compose.depends_on (service names)
  /**
   * Set on the records of Docker Swarm tasks (and of a service without a running task): the
   * service they belong to. Sleep and wake act on the service as a whole (its replica count).
   */
  swarmService?: SwarmServiceRef | undefined;
}

/** The swarm service a task record belongs to. */
export interface SwarmServiceRef {
  id: string;
  name: string;
  /** A global service (one task per node) cannot be scaled to 0, so it never sleeps. */
  global?: boolean | undefined;
}

/** Facts about Bellhop itself that address resolution needs. */
export interface SelfInfo {
  /** Networks Bellhop's own container is attached to (empty when not in a container). */
  networks: string[];
}
