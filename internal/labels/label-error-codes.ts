// Stable codes of every label problem (RouteError.code). Tests, docs and the admin API rely on
// these names; add new ones, never rename.

export const LabelErrorCode = {
  /** `proxy` alone, an empty segment (`proxy..port`), a key that cannot be parsed. */
  INVALID_KEY: 'LABEL_INVALID_KEY',
  /** `proxy.<alias>.<field>` where field is not a known field. */
  UNKNOWN_FIELD: 'LABEL_UNKNOWN_FIELD',
  /** A container-level label (idle_timeout, …) written per alias. */
  CONTAINER_LEVEL: 'LABEL_CONTAINER_LEVEL',
  /** CR, LF or NUL in a value: would make a header or URL throw later. */
  CONTROL_CHAR: 'LABEL_CONTROL_CHAR',
  BAD_PORT: 'LABEL_BAD_PORT',
  BAD_SCHEME: 'LABEL_BAD_SCHEME',
  BAD_HOST: 'LABEL_BAD_HOST',
  BAD_BOOL: 'LABEL_BAD_BOOL',
  BAD_DURATION: 'LABEL_BAD_DURATION',
  BAD_MODE: 'LABEL_BAD_MODE',
  BAD_WEIGHT: 'LABEL_BAD_WEIGHT',
  BAD_NUMBER: 'LABEL_BAD_NUMBER',
  BAD_PATH: 'LABEL_BAD_PATH',
  /** healthcheck.status that is not a comma list of codes/ranges within 100-599. */
  BAD_STATUS: 'LABEL_BAD_STATUS',
  BAD_HEADER: 'LABEL_BAD_HEADER',
  BAD_CIDR: 'LABEL_BAD_CIDR',
  BAD_ALIAS: 'LABEL_BAD_ALIAS',
  BAD_LINK: 'LABEL_BAD_LINK',
  BAD_STOP_METHOD: 'LABEL_BAD_STOP_METHOD',
  BAD_SIGNAL: 'LABEL_BAD_SIGNAL',
  BAD_DEPENDENCY: 'LABEL_BAD_DEPENDENCY',
  BAD_VALUE: 'LABEL_BAD_VALUE',
  /** An empty entry in a list that must not have one (`proxy.idle_ignore.paths: "/a,,/b"`, or nothing at all). */
  EMPTY_ITEM: 'LABEL_EMPTY_ITEM',
  /** `#N` outside 1..number of aliases (also `#0`). */
  ALIAS_INDEX: 'LABEL_ALIAS_INDEX',
  BAD_YAML: 'LABEL_BAD_YAML',
  /** A mapping expected (`proxy.app`, `…load_balance`) but a scalar given, or vice versa. */
  NOT_MAPPING: 'LABEL_NOT_MAPPING',
  /** The same field set twice at the same precedence (`proxy.App.port` and `proxy.app.port`). */
  DUPLICATE: 'LABEL_DUPLICATE',
  /** `proxy.ports` together with a full label for the same field. */
  SHORTCUT_CONFLICT: 'LABEL_SHORTCUT_CONFLICT',
  /** `proxy.network` names a network the container is not on. */
  BAD_NETWORK: 'LABEL_BAD_NETWORK',
  /** No port label and no exposed port. */
  NO_PORT: 'LABEL_NO_PORT',
  /** Remote Docker host but the port is not published. */
  NOT_PUBLISHED: 'LABEL_NOT_PUBLISHED',
  /**
   * A label that restricts or authenticates access (`middlewares.oidc`, `middlewares.cidr_whitelist`,
   * `rules`, an unknown middleware, …) that Bellhop cannot apply yet. An error, but the aliases
   * it applies to keep their hosts and refuse service (503 PROXY_ROUTE_REFUSED): never served
   * unprotected, and never a confusing 404.
   */
  ACCESS_CONTROL_UNSUPPORTED: 'LABEL_ACCESS_CONTROL_UNSUPPORTED',
  /** `proxy.<alias>.middlewares.<name>` with a name Bellhop does not know (docs/middlewares.md); with a did-you-mean. */
  UNKNOWN_MIDDLEWARE: 'LABEL_UNKNOWN_MIDDLEWARE',
  /** A middleware's option is unknown (with a did-you-mean) or its value is wrong (`allow: nope`, `average: -1`). */
  BAD_MIDDLEWARE: 'LABEL_BAD_MIDDLEWARE',
  /**
   * `proxy.<alias>.rules` that cannot be read (docs/rules.md): a syntax error, an unknown command,
   * two default rules. The alias refuses service (503 PROXY_ROUTE_REFUSED), never served without them.
   */
  BAD_RULES: 'LABEL_BAD_RULES',
  /** An `access_log` option that cannot work (docs/access-log.md): unknown key, bad format, retention, filter or field. */
  BAD_ACCESS_LOG: 'LABEL_BAD_ACCESS_LOG',
  /** Two unrelated containers claim one alias; the oldest keeps it. */
  ALIAS_CONFLICT: 'ALIAS_CONFLICT',
  /** Pool members disagree on mode/sticky/sticky_max_age/options; the oldest member's win. */
  POOL_SETTINGS_CONFLICT: 'POOL_SETTINGS_CONFLICT',
  /** One container joins the same pool through two aliases; the first alias is kept. */
  POOL_DUPLICATE_MEMBER: 'POOL_DUPLICATE_MEMBER',
  /**
   * Two stream routes want the same listening port and protocol (docs/streams.md); the oldest keeps
   * it. Also: members of one stream pool that disagree on protocol or listening port.
   */
  STREAM_PORT_CONFLICT: 'LABEL_STREAM_PORT_CONFLICT',
  /** A stream alias (tcp/udp) with middlewares or access-control labels: those are HTTP-only, so it is not served. */
  STREAM_ACCESS_CONTROL: 'LABEL_STREAM_ACCESS_CONTROL',
  // Warnings (never block routes):
  /** A GoDoxy field Bellhop does not implement and that grants no access control (homepage, middlewares.request, …): ignored. */
  IGNORED_FIELD: 'LABEL_IGNORED_FIELD',
  /** GoDoxy `listen:target` port form on an HTTP scheme (http, https, h2c): the listening part is ignored. */
  IGNORED_LISTEN_PORT: 'LABEL_IGNORED_LISTEN_PORT',
  /** No scheme, and the alias's port is offered only as `/udp` (GoDoxy's guess): the alias is a UDP stream. */
  UDP_FROM_PORT: 'LABEL_UDP_FROM_PORT',
  /**
   * A compose container's service name (answered besides its container name when proxy.aliases
   * is unset) is another container's alias, or another project's service of the same name
   * that is older: this container answers its container name only.
   */
  SERVICE_ALIAS_TAKEN: 'LABEL_SERVICE_ALIAS_TAKEN',
  /** A stream alias without a listening port (`scheme: tcp`, `port: 22`): it listens on any free port. */
  STREAM_ANY_PORT: 'LABEL_STREAM_ANY_PORT',
  /** A field that means nothing for this kind of route (`bind` on HTTP, `healthcheck.path` on a stream): ignored. */
  FIELD_NOT_APPLICABLE: 'LABEL_FIELD_NOT_APPLICABLE',
  /** expose_all container with no port to route to: skipped. */
  SKIPPED_NO_PORT: 'LABEL_SKIPPED_NO_PORT',
} as const;

export type LabelErrorCodeName = (typeof LabelErrorCode)[keyof typeof LabelErrorCode];
