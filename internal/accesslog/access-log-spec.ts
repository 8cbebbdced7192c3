// One access log as configured (docs/access-log.md): `entrypoint.access_log`, a static route's
// `access_log` or a container's `proxy.<alias>.access_log.*` labels. Plain frozen data: the route
// spec carries it, so an unchanged log compares equal across route-table swaps.

/** GoDoxy's three line formats. */
export type AccessLogFormat = 'common' | 'combined' | 'json';

/** What a field group keeps of each entry: the value, nothing, or `REDACTED`. */
export type FieldMode = 'keep' | 'drop' | 'redact';

/** `fields.headers` / `fields.query` / `fields.cookies`: a default and per-name exceptions. */
export interface FieldSpec {
  readonly default: FieldMode;
  /** Name → mode. Header names are lower-cased (headers match in any case); query and cookie names as written. */
  readonly config: Readonly<Record<string, FieldMode>>;
}

/**
 * One filter (`filters.<kind>`): a request passes when one value matches, or — `negative` —
 * when none does. GoDoxy's rule: an empty list passes everything, or (negative) nothing.
 */
export interface FilterSpec<T> {
  readonly negative: boolean;
  readonly values: readonly T[];
}

/** `retention` / `keep`: GoDoxy's `N days|weeks|months`, `last N`, or a size such as `100 MB`. */
export type RetentionSpec =
  | { readonly kind: 'days'; readonly days: number }
  | { readonly kind: 'last'; readonly lines: number }
  | { readonly kind: 'size'; readonly bytes: number };

export interface AccessLogFilters {
  /** Inclusive ranges `[from, to]`. */
  readonly statusCodes?: FilterSpec<readonly [number, number]> | undefined;
  /** Upper case. */
  readonly method?: FilterSpec<string> | undefined;
  /** Lower case, no port. */
  readonly host?: FilterSpec<string> | undefined;
  /** Header present (`value` undefined) or equal to `value` (case-insensitive). Names lower case. */
  readonly headers?: FilterSpec<{ readonly name: string; readonly value: string | undefined }> | undefined;
  /** IPs and CIDRs, as written; matched against the real client IP. */
  readonly cidr?: FilterSpec<string> | undefined;
}

export interface AccessLogSpec {
  readonly format: AccessLogFormat;
  /** File to append to, as written (relative paths resolve against the working directory); undefined: none. */
  readonly path: string | undefined;
  /** Also write the lines to standard output. */
  readonly stdout: boolean;
  /** Applied at start and every `rotateIntervalMs`; undefined: the file grows. */
  readonly retention: RetentionSpec | undefined;
  readonly rotateIntervalMs: number;
  /** Bytes buffered before a write is started (lines are also written at least every second). */
  readonly bufferSize: number;
  readonly filters: AccessLogFilters;
  readonly fields: {
    readonly headers: FieldSpec;
    readonly query: FieldSpec;
    readonly cookies: FieldSpec;
  };
}

/** GoDoxy's defaults: combined lines, 30 days kept, headers and cookies dropped, the query kept. */
export const ACCESS_LOG_DEFAULTS = {
  format: 'combined' as AccessLogFormat,
  retention: { kind: 'days', days: 30 } as RetentionSpec,
  rotateIntervalMs: 3_600_000,
  bufferSize: 64 * 1024,
  headers: 'drop' as FieldMode,
  query: 'keep' as FieldMode,
  cookies: 'drop' as FieldMode,
};
