// The contract between discovery (internal/labels, internal/config static routes) and the
// runtime (internal/routes → internal/proxy, health, wake). Plain data, no behaviour.
import type { BalanceMode } from '../../pkg/balance/index.ts';
import type { MiddlewareSpec } from './middleware-spec.ts';
import type { AccessLogSpec } from '../accesslog/index.ts';

/** A canonical balancing mode: pkg/balance's names, which the balancer runs. */
export type BalanceModeName = BalanceMode;

export interface HealthcheckSpec {
  /** HTTP path, e.g. '/health'; undefined means a TCP connect check. */
  path?: string | undefined;
  useGet: boolean; // GET instead of HEAD for the HTTP check
  intervalMs: number;
  timeoutMs: number;
  rise: number;
  fall: number;
  disable: boolean;
  /**
   * HTTP statuses that count as healthy, as inclusive [low, high] ranges (sorted, merged);
   * undefined means 200–399 (docs/health.md). Ignored by the TCP check.
   */
  status?: ReadonlyArray<readonly [number, number]> | undefined;
}

export interface RealIpOptionsSpec {
  header: string; // e.g. 'X-Real-IP' or 'X-Forwarded-For'
  from: string[]; // CIDRs whose header is believed
  recursive: boolean;
}

export interface LoadBalanceSpec {
  mode: BalanceModeName;
  sticky: boolean;
  stickyMaxAgeMs: number; // 0 = session cookie
  options?: RealIpOptionsSpec | undefined;
}

export type StopMethod = 'stop' | 'pause' | 'kill';

/** Container-level sleep/wake settings (proxy.idle_timeout and friends). */
export interface IdleSpec {
  idleTimeoutMs: number; // > 0: sleep when idle
  wakeTimeoutMs: number; // default 3m
  stopTimeoutMs: number; // default 30s
  stopMethod: StopMethod;
  stopSignal?: string | undefined;
  startEndpoint?: string | undefined;
  noLoadingPage: boolean;
  /** container names / compose services to wake first, in order */
  dependsOn: string[];
  /**
   * proxy.idle_ignore: requests that are neither activity nor a reason to wake (uptime
   * monitors). One matches when ANY criterion does: User-Agent contains one of `userAgents`
   * (case-insensitive), the real client IP is in `from` (IPs/CIDRs), or the path equals or is
   * below one of `paths`. Absent when no rule is set.
   */
  ignore?: { userAgents: string[]; from: string[]; paths: string[] } | undefined;
}

export interface MemberSpec {
  /** Unique key of the member: the container ID, or `file:<route>/<name>` for static routes. */
  id: string;
  /** Stable identity across recreates, for sticky tokens: `<project>/<service>/<replica>` for compose, else the container name, or `file:<route>/<name>`. */
  identity: string;
  /** Display name: the container name (no leading slash) or the static member name. */
  name: string;
  /** Upstream origin, `http://172.17.0.2:80` — never a path. */
  url: string;
  /** Configured weight, if any (normalisation happens in pkg/balance). */
  weight?: number | undefined;
  noTlsVerify: boolean;
  /** `no_pipelining`: never pipeline requests to this member (docs/proxy.md, "Pipelining"). */
  noPipelining?: boolean | undefined;
  /** `scheme: h2c`: HTTP/2 over cleartext with prior knowledge to this member (gRPC; docs/proxy.md). `url` stays `http://`. */
  h2c?: boolean | undefined;
  healthcheck: HealthcheckSpec;
  /** Present for Docker members. */
  container?: MemberContainer | undefined;
}

export interface MemberContainer {
  id: string;
  name: string;
  /** Docker host URL this container lives on (one of docker.hosts). */
  dockerHost: string;
  createdAt: number; // ms since epoch
  /** running | exited | created | paused | restarting | removing | dead */
  state: string;
  /** Docker HEALTHCHECK status if the image has one: 'starting' | 'healthy' | 'unhealthy'. */
  dockerHealth?: string | undefined;
  composeProject?: string | undefined;
  composeService?: string | undefined;
  idle?: IdleSpec | undefined;
}

export interface RouteSpec {
  /** Route name = the alias it was declared under (or the load_balance.link for pools). */
  name: string;
  /** Host patterns this route answers: aliases, full host names or `*.example.com` wildcards. */
  aliases: string[];
  loadBalance: LoadBalanceSpec;
  members: MemberSpec[];
  source: 'docker' | 'file';
  /**
   * Set when the route must refuse service: it asks for access control Bellhop cannot apply
   * yet. Its hosts still resolve to it (and answer 503 PROXY_ROUTE_REFUSED, never 404), but it
   * has no members: nothing behind it is probed, woken or reached (docs/labels.md).
   */
  refused?: RouteRefusal | undefined;
  /** The route's middlewares (docs/middlewares.md), in no particular order: the chain sorts them by priority, then name. */
  middlewares?: readonly MiddlewareSpec[] | undefined;
  /** The route's own access log (docs/access-log.md); the entrypoint's, if any, logs its requests too. */
  accessLog?: AccessLogSpec | undefined;
}

/** Why a route refuses service. */
export interface RouteRefusal {
  /** Stable code of the cause, e.g. LABEL_ACCESS_CONTROL_UNSUPPORTED. */
  code: string;
  /** The labels asking for it, sorted: `proxy.app.middlewares.oidc`, or `proxy.app (middlewares.oidc)` inside a YAML value. */
  keys: string[];
  /** The containers carrying them, sorted. */
  sources: string[];
  /** One sentence for the client's error answer and the admin API; names the keys, never a value. */
  message: string;
}

/** A problem with one container's labels or one config key; listed by the admin API. */
export interface RouteError {
  code: string; // stable, e.g. LABEL_BAD_PORT
  /** container name (docker) or config file path */
  source: string;
  /** label or key path, e.g. 'proxy.app.port' or 'routes.web.members[0].url' */
  key: string;
  message: string;
  line?: number | undefined;
}

/** A TCP or UDP stream route's transport (docs/streams.md). */
export type StreamProtocol = 'tcp' | 'udp';

/** Where a stream route listens: `proxy.<alias>.port: "2222:22"` listens on 2222. */
export interface StreamListen {
  protocol: StreamProtocol;
  /** Listening port; 0 = any free port (GoDoxy's `port: 22` with `scheme: tcp`), shown by the admin API. */
  port: number;
  /** Listening address (`proxy.<alias>.bind`); undefined = every interface. */
  bind?: string | undefined;
  /** UDP only (`udp_idle_timeout`): a session ends after this long without a datagram; undefined = 5 min. */
  udpIdleTimeoutMs?: number | undefined;
}

/**
 * A stream route: a listener of its own (not a host on the HTTP entrypoint) and a pool of members
 * whose `url` is `tcp://ip:port` or `udp://ip:port`. `aliases` name it; no HTTP host answers it.
 */
export interface StreamRouteSpec extends RouteSpec {
  stream: StreamListen;
}
