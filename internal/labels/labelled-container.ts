// What internal/labels reads of a container, and of Bellhop itself. internal/docker's
// ContainerRecord and SelfInfo have this shape already, so the composition root passes Docker's
// records straight in (no copy) and labels/ stays pure and knows nothing of Docker.

/** A network the container is attached to, with its address there. */
export interface ContainerAddress {
  readonly name: string;
  /** '' when none. */
  readonly ip: string;
}

/** One container as labels/ sees it: its labels and the facts that pick its upstream address. */
export interface LabelledContainer {
  readonly id: string;
  /** Without the leading slash. */
  readonly name: string;
  /** Docker host URL the container lives on (one of docker.hosts). */
  readonly dockerHost: string;
  /** For remote hosts: the host's address, used with published ports. undefined for local sockets. */
  readonly remoteAddress?: string | undefined;
  readonly labels: Readonly<Record<string, string>>;
  readonly image: string;
  /** ms since epoch; the oldest container keeps a contested alias. */
  readonly createdAt: number;
  /** running | exited | created | paused | restarting | removing | dead */
  readonly state: string;
  /** starting | healthy | unhealthy (undefined: no HEALTHCHECK). */
  readonly dockerHealth?: string | undefined;
  /** 'bridge', 'host', 'container:<id>', or a network name. */
  readonly networkMode: string;
  readonly networks: readonly ContainerAddress[];
  /** Container ports exposed, TCP only, ascending. */
  readonly exposedPorts: readonly number[];
  /** Published ports: container port → host port. */
  readonly publishedPorts: Readonly<Record<number, number>>;
  /** Container ports exposed or published as `/udp`, ascending: a port offered only this way makes a UDP stream (as in GoDoxy). */
  readonly udpPorts?: readonly number[] | undefined;
  readonly composeProject?: string | undefined;
  readonly composeService?: string | undefined;
  readonly composeReplica?: number | undefined;
  /** compose depends_on service names. */
  readonly composeDependsOn: readonly string[];
}

/** Facts about Bellhop itself that address resolution needs. */
export interface SelfNetworks {
  /** Networks Bellhop's own container is attached to (empty when not in a container). */
  readonly networks: readonly string[];
}
