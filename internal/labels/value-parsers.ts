// Typed readers for label values. A value is a label string, or a scalar/list from a YAML label
// value. Every reader is total: it returns a result, never throws.

import { isIP } from 'node:net';
import { isDomainName, isHostAlias, type BalanceModeName, type StopMethod } from '../routes/index.ts';
import { parseBalanceMode, parseHealthyStatus, type StatusRanges } from '../config/index.ts';
import { parseDuration } from './duration.ts';
import { LabelErrorCode as C } from './label-error-codes.ts';
import { parseYamlList } from './yaml-label.ts';
import { isToken } from '../../pkg/http/index.ts';

export type Parsed<T> = { ok: true; value: T; warning?: { code: string; message: string } } | { ok: false; code: string; message: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = (code: string, message: string): Parsed<never> => ({ ok: false, code, message });

// CR/LF/NUL end up in URLs, cookies and headers where Node's http throws synchronously.
const CONTROL = /[\r\n\0]/;

function show(s: string): string {
  const t = s.length > 60 ? `${s.slice(0, 60)}…` : s;
  return JSON.stringify(t);
}

/** A single scalar as text; lists, mappings and control characters are errors. */
export function readText(v: unknown): Parsed<string> {
  if (typeof v === 'string') {
    if (CONTROL.test(v)) return fail(C.CONTROL_CHAR, `value ${show(v)} contains a line break or NUL character`);
    return ok(v.trim());
  }
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return ok(String(v));
  if (v === null || v === undefined) return ok('');
  return fail(C.BAD_VALUE, `expected a single value, got ${Array.isArray(v) ? 'a list' : 'a mapping'}`);
}

function chain<A, B>(r: Parsed<A>, f: (a: A) => Parsed<B>): Parsed<B> {
  return r.ok ? f(r.value) : r;
}

const DIGITS = /^\d+$/;

function portNumber(s: string, whole: string): Parsed<number> {
  if (!DIGITS.test(s)) return fail(C.BAD_PORT, `port ${show(whole)} is not a number`);
  const n = Number(s);
  if (n < 1 || n > 65535) return fail(C.BAD_PORT, `port ${show(whole)} is out of range 1-65535`);
  return ok(n);
}

/** A `port` label: the target port, and GoDoxy's listening port when written `listen:target`. */
export interface PortValue {
  target: number;
  /** `2222` in `2222:22`; undefined for `22` and `:22` (docs/streams.md). */
  listen?: number | undefined;
}

/** `8080`, `:8080`, or GoDoxy's `listen:target` (`2222:22`, a stream's listening port; `0:22` is any free port). */
export function readPort(v: unknown): Parsed<PortValue> {
  return chain(readText(v), (s) => {
    if (s === '') return fail(C.BAD_PORT, 'port is empty');
    const parts = s.split(':');
    if (parts.length === 1) return chain(portNumber(s, s), (target) => ok({ target }));
    if (parts.length !== 2) return fail(C.BAD_PORT, `port ${show(s)} is not a number (expected e.g. 8080, or listen:target like 2222:22)`);
    const [listen = '', target = ''] = parts;
    const t = portNumber(target, s);
    if (!t.ok) return t;
    if (listen === '') return ok({ target: t.value });
    if (listen === '0') return ok({ target: t.value, listen: 0 });
    const l = portNumber(listen, s);
    if (!l.ok) return l;
    return ok({ target: t.value, listen: l.value });
  });
}

/** Upstream schemes: HTTP ones, and GoDoxy's stream schemes (docs/streams.md). */
export type SchemeName = 'http' | 'https' | 'h2c' | 'tcp' | 'udp';
const SCHEMES: readonly SchemeName[] = ['http', 'https', 'h2c', 'tcp', 'udp'];

export function readScheme(v: unknown): Parsed<SchemeName> {
  return chain(readText(v), (s) => {
    const l = s.toLowerCase();
    const hit = SCHEMES.find((x) => x === l);
    if (hit !== undefined) return ok(hit);
    return fail(C.BAD_SCHEME, `scheme ${show(s)} is not supported; use http, https, h2c, tcp or udp`);
  });
}

/** A stream's listening address (`proxy.<alias>.bind`): an IPv4 or IPv6 address. */
export function readBind(v: unknown): Parsed<string> {
  return chain(readText(v), (s) => {
    const bare = s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s;
    if (isIP(bare) !== 0 && !bare.includes('%')) return ok(bare.toLowerCase());
    return fail(C.BAD_HOST, `bind ${show(s)} is not an IP address (e.g. 0.0.0.0 or 127.0.0.1)`);
  });
}

/** An upstream host: DNS name, IPv4, or IPv6 (bare or in brackets). Stored URL-ready. */
export function readHost(v: unknown): Parsed<string> {
  return chain(readText(v), (s) => {
    if (s === '') return fail(C.BAD_HOST, 'host is empty');
    const bare = s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s;
    if (isIP(bare) === 6) return ok(`[${bare.toLowerCase()}]`);
    if (isIP(bare) === 4) return ok(bare);
    if (isDomainName(s.toLowerCase())) return ok(s.toLowerCase());
    return fail(C.BAD_HOST, `host ${show(s)} is not a host name or IP address (no scheme, port or path)`);
  });
}

const TRUE = new Set(['true', '1', 't', 'yes', 'y', 'on']);
const FALSE = new Set(['false', '0', 'f', 'no', 'n', 'off']);

export function readBool(v: unknown): Parsed<boolean> {
  if (typeof v === 'boolean') return ok(v);
  return chain(readText(v), (s) => {
    const l = s.toLowerCase();
    if (TRUE.has(l)) return ok(true);
    if (FALSE.has(l)) return ok(false);
    return fail(C.BAD_BOOL, `${show(s)} is not a boolean; use true or false`);
  });
}

/** `roundrobin`, `round_robin`, `LEAST_CONN`, … → canonical (internal/config's rule); else an error. */
export function readMode(v: unknown): Parsed<BalanceModeName> {
  return chain(readText(v), (s) => {
    const m = parseBalanceMode(s);
    if (m !== undefined) return ok(m);
    return fail(C.BAD_MODE, `unknown load_balance.mode ${show(s)}; use roundrobin, leastconn or iphash`);
  });
}

/** `load_balance.weight`: 1–1000000; `0` (GoDoxy's "unset") means no weight, a share of what is left. */
export function readWeight(v: unknown): Parsed<number | undefined> {
  const r = readInteger(v, 'load_balance.weight', 0, 1_000_000, C.BAD_WEIGHT);
  return r.ok && r.value === 0 ? ok(undefined) : r;
}

/**
 * GoDoxy's `healthcheck.retries`: failures in a row before the member counts as down. `-1` (or
 * any negative) means at once, i.e. 1; `0` means the default.
 */
export function readRetries(v: unknown): Parsed<number | undefined> {
  return chain(readText(v), (s) => {
    if (/^-\d+$/.test(s)) return ok(1);
    const r = readInteger(s, 'healthcheck.retries', 0, 100);
    return r.ok && r.value === 0 ? ok(undefined) : r;
  });
}

export function readInteger(v: unknown, what: string, min: number, max: number, code: string = C.BAD_NUMBER): Parsed<number> {
  return chain(readText(v), (s) => {
    if (!DIGITS.test(s) || Number(s) < min || Number(s) > max) return fail(code, `${what} ${show(s)} must be a whole number from ${String(min)} to ${String(max)}`);
    return ok(Number(s));
  });
}

export function readDuration(v: unknown, what: string, allowZero: boolean): Parsed<number> {
  return chain(readText(v), (s) => {
    const d = parseDuration(s);
    if (!d.ok) return fail(C.BAD_DURATION, `${what}: ${d.message}`);
    if (d.ms === 0 && !allowZero) return fail(C.BAD_DURATION, `${what} must be more than 0`);
    return ok(d.ms);
  });
}

/** A request path: `/health`. No `//` start (would read as an authority), no spaces, no `#`. */
export function readPath(v: unknown, what: string): Parsed<string> {
  return chain(readText(v), (s) => {
    if (!s.startsWith('/') || s.startsWith('//') || /[\s#\\]/.test(s) || /(^|\/)\.\.?(\/|$)/.test(s)) {
      return fail(C.BAD_PATH, `${what} ${show(s)} must be an absolute path like /health (no spaces, #, \\ or ..)`);
    }
    return ok(s);
  });
}

/** `200-399`, `200, 204, 301-302` → sorted inclusive ranges (internal/config's grammar). */
export function readStatus(v: unknown): Parsed<StatusRanges> {
  return chain(readText(v), (s) => {
    const r = parseHealthyStatus(s);
    return r.ok ? ok(r.ranges) : fail(C.BAD_STATUS, `healthcheck.status: ${r.message}`);
  });
}


export function readHeaderName(v: unknown): Parsed<string> {
  return chain(readText(v), (s) => (isToken(s) ? ok(s) : fail(C.BAD_HEADER, `${show(s)} is not a valid header name`)));
}

/**
 * A list from a YAML list (inside a YAML value), `[a, b]`, a YAML block list (`- a` lines, as
 * GoDoxy reads a multi-line value starting with `-`), or a comma/space separated string.
 */
export function readList(v: unknown): Parsed<string[]> {
  let items: unknown[];
  if (Array.isArray(v)) items = v as unknown[];
  else if (typeof v === 'string' && /^\s*-\s/.test(v) && /\n/.test(v.trim()) && !v.includes('\0')) {
    const r = parseYamlList(v);
    if (!r.ok) return fail(C.BAD_YAML, r.message);
    items = r.items;
  } else if (typeof v === 'string' && v.trimStart().startsWith('[')) {
    // One-line flow lists only: a line break in a label value is always an error.
    if (CONTROL.test(v)) return fail(C.CONTROL_CHAR, `value ${show(v)} contains a line break or NUL character`);
    const r = parseYamlList(v);
    if (!r.ok) return fail(C.BAD_YAML, r.message);
    items = r.items;
  } else {
    const t = readText(v);
    if (!t.ok) return t;
    items = t.value.split(/[\s,]+/);
  }
  const out: string[] = [];
  for (const item of items) {
    const t = readText(item);
    if (!t.ok) return t;
    if (t.value !== '') out.push(t.value);
  }
  return ok(out);
}

function validCidr(s: string): boolean {
  const slash = s.indexOf('/');
  const ip = slash === -1 ? s : s.slice(0, slash);
  // no IPv6 zone identifiers (fe80::1%eth0), which isIP accepts and pkg/realip refuses
  const family = ip.includes('%') ? 0 : isIP(ip);
  if (family === 0) return false;
  if (slash === -1) return true;
  const bits = s.slice(slash + 1);
  return DIGITS.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

export function readCidrList(v: unknown): Parsed<string[]> {
  return chain(readList(v), (list) => {
    const bad = list.find((s) => !validCidr(s));
    if (bad !== undefined) return fail(C.BAD_CIDR, `${show(bad)} is not an IP address or CIDR`);
    return ok(list);
  });
}

/** An alias: a host label, a full host name, or `*.domain` (one wildcard label, leftmost). */
export function checkAlias(raw: string): Parsed<string> {
  const s = raw.trim().toLowerCase().replace(/\.$/, '');
  if (CONTROL.test(raw)) return fail(C.CONTROL_CHAR, `alias ${show(raw)} contains a line break or NUL character`);
  if (!isHostAlias(s)) {
    return fail(C.BAD_ALIAS, `alias ${show(raw)} is not a host name, a host label or a *.domain wildcard`);
  }
  return ok(s);
}

export function readLink(v: unknown): Parsed<string> {
  return chain(readText(v), (s) => {
    const a = checkAlias(s);
    return a.ok ? a : fail(C.BAD_LINK, `load_balance.link ${show(s)} is not a valid pool name (a host label or host name)`);
  });
}

const STOP_METHODS: readonly StopMethod[] = ['stop', 'pause', 'kill'];

export function readStopMethod(v: unknown): Parsed<StopMethod> {
  return chain(readText(v), (s) => {
    const m = STOP_METHODS.find((x) => x === s.toLowerCase());
    return m !== undefined ? ok(m) : fail(C.BAD_STOP_METHOD, `stop_method ${show(s)} is not one of stop, pause, kill`);
  });
}

const SIGNALS = new Set([
  'HUP', 'INT', 'QUIT', 'ILL', 'TRAP', 'ABRT', 'BUS', 'FPE', 'KILL', 'USR1', 'SEGV', 'USR2', 'PIPE', 'ALRM', 'TERM',
  'STKFLT', 'CHLD', 'CONT', 'STOP', 'TSTP', 'TTIN', 'TTOU', 'URG', 'XCPU', 'XFSZ', 'VTALRM', 'PROF', 'WINCH', 'IO', 'PWR', 'SYS',
]);

/** `SIGTERM`, `term`, `15` → `SIGTERM` / `15`. */
export function readSignal(v: unknown): Parsed<string> {
  return chain(readText(v), (s) => {
    if (DIGITS.test(s) && Number(s) >= 1 && Number(s) <= 64) return ok(String(Number(s)));
    const u = s.toUpperCase().replace(/^SIG/, '');
    if (SIGNALS.has(u) || /^RTMIN(\+\d{1,2})?$|^RTMAX(-\d{1,2})?$/.test(u)) return ok(`SIG${u}`);
    return fail(C.BAD_SIGNAL, `stop_signal ${show(s)} is not a signal name like SIGTERM`);
  });
}
