// GoDoxy's `access_log` block (docs/access-log.md) → an AccessLogSpec, or every problem with the
// key it is about. One reader for the config file (typed YAML values) and labels (text values,
// `proxy.app.access_log.filters.method.values: GET, POST`), so both accept the same forms. Keys
// ignore case, `_` and `-`, as GoDoxy's do.
import { isAbsolute } from 'node:path';
import { deepFreeze } from '../../pkg/freeze/index.ts';
import { parseTrustedProxies } from '../../pkg/realip/index.ts';
import {
  ACCESS_LOG_DEFAULTS, type AccessLogFilters, type AccessLogFormat, type AccessLogSpec, type FieldMode, type FieldSpec, type FilterSpec, type RetentionSpec,
} from './access-log-spec.ts';
import { isToken } from '../../pkg/http/index.ts';

/** One problem: the full key (`entrypoint.access_log.retention`) and a sentence. */
export interface AccessLogProblem {
  readonly key: string;
  readonly message: string;
}

export type AccessLogParse = { ok: true; spec: AccessLogSpec } | { ok: false; problems: AccessLogProblem[] };

const TOP = ['format', 'path', 'stdout', 'retention', 'keep', 'rotate_interval', 'buffer_size', 'filters', 'fields'];
const FILTERS = ['status_codes', 'method', 'host', 'headers', 'cidr'];
const FILTER_KEYS = ['values', 'negative'];
const FIELDS: Record<string, 'headers' | 'query' | 'cookies'> = { headers: 'headers', header: 'headers', query: 'query', queries: 'query', cookies: 'cookies', cookie: 'cookies' };
const FIELD_KEYS = ['default', 'config'];
const FORMATS: readonly AccessLogFormat[] = ['common', 'combined', 'json'];
const MODES: readonly FieldMode[] = ['keep', 'drop', 'redact'];

function norm(k: string): string {
  return k.toLowerCase().replace(/[_-]/g, '');
}

function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : Array.isArray(v) ? 'a list' : typeof v === 'object' && v !== null ? 'a mapping' : String(v);
}

class Reader {
  readonly problems: AccessLogProblem[] = [];
  fail(key: string, message: string): void {
    this.problems.push({ key, message });
  }

  /** Known keys of a mapping by their canonical name; unknown ones are problems (with a guess). */
  mapping(v: unknown, key: string, known: readonly string[], what: string): Map<string, { key: string; value: unknown }> | undefined {
    if (v === null || v === undefined || v === '') return new Map();
    if (typeof v !== 'object' || Array.isArray(v)) {
      this.fail(key, `expected ${what}, got ${show(v)}`);
      return undefined;
    }
    const out = new Map<string, { key: string; value: unknown }>();
    const byNorm = new Map(known.map((k) => [norm(k), k]));
    for (const [k, value] of Object.entries(v as Record<string, unknown>)) {
      const canon = byNorm.get(norm(k));
      if (canon === undefined) {
        const guess = known.find((x) => norm(x).startsWith(norm(k).slice(0, 3)) && norm(k).length > 2);
        this.fail(`${key}.${k}`, `unknown key "${k}"${guess === undefined ? `; expected one of ${known.join(', ')}` : `; did you mean "${guess}"?`}`);
        continue;
      }
      out.set(canon, { key: `${key}.${k}`, value });
    }
    return out;
  }

  bool(v: unknown, key: string): boolean | undefined {
    if (typeof v === 'boolean') return v;
    if (typeof v === 'string') {
      const s = v.trim().toLowerCase();
      if (['true', 'yes', 'on', '1'].includes(s)) return true;
      if (['false', 'no', 'off', '0', ''].includes(s)) return false;
    }
    this.fail(key, `expected true or false, got ${show(v)}`);
    return undefined;
  }

  /** A list, or GoDoxy's comma-separated text. */
  list(v: unknown, key: string): string[] | undefined {
    if (v === null || v === undefined) return [];
    if (Array.isArray(v)) {
      const out: string[] = [];
      for (const item of v) {
        if (typeof item === 'string' || typeof item === 'number') out.push(String(item).trim());
        else {
          this.fail(key, `expected a list of text values, got ${show(item)} in it`);
          return undefined;
        }
      }
      return out.filter((s) => s !== '');
    }
    if (typeof v === 'string' || typeof v === 'number') return String(v).split(',').map((s) => s.trim()).filter((s) => s !== '');
    this.fail(key, `expected a list (or comma-separated text), got ${show(v)}`);
    return undefined;
  }
}

/** `30 days`, `2 weeks`, `1 month`, `last 1000`, `100 MB` (also a `{days|last|keep_size}` mapping). */
export function parseRetention(v: unknown): RetentionSpec | string {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length !== 1) return 'expected one of days, last or keep_size';
    const [k, raw] = entries[0]!;
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(n) || n <= 0) return `${k} must be a whole number above 0, got ${show(raw)}`;
    switch (norm(k)) {
      case 'days': return { kind: 'days', days: n };
      case 'last': return { kind: 'last', lines: n };
      case 'keepsize': return { kind: 'size', bytes: n };
      default: return `unknown key "${k}"; expected days, last or keep_size`;
    }
  }
  if (typeof v !== 'string') return `expected GoDoxy's form "30 days", "last 1000" or "100 MB", got ${show(v)}`;
  const parts = v.trim().split(/\s+/);
  if (parts.length !== 2) return `${show(v)} is not "<N> days|weeks|months", "last <N>" or "<N> KB|MB|GB"`;
  const [a, b] = parts as [string, string];
  const count = (s: string): number => (/^\d{1,12}$/.test(s) ? Number(s) : NaN);
  if (a === 'last') {
    const n = count(b);
    return n > 0 ? { kind: 'last', lines: n } : `"last ${b}": expected a line count above 0`;
  }
  const n = count(a);
  if (!(n > 0)) return `${show(v)}: "${a}" is not a whole number above 0`;
  switch (b) {
    case 'day': case 'days': return { kind: 'days', days: n };
    case 'week': case 'weeks': return { kind: 'days', days: n * 7 };
    case 'month': case 'months': return { kind: 'days', days: n * 30 };
    // GoDoxy: upper case is binary (KiB), lower or mixed case decimal
    case 'KB': return { kind: 'size', bytes: n * 1024 };
    case 'MB': return { kind: 'size', bytes: n * 1024 ** 2 };
    case 'GB': return { kind: 'size', bytes: n * 1024 ** 3 };
    case 'kb': case 'Kb': return { kind: 'size', bytes: n * 1000 };
    case 'mb': case 'Mb': return { kind: 'size', bytes: n * 1000 ** 2 };
    case 'gb': case 'Gb': return { kind: 'size', bytes: n * 1000 ** 3 };
    default: return `${show(v)}: unknown unit "${b}"; expected days, weeks, months, KB, MB or GB`;
  }
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `1h`, `30m`, `1h30m`, `1d`: at least a minute. */
function parseInterval(v: unknown): number | string {
  if (typeof v !== 'string' || v.trim() === '') return `expected a duration such as "1h" or "30m", got ${show(v)}`;
  let rest = v.trim();
  let ms = 0;
  while (rest !== '') {
    const m = DURATION.exec(rest);
    if (m === null) return `${show(v)} is not a duration such as "1h" or "30m"`;
    ms += Number(m[1]) * UNIT_MS[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  if (ms < 60_000 || ms > 30 * 86_400_000) return `${show(v)}: rotate_interval must be between 1m and 30d`;
  return Math.round(ms);
}

/** `100`, `64 KB`, `1MB`: bytes, 4 KiB to 8 MiB. */
function parseBufferSize(v: unknown): number | string {
  const m = typeof v === 'number' ? [String(v), String(v), ''] : typeof v === 'string' ? /^\s*(\d+)\s*([kKmM]i?[bB]?)?\s*$/.exec(v) : null;
  if (m === null) return `expected a size in bytes such as 65536 or "64 KB", got ${show(v)}`;
  const unit = (m[2] ?? '').toLowerCase();
  const n = Number(m[1]) * (unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 ** 2 : 1);
  if (!Number.isSafeInteger(n) || n < 4096 || n > 8 * 1024 ** 2) return `buffer_size must be between 4 KB and 8 MB, got ${show(v)}`;
  return n;
}

function parseStatusRange(s: string): readonly [number, number] | undefined {
  const m = /^(\d{3})(?:\s*-\s*(\d{3}))?$/.exec(s);
  if (m === null) return undefined;
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  return from >= 100 && to <= 599 && from <= to ? [from, to] : undefined;
}

const METHOD = /^[A-Za-z]{1,20}$/;

function readFilter<T>(r: Reader, v: unknown, key: string, item: (s: string, key: string) => T | undefined): FilterSpec<T> | undefined {
  // a bare list (or text) is the values, not negated
  const m = typeof v === 'object' && v !== null && !Array.isArray(v) ? r.mapping(v, key, FILTER_KEYS, 'a mapping with values and negative') : undefined;
  const rawValues = m === undefined ? v : m.get('values')?.value;
  const negative = m?.get('negative') === undefined ? false : r.bool(m.get('negative')!.value, m.get('negative')!.key);
  const listKey = m?.get('values')?.key ?? key;
  const list = r.list(rawValues, listKey);
  if (list === undefined || negative === undefined) return undefined;
  const values: T[] = [];
  for (const s of list) {
    const x = item(s, listKey);
    if (x === undefined) return undefined;
    values.push(x);
  }
  return { negative, values };
}

function readFilters(r: Reader, v: unknown, key: string): AccessLogFilters | undefined {
  const m = r.mapping(v, key, FILTERS, 'a mapping of status_codes, method, host, headers and cidr');
  if (m === undefined) return undefined;
  const out: { -readonly [K in keyof AccessLogFilters]: AccessLogFilters[K] } = {};
  const codes = m.get('status_codes');
  if (codes !== undefined) {
    out.statusCodes = readFilter(r, codes.value, codes.key, (s, k) => {
      const range = parseStatusRange(s);
      if (range === undefined) r.fail(k, `"${s}" is not a status code or range such as 404 or 500-599`);
      return range;
    });
  }
  const method = m.get('method');
  if (method !== undefined) {
    out.method = readFilter(r, method.value, method.key, (s, k) => {
      if (METHOD.test(s)) return s.toUpperCase();
      r.fail(k, `"${s}" is not an HTTP method`);
      return undefined;
    });
  }
  const host = m.get('host');
  if (host !== undefined) {
    out.host = readFilter(r, host.value, host.key, (s, k) => {
      const h = s.toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
      if (h !== '' && !/[\s/]/.test(h)) return h;
      r.fail(k, `"${s}" is not a host name`);
      return undefined;
    });
  }
  const headers = m.get('headers');
  if (headers !== undefined) {
    out.headers = readFilter(r, headers.value, headers.key, (s, k) => {
      const eq = s.indexOf('=');
      const name = (eq === -1 ? s : s.slice(0, eq)).trim();
      if (!isToken(name) || (eq !== -1 && s.includes('=', eq + 1))) {
        r.fail(k, `"${s}" is not "Header" or "Header=value"`);
        return undefined;
      }
      return { name: name.toLowerCase(), value: eq === -1 ? undefined : s.slice(eq + 1).trim() };
    });
  }
  const cidr = m.get('cidr');
  if (cidr !== undefined) {
    out.cidr = readFilter(r, cidr.value, cidr.key, (s, k) => {
      try {
        parseTrustedProxies([s]);
        return s;
      } catch {
        r.fail(k, `"${s}" is not an IP address or CIDR`);
        return undefined;
      }
    });
  }
  for (const f of Object.values(out)) if (f === undefined) return undefined;
  return out;
}

function readMode(r: Reader, v: unknown, key: string): FieldMode | undefined {
  const s = typeof v === 'string' ? v.trim().toLowerCase() : '';
  if ((MODES as readonly string[]).includes(s)) return s as FieldMode;
  r.fail(key, `expected keep, drop or redact, got ${show(v)}`);
  return undefined;
}

function readField(r: Reader, v: unknown, key: string, group: 'headers' | 'query' | 'cookies'): FieldSpec | undefined {
  const m = r.mapping(v, key, FIELD_KEYS, 'a mapping with default and config');
  if (m === undefined) return undefined;
  const d = m.get('default');
  const mode = d === undefined ? ACCESS_LOG_DEFAULTS[group] : readMode(r, d.value, d.key);
  const config: Record<string, FieldMode> = {};
  const c = m.get('config');
  if (c !== undefined && c.value !== null && c.value !== undefined) {
    if (typeof c.value !== 'object' || Array.isArray(c.value)) {
      r.fail(c.key, `expected a mapping of name to keep, drop or redact, got ${show(c.value)}`);
      return undefined;
    }
    for (const [name, mv] of Object.entries(c.value as Record<string, unknown>)) {
      const x = readMode(r, mv, `${c.key}.${name}`);
      if (x === undefined) return undefined;
      config[group === 'headers' ? name.toLowerCase() : name] = x;
    }
  }
  return mode === undefined ? undefined : { default: mode, config };
}

/**
 * Reads one `access_log` value. `key` names it in problems (`entrypoint.access_log`,
 * `proxy.app.access_log`). `true` or an empty mapping is not enough: GoDoxy needs `path` or
 * `stdout`, and so does Bellhop.
 */
export function parseAccessLog(raw: unknown, key: string): AccessLogParse {
  const r = new Reader();
  const m = r.mapping(raw, key, TOP, 'a mapping (format, path, stdout, retention, filters, fields)');
  if (m === undefined) return { ok: false, problems: r.problems };
  let format = ACCESS_LOG_DEFAULTS.format;
  const f = m.get('format');
  if (f !== undefined) {
    const s = typeof f.value === 'string' ? f.value.trim().toLowerCase() : '';
    if ((FORMATS as readonly string[]).includes(s)) format = s as AccessLogFormat;
    else r.fail(f.key, `expected common, combined or json, got ${show(f.value)}`);
  }
  let path: string | undefined;
  const p = m.get('path');
  if (p !== undefined && p.value !== null && p.value !== '') {
    if (typeof p.value !== 'string' || p.value.trim() === '' || p.value.includes('\0')) r.fail(p.key, `expected a file path, got ${show(p.value)}`);
    else path = p.value.trim();
  }
  const s = m.get('stdout');
  const stdout = s === undefined ? false : r.bool(s.value, s.key) ?? false;
  if (path === undefined && !stdout && r.problems.length === 0) r.fail(key, 'path or stdout is required (e.g. path: /var/log/bellhop/access.log)');
  if (path !== undefined && !isAbsolute(path) && path.startsWith('~')) r.fail(p!.key, `"${path}": "~" is not expanded; write the full path`);
  if (m.has('retention') && m.has('keep')) r.fail(m.get('keep')!.key, 'retention and keep are the same setting (keep is its old name); write one');
  let retention: RetentionSpec | undefined = ACCESS_LOG_DEFAULTS.retention;
  const ret = m.get('retention') ?? m.get('keep');
  if (ret !== undefined) {
    const x = parseRetention(ret.value);
    if (typeof x === 'string') r.fail(ret.key, x);
    else retention = x;
  }
  let rotateIntervalMs = ACCESS_LOG_DEFAULTS.rotateIntervalMs;
  const ri = m.get('rotate_interval');
  if (ri !== undefined) {
    const x = parseInterval(ri.value);
    if (typeof x === 'string') r.fail(ri.key, x);
    else rotateIntervalMs = x;
  }
  let bufferSize = ACCESS_LOG_DEFAULTS.bufferSize;
  const bs = m.get('buffer_size');
  if (bs !== undefined) {
    const x = parseBufferSize(bs.value);
    if (typeof x === 'string') r.fail(bs.key, x);
    else bufferSize = x;
  }
  const fl = m.get('filters');
  const filters = fl === undefined ? {} : readFilters(r, fl.value, fl.key);
  const fieldGroups: Record<'headers' | 'query' | 'cookies', FieldSpec> = {
    headers: { default: ACCESS_LOG_DEFAULTS.headers, config: {} },
    query: { default: ACCESS_LOG_DEFAULTS.query, config: {} },
    cookies: { default: ACCESS_LOG_DEFAULTS.cookies, config: {} },
  };
  const fd = m.get('fields');
  if (fd !== undefined) {
    const fm = r.mapping(fd.value, fd.key, Object.keys(FIELDS), 'a mapping of headers, query and cookies');
    for (const [name, e] of fm ?? []) {
      const group = FIELDS[name]!;
      const x = readField(r, e.value, e.key, group);
      if (x !== undefined) fieldGroups[group] = x;
    }
  }
  if (r.problems.length > 0 || filters === undefined) return { ok: false, problems: r.problems };
  return {
    ok: true,
    spec: deepFreeze({ format, path, stdout, retention, rotateIntervalMs, bufferSize, filters, fields: fieldGroups }),
  };
}
