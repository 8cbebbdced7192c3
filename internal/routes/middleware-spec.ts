// One middleware as configured (docs/middlewares.md). Here, in the pure routes module, because
// labels and config produce it, RouteSpec carries it, and internal/middleware compiles it: all
// three can import routes without crossing a boundary the other way.

/** One middleware as configured: from a label group, a static route or entrypoint.middlewares. */
export interface MiddlewareSpec {
  /** Canonical snake_case name (`cidr_whitelist`), after case/underscore folding. */
  readonly name: string;
  /** Lower runs first; default 10; ties by name. */
  readonly priority: number;
  /** `path <glob>` or `remote <CIDR>` rules: a matching request skips this middleware. */
  readonly bypass: readonly string[];
  /** The middleware's own options, keys canonical snake_case, values as parsed (strings, numbers, lists, maps). */
  readonly options: Readonly<Record<string, unknown>>;
  /** Where it was written, for errors: `proxy.app.middlewares.rate_limit` or `routes.app.middlewares.rate_limit`. */
  readonly key: string;
}
