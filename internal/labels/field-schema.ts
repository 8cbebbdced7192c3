// The per-alias fields (`proxy.<alias>.<field>`): their canonical dotted names, which ones are
// mappings, and how each value is read. Field names match GoDoxy's loosely, as its users write
// them: case, `_` and `-` are ignored (`no_tls_verify` = `NoTLSVerify`), plus a few aliases.

import { didYouMean } from './did-you-mean.ts';
import type { Parsed } from './value-parsers.ts';
import {
  readBind, readBool, readCidrList, readDuration, readHeaderName, readHost, readInteger, readLink, readMode, readPath, readPort, readRetries, readScheme, readStatus, readWeight,
} from './value-parsers.ts';
import { LabelErrorCode as C } from './label-error-codes.ts';

export interface FieldDef {
  /** Canonical dotted name, e.g. `load_balance.mode`. */
  name: string;
  read: (v: unknown) => Parsed<unknown>;
}

const FIELD_LIST: FieldDef[] = [
  { name: 'port', read: readPort },
  { name: 'scheme', read: readScheme },
  { name: 'host', read: readHost },
  { name: 'bind', read: readBind },
  // Bellhop's own (GoDoxy's UDP session timeout is a fixed 5 min): UDP streams only
  { name: 'udp_idle_timeout', read: (v) => readDuration(v, 'udp_idle_timeout', false) },
  { name: 'no_tls_verify', read: readBool },
  { name: 'no_pipelining', read: readBool },
  { name: 'load_balance.link', read: readLink },
  { name: 'load_balance.mode', read: readMode },
  { name: 'load_balance.weight', read: readWeight },
  { name: 'load_balance.sticky', read: readBool },
  { name: 'load_balance.sticky_max_age', read: (v) => readDuration(v, 'load_balance.sticky_max_age', true) },
  { name: 'load_balance.options.header', read: readHeaderName },
  { name: 'load_balance.options.from', read: readCidrList },
  { name: 'load_balance.options.recursive', read: readBool },
  { name: 'healthcheck.path', read: (v) => readPath(v, 'healthcheck.path') },
  { name: 'healthcheck.interval', read: (v) => readDuration(v, 'healthcheck.interval', false) },
  { name: 'healthcheck.timeout', read: (v) => readDuration(v, 'healthcheck.timeout', false) },
  { name: 'healthcheck.rise', read: (v) => readInteger(v, 'healthcheck.rise', 1, 100) },
  { name: 'healthcheck.fall', read: (v) => readInteger(v, 'healthcheck.fall', 1, 100) },
  // GoDoxy's name; `fall` wins when both are set
  { name: 'healthcheck.retries', read: readRetries },
  { name: 'healthcheck.use_get', read: readBool },
  { name: 'healthcheck.disable', read: readBool },
  { name: 'healthcheck.status', read: readStatus },
];

/** Every per-alias field, by canonical name. */
export const FIELDS: ReadonlyMap<string, FieldDef> = new Map(FIELD_LIST.map((f) => [f.name, f]));

/** Paths whose label value is a YAML mapping ('' is the alias itself: `proxy.app: |`). */
const OBJECTS = ['', 'load_balance', 'load_balance.options', 'healthcheck', 'middlewares'];

/** Alternate spellings → canonical (GoDoxy's struct aliases). */
const SPELLINGS: Record<string, string> = {
  'healthcheck.disabled': 'healthcheck.disable',
  'loadbalance.options.trustedproxies': 'load_balance.options.from',
};

/**
 * GoDoxy route fields Bellhop does not implement and that never decide who gets in. Labels under
 * them are ignored with a warning, so a GoDoxy compose file keeps working instead of losing its
 * routes. (GoDoxy middlewares Bellhop does not run are middleware-labels.ts's business.)
 */
export const IGNORED_ROOTS: readonly string[] = [
  'homepage', 'root', 'spa', 'index', 'response_header_timeout',
  'max_conns_per_host', 'disable_compression', 'ssl_server_name', 'ssl_trusted_certificate', 'ssl_certificate',
  'ssl_certificate_key', 'ssl_protocols', 'agent', 'proxmox', 'idlewatcher',
  'relay_proxy_protocol_header', 'tls_termination', 'alias',
];

/**
 * GoDoxy route fields that restrict or authenticate access, besides the middlewares Bellhop
 * cannot apply yet (internal/middleware's registry). Bellhop cannot apply them
 * yet, so an alias with one refuses service instead of being served to anyone
 * (docs/labels.md, "Access control").
 */
export const ACCESS_ROOTS: ReadonlyMap<string, string> = new Map([
  ['rule_file', '"rule_file" can refuse, redirect or authenticate requests'],
  ['inbound_mtls_profile', '"inbound_mtls_profile" requires client certificates'],
  ['path_patterns', '"path_patterns" limits the paths that are served'],
]);

/** Container-level labels: `proxy.<name>` only, never per alias. */
export const CONTAINER_LEVEL: readonly string[] = [
  'aliases', 'exclude', 'network', 'host', 'idle_timeout', 'wake_timeout', 'stop_timeout', 'stop_method', 'stop_signal',
  'start_endpoint', 'depends_on', 'no_loading_page', 'idle_ignore',
];

/**
 * The fields of the container-level group `proxy.idle_ignore` (`proxy.idle_ignore.<field>`, or
 * all at once as a YAML mapping in `proxy.idle_ignore`): requests that never count as activity.
 */
export const IDLE_IGNORE_FIELDS: readonly string[] = ['user_agents', 'from', 'paths'];
const IDLE_IGNORE_BY_NORM = new Map(IDLE_IGNORE_FIELDS.map((n) => [normSegment(n), n]));

/** `User-Agents` → `user_agents`; undefined when it is not an idle_ignore field. */
export function idleIgnoreField(segment: string): string | undefined {
  return IDLE_IGNORE_BY_NORM.get(normSegment(segment));
}

/** Closest idle_ignore field to a mistyped one, if any. */
export function guessIdleIgnoreField(segment: string): string | undefined {
  return didYouMean(segment, IDLE_IGNORE_FIELDS);
}

/** GoDoxy scalar shortcuts: `proxy.ports: "80, 8080"` = `proxy.#1.port: 80`, `proxy.#2.port: 8080`. */
export const SHORTCUTS: ReadonlyMap<string, string> = new Map([
  ['ports', 'port'],
  ['schemes', 'scheme'],
  ['protos', 'scheme'],
  ['protocols', 'scheme'],
  ['hosts', 'host'],
  ['no_tls_verifies', 'no_tls_verify'],
  // GoDoxy's other plural shortcuts: their fields are ignored (or refused) like the full labels,
  // and never read as an alias named `binds`.
  ['binds', 'bind'],
  ['roots', 'root'],
  ['spas', 'spa'],
  ['indexes', 'index'],
  ['response_header_timeouts', 'response_header_timeout'],
  ['max_conns_per_hosts', 'max_conns_per_host'],
  ['disable_compressions', 'disable_compression'],
  ['ssl_server_names', 'ssl_server_name'],
  ['ssl_trusted_certificates', 'ssl_trusted_certificate'],
  ['ssl_certificates', 'ssl_certificate'],
  ['ssl_certificate_keys', 'ssl_certificate_key'],
  ['agents', 'agent'],
  ['tls_terminations', 'tls_termination'],
  ['proxy_protocol_headers', 'relay_proxy_protocol_header'],
  ['inbound_mtls_profiles', 'inbound_mtls_profile'],
  ['rule_files', 'rule_file'],
]);

/** Case, `_` and `-` insensitive key for one segment. */
export function normSegment(s: string): string {
  return s.toLowerCase().replace(/[_-]/g, '');
}
function normPath(segments: readonly string[]): string {
  return segments.map(normSegment).join('.');
}

const LOOKUP = new Map<string, { kind: 'field' | 'object'; name: string }>();
for (const o of OBJECTS) LOOKUP.set(normPath(o === '' ? [] : o.split('.')), { kind: 'object', name: o });
for (const f of FIELD_LIST) LOOKUP.set(normPath(f.name.split('.')), { kind: 'field', name: f.name });
for (const [alt, canon] of Object.entries(SPELLINGS)) LOOKUP.set(normPath(alt.split('.')), { kind: 'field', name: canon });
const IGNORED = new Set(IGNORED_ROOTS.map(normSegment));
const ACCESS = new Map([...ACCESS_ROOTS].map(([name, reason]) => [normSegment(name), { name, reason }]));
const CONTAINER = new Map(CONTAINER_LEVEL.map((n) => [normSegment(n), n]));
const ALL_NAMES = [...FIELD_LIST.map((f) => f.name), ...OBJECTS.filter((o) => o !== '')];

export type Resolution =
  | { kind: 'field'; def: FieldDef }
  | { kind: 'object'; name: string }
  | { kind: 'ignored'; name: string }
  /** Access control Bellhop cannot apply: the alias refuses service. `name`: e.g. `middlewares.oidc`. */
  | { kind: 'refused'; name: string; reason: string }
  | { kind: 'error'; code: string; message: string };

/** What a path under an alias (`['load_balance', 'mode']`) names. */
export function resolvePath(segments: readonly string[]): Resolution {
  const hit = LOOKUP.get(normPath(segments));
  if (hit?.kind === 'object') return { kind: 'object', name: hit.name };
  if (hit?.kind === 'field') {
    const def = FIELDS.get(hit.name);
    if (def !== undefined) return { kind: 'field', def };
  }
  // `middlewares.*` never gets here: middleware-labels.ts reads it (docs/middlewares.md)
  const first = segments[0] ?? '';
  const access = ACCESS.get(normSegment(first));
  if (access !== undefined) return { kind: 'refused', name: access.name, reason: access.reason };
  if (IGNORED.has(normSegment(first))) return { kind: 'ignored', name: segments.join('.') };
  const containerLevel = CONTAINER.get(normSegment(first));
  if (containerLevel !== undefined && (segments.length === 1 || containerLevel === 'idle_ignore')) {
    const written = containerLevel === 'idle_ignore' ? ['idle_ignore', ...segments.slice(1)].join('.') : containerLevel;
    return { kind: 'error', code: C.CONTAINER_LEVEL, message: `${containerLevel} is a container-level label: write proxy.${written}, not per alias` };
  }
  // A path that runs through a scalar field (`port.x`, `healthcheck.path.y`).
  for (let i = 1; i < segments.length; i++) {
    const prefix = LOOKUP.get(normPath(segments.slice(0, i)));
    if (prefix?.kind === 'field') return { kind: 'error', code: C.NOT_MAPPING, message: `${prefix.name} is a single value, not a mapping (got ${segments.join('.')})` };
  }
  const name = segments.join('.');
  const guess = didYouMean(name, ALL_NAMES);
  let hint = guess !== undefined ? `; did you mean "${guess}"?` : '';
  if (guess === undefined && segments.length > 1) {
    hint = '; a host name alias with dots cannot be named in a label key: address it as proxy.#N.<field>';
  }
  return { kind: 'error', code: C.UNKNOWN_FIELD, message: `unknown field "${name}"${hint}` };
}

/** Closest container-level label to a mistyped `proxy.<name>`, if any. */
export function guessContainerLevel(name: string): string | undefined {
  return didYouMean(name, [...CONTAINER_LEVEL, ...SHORTCUTS.keys()]);
}
