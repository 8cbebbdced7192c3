// One problem in the config file or an environment override. Validation collects all of them.
import type { RouteError } from '../routes/index.ts';

/** Stable codes of {@link ConfigError}. */
export type ConfigErrorCode =
  | 'CONFIG_FILE_MISSING'
  | 'CONFIG_FILE_UNREADABLE'
  | 'CONFIG_YAML_SYNTAX'
  | 'CONFIG_UNKNOWN_KEY'
  | 'CONFIG_BAD_TYPE'
  | 'CONFIG_BAD_DURATION'
  | 'CONFIG_BAD_LISTEN'
  | 'CONFIG_BAD_URL'
  | 'CONFIG_BAD_CIDR'
  | 'CONFIG_BAD_MODE'
  | 'CONFIG_BAD_NUMBER'
  | 'CONFIG_BAD_PATH'
  | 'CONFIG_BAD_STATUS'
  | 'CONFIG_BAD_DOCKER_HOST'
  | 'CONFIG_BAD_DOMAIN'
  | 'CONFIG_BAD_LABEL_FILTER'
  | 'CONFIG_BAD_ALIAS'
  | 'CONFIG_BAD_LOG_LEVEL'
  /** `wake.show_logs` is not always, private or never. */
  | 'CONFIG_BAD_SHOW_LOGS'
  /** An `api.auth.users` entry that is not `name:bcrypt-hash`. */
  | 'CONFIG_BAD_USER'
  | 'CONFIG_BAD_ROUTE'
  /** A stream route (`routes.<name>` with `scheme: tcp|udp`) that cannot be served: its ports, target or a field streams do not have. */
  | 'CONFIG_BAD_STREAM'
  /** `autocert.provider` is not one Bellhop knows. */
  | 'CONFIG_BAD_PROVIDER'
  /** An `autocert` block that cannot work: a wildcard without DNS-01, a provider without its option, half an EAB pair, HTTPS without certificates. */
  | 'CONFIG_AUTOCERT'
  | 'CONFIG_DUPLICATE'
  /** A GoDoxy feature Bellhop cannot apply yet (`middlewares`, `rules`): never silently ignored. */
  | 'CONFIG_UNSUPPORTED'
  /** An unknown middleware name (docs/middlewares.md), with a did-you-mean. */
  | 'CONFIG_UNKNOWN_MIDDLEWARE'
  /** A middleware's option is unknown or its value is wrong. */
  | 'CONFIG_BAD_MIDDLEWARE'
  /** An `access_log` block that cannot work (docs/access-log.md): an unknown key, a bad format, retention or filter. */
  | 'CONFIG_BAD_ACCESS_LOG'
  | 'CONFIG_WATCH_FAILED';

/** Source name used for problems that come from environment variables. */
export const ENV_SOURCE = 'env';

export class ConfigError extends Error {
  readonly code: ConfigErrorCode;
  /** Key path, e.g. `routes.web.members[1].url`, or the variable name for env overrides. */
  readonly key: string;
  /** 1-based line in `file`, when known. */
  readonly line: number | undefined;
  /** The file as the user named it (e.g. `config.yml`), or `env` for environment variables. */
  readonly file: string | undefined;
  constructor(code: ConfigErrorCode, key: string, message: string, where: { line?: number | undefined; file?: string | undefined } = {}) {
    super(message);
    this.name = 'ConfigError';
    this.code = code;
    this.key = key;
    this.line = where.line;
    this.file = where.file;
  }

  /** `config.yml:12 routes.web.members[0].url: message` */
  format(): string {
    const where = this.file === undefined ? '' : `${this.file}${this.line === undefined ? '' : `:${String(this.line)}`} `;
    return `${where}${this.key}: ${this.message}`;
  }

  /** The shape the admin API lists. */
  toRouteError(): RouteError {
    return { code: this.code, source: this.file ?? 'config', key: this.key, message: this.message, line: this.line };
  }
}

/** One line per problem, in the order found (file order, then environment). */
export function formatConfigErrors(errors: readonly ConfigError[]): string {
  return errors.map((e) => e.format()).join('\n');
}
