// The middleware contract (docs/middlewares.md): what one middleware is, what it sees of a
// request, and how it says "go on" or "I answered". GoDoxy's grammar is parsed by labels and
// config into MiddlewareSpec values; this folder compiles them into a chain that the proxy runs
// after routing and before the gate (wake), so a refused request touches nothing behind it:
// no wake, no upstream, no idle-clock activity. Entrypoint middlewares run before routing.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClientIpRule } from '../../pkg/realip/index.ts';
import type { MiddlewareSpec } from '../routes/index.ts';

/** One middleware as configured (defined in internal/routes: labels, config and RouteSpec carry it). */
export type { MiddlewareSpec };

/** What a middleware sees of the request and may change on its way upstream. */
export interface RequestFacts {
  /** The real client IP (trusted proxies applied, docs/client-ip.md). */
  readonly clientIp: string;
  /** TLS, or a trusted proxy said https. */
  readonly secure: boolean;
  /** Routing host (lower case, no port). */
  readonly host: string;
  /** Origin-form path with query, as received; the `rules` stage's `rewrite` replaces it (docs/rules.md). */
  path: string;
  /** The route's name ('' before routing): the `route` matcher of rules. */
  readonly route?: string | undefined;
  /**
   * Set by the `rules` stage's `route <alias>` (docs/rules.md): the rest of this route's chain
   * is skipped and the request is served by that alias's route (its middlewares, gate and pool).
   */
  routeTo?: string | undefined;
  /**
   * The upstream request's headers, a flat [name, value, …] list the middleware may edit in
   * place (names compared case-insensitively). Headers a middleware adds for the member (e.g.
   * forward_auth's Remote-User) must first remove whatever the client sent under that name.
   */
  readonly upstreamHeaders: string[];
  /** Register an edit of the member's response head before it is written to the client. */
  onResponseHead(edit: (status: number, headers: string[]) => void): void;
}

export type MiddlewareVerdict = 'continue' | 'answered';

/** A compiled middleware: options checked once, state (rate-limit buckets, OIDC client) inside. */
export interface Middleware {
  readonly name: string;
  /**
   * 'continue': on to the next middleware (then the gate); 'answered': `res` was answered
   * (403, 401, 429, a login redirect) and nothing behind runs. Must never throw for a request;
   * an internal failure answers 5xx itself (fail closed).
   */
  handle(req: IncomingMessage, res: ServerResponse, facts: RequestFacts): MiddlewareVerdict | Promise<MiddlewareVerdict>;
  /**
   * Runs instead of handle() when a `bypass` rule lets the request skip this middleware: removes
   * what a client must never forge on its way upstream (the identity headers an auth middleware
   * sets, its own cookies). Never answers.
   */
  onBypass?(facts: RequestFacts): void;
  /**
   * Paths (without query) this middleware owns whatever `bypass` says, e.g. oidc's callback and
   * logout: a bypass rule never sends them to the member.
   */
  owns?(pathname: string): boolean;
  /**
   * real_ip / cloudflare_real_ip: not a step but the rule that decides the client address
   * (docs/client-ip.md). The chain does not run it; the proxy applies it before any step.
   */
  readonly clientIpRule?: ClientIpRule;
  /** Timers, sockets, clients to release when the route goes away. */
  close?(): void;
}

/** A problem with a middleware's options, reported like a label/config error. */
export interface MiddlewareProblem {
  /** e.g. `MIDDLEWARE_UNKNOWN_OPTION`, `MIDDLEWARE_BAD_OPTION`, `MIDDLEWARE_UNKNOWN`. */
  readonly code: string;
  /** `<spec.key>.<option>` */
  readonly key: string;
  readonly message: string;
}

/** Everything a middleware may need from outside (kept small; add by need). */
export interface MiddlewareDeps {
  /** Milliseconds since epoch (tests inject a clock). */
  now(): number;
  /** Reads a file (basic_auth users_file); relative paths resolve against the config's folder. */
  readFile(path: string): string;
  /**
   * Bellhop's secret key (the one sticky.secret_file holds): a middleware derives its own keys
   * from it (oidc seals its cookies with one). Absent: a random key per process, so sealed
   * cookies do not survive a restart.
   */
  readonly secret?: Uint8Array | undefined;
  /**
   * create() only checks the options (labels and config at parse time, `bellhop check`): it
   * reads no file and opens nothing; what it builds is closed at once.
   */
  readonly checkOnly?: boolean | undefined;
  /**
   * The origin (`http://ip:port`) of a usable member of the route named `route` (its name or
   * one of its hosts), or undefined: forward_auth's GoDoxy-style `route` option.
   */
  routeOrigin?(route: string): string | undefined;
  /**
   * Parses YAML text (a `rule_file` in GoDoxy's YAML list form, docs/rules.md); yaml's home is
   * internal/config, so the composition root passes it. Absent: only block-syntax files are read.
   */
  parseYaml?(text: string): unknown;
}

/** One kind of middleware: its option names and how to build it. */
export interface MiddlewareFactory {
  readonly name: string;
  /** Canonical snake_case option names it accepts (plus `priority` and `bypass`, always). */
  readonly options: readonly string[];
  /** Restricts or authenticates access: when it cannot be built, the route refuses service. */
  readonly restrictsAccess: boolean;
  /** Checks the options; returns the middleware, or every problem found. */
  create(spec: MiddlewareSpec, deps: MiddlewareDeps): Middleware | MiddlewareProblem[];
}
