// Readers for middleware option values. Labels give strings (`proxy.app.middlewares.rate_limit.average: "10"`),
// YAML values and the config file give typed values: each reader accepts both, and says what it wanted.
import { parseTrustedProxies, RealIpError } from '../../pkg/realip/index.ts';
import type { TrustedProxies } from '../../pkg/realip/index.ts';
import type { MiddlewareProblem, MiddlewareSpec } from './middleware.ts';
import { isToken } from '../../pkg/http/index.ts';

export type Read<T> = { ok: true; value: T } | { ok: false; message: string };

/** A list: a YAML list, or a string with items separated by commas/newlines, or YAML `- a` lines / `[a, b]`. */
export function readStringList(v: unknown): Read<string[]> {
  if (Array.isArray(v)) {
    const out: string[] = [];
    for (const item of v) {
      if (typeof item !== 'string' && typeof item !== 'number') return { ok: false, message: `expected a list of strings, got an item ${JSON.stringify(item)}` };
      out.push(String(item).trim());
    }
    return { ok: true, value: out.filter((s) => s !== '') };
  }
  if (typeof v === 'string') {
    let text = v.trim();
    if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
    const items = text.split(/[,\n]/).map((s) => s.trim().replace(/^-\s+/, '').replace(/^(['"])(.*)\1$/, '$2').trim()).filter((s) => s !== '');
    return { ok: true, value: items };
  }
  return { ok: false, message: `expected a list, got ${JSON.stringify(v)}` };
}

export function readInt(v: unknown, min: number, max: number): Read<number> {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) return { ok: false, message: `expected a whole number from ${String(min)} to ${String(max)}, got ${JSON.stringify(v)}` };
  return { ok: true, value: n };
}

/** true/false (also yes/no, on/off, 1/0 as label text). */
export function readBool(v: unknown): Read<boolean> {
  if (typeof v === 'boolean') return { ok: true, value: v };
  const t = typeof v === 'string' || typeof v === 'number' ? String(v).trim().toLowerCase() : '';
  if (['true', 'yes', 'on', '1'].includes(t)) return { ok: true, value: true };
  if (['false', 'no', 'off', '0'].includes(t)) return { ok: true, value: false };
  return { ok: false, message: `expected true or false, got ${JSON.stringify(v)}` };
}

export function readText(v: unknown): Read<string> {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
    const s = String(v);
    if (/[\r\n\0]/.test(s)) return { ok: false, message: 'must not contain CR, LF or NUL' };
    return { ok: true, value: s };
  }
  return { ok: false, message: `expected text, got ${JSON.stringify(v)}` };
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `1s`, `500ms`, `1m30s`, `2h`; a bare number is seconds (GoDoxy's time.Duration needs a unit; we are lenient). */
export function readDuration(v: unknown): Read<number> {
  if (typeof v === 'number' && v > 0) return { ok: true, value: v * 1000 };
  if (typeof v !== 'string') return { ok: false, message: `expected a duration like 1s or 1m, got ${JSON.stringify(v)}` };
  const text = v.trim();
  if (/^\d+(\.\d+)?$/.test(text) && Number(text) > 0) return { ok: true, value: Number(text) * 1000 };
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let ms = 0;
  let pos = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    ms += Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? 0);
    pos = re.lastIndex;
  }
  if (pos !== text.length || text === '' || ms <= 0) return { ok: false, message: `expected a duration like 1s or 1m, got ${JSON.stringify(v)}` };
  return { ok: true, value: ms };
}

/** A CIDR/IP list compiled by pkg/realip (ipaddr.js): never hand-rolled IP math. */
export function readCidrs(v: unknown): Read<TrustedProxies> {
  const list = readStringList(v);
  if (!list.ok) return list;
  try {
    return { ok: true, value: parseTrustedProxies(list.value) };
  } catch (err) {
    if (err instanceof RealIpError) return { ok: false, message: err.message };
    throw err;
  }
}


/** A header name → value mapping (`set_headers: { X-Foo: bar }`); names keep their case. */
export function readHeaderMap(v: unknown): Read<Array<[string, string]>> {
  if (typeof v === 'string') {
    // a dotted label's text (GoDoxy's TestApplyLabel: `set_headers: "X-Header: value1"`): one `Name: value` per line
    const map: Record<string, string> = {};
    for (const line of v.split('\n')) {
      if (line.trim() === '') continue;
      const colon = line.indexOf(':');
      if (colon <= 0) return { ok: false, message: `expected "Name: value" lines or a mapping, got ${JSON.stringify(line)}` };
      map[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
    }
    v = map;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { ok: false, message: `expected a mapping of header name to value, got ${JSON.stringify(v)}` };
  const out: Array<[string, string]> = [];
  for (const [name, raw] of Object.entries(v as Record<string, unknown>)) {
    if (!isToken(name)) return { ok: false, message: `"${name}" is not a valid header name` };
    const value = raw === null || raw === undefined ? '' : readText(raw);
    if (typeof value !== 'string' && !value.ok) return { ok: false, message: `header ${name}: ${value.message}` };
    out.push([name, typeof value === 'string' ? value : value.value]);
  }
  return { ok: true, value: out };
}

export function readHeaderNames(v: unknown): Read<string[]> {
  const list = readStringList(v);
  if (!list.ok) return list;
  for (const n of list.value) if (!isToken(n)) return { ok: false, message: `"${n}" is not a valid header name` };
  return list;
}

/** Collects option problems for one spec: `problems.push(...bad('allow', r))`. */
export class OptionProblems {
  readonly list: MiddlewareProblem[] = [];
  readonly #spec: MiddlewareSpec;
  constructor(spec: MiddlewareSpec) {
    this.#spec = spec;
  }
  /** The value of `r`, or undefined after recording its problem under `<key>.<option>`. */
  take<T>(option: string, r: Read<T>): T | undefined {
    if (r.ok) return r.value;
    this.list.push({ code: 'MIDDLEWARE_BAD_OPTION', key: `${this.#spec.key}.${option}`, message: `${this.#spec.name}.${option}: ${r.message}` });
    return undefined;
  }
  bad(option: string, message: string): void {
    this.list.push({ code: 'MIDDLEWARE_BAD_OPTION', key: `${this.#spec.key}.${option}`, message: `${this.#spec.name}.${option}: ${message}` });
  }
  missing(option: string, what: string): void {
    this.list.push({ code: 'MIDDLEWARE_MISSING_OPTION', key: `${this.#spec.key}.${option}`, message: `${this.#spec.name} needs "${option}": ${what}` });
  }
}
