// The YAML side of reading the config file: walks the yaml AST (not toJS) so every value keeps
// its source range, and turns each entry into a checked value or a ConfigError with key path and
// line. The section readers (read-document.ts, read-routes.ts) say which keys go where.
import { isAlias, isMap, isScalar, isSeq } from 'yaml';
import type { Document, LineCounter, Node } from 'yaml';
import { BALANCE_MODES } from '../../pkg/balance/index.ts';
import type { LoadBalanceSpec } from '../routes/index.ts';
import { parseBalanceMode } from './balance-mode.ts';
import type { CidrValidator } from './cidr.ts';
import { HOME } from './config-keys.ts';
import { ConfigError, type ConfigErrorCode } from './config-error.ts';
import type { WakeShowLogs } from './config-types.ts';
import { WAKE_SHOW_LOGS } from './defaults.ts';
import { DurationError, MAX_TIMER_MS, parseDuration } from './duration.ts';
import { parseHealthyStatus, type StatusRanges } from './healthy-status.ts';
import { parseListenAddress } from './listen-address.ts';
import { closest } from './suggest.ts';
import { parseUpstreamUrl } from './upstream-url.ts';

/** A YAML node as found (alias unresolved), or nothing. */
export type Value = Node | null | undefined;

/** One key of a mapping, with its nodes for error lines. */
export interface Entry {
  key: string;
  keyNode: Node;
  value: Value;
}

/**
 * One parsed file. Each check returns the value, or records a ConfigError (key path, line,
 * file) and returns undefined, so a reader reports every problem, not only the first.
 */
export class EntryReader {
  readonly errors: ConfigError[] = [];
  private readonly doc: Document;
  private readonly lines: LineCounter;
  private readonly file: string;
  /** The IP/CIDR check for trusted_proxies and load_balance.options.from. */
  readonly cidr: CidrValidator;

  constructor(doc: Document, lines: LineCounter, file: string, cidr: CidrValidator) {
    this.doc = doc;
    this.lines = lines;
    this.file = file;
    this.cidr = cidr;
  }

  line(node: Value): number | undefined {
    const offset = node?.range?.[0];
    return offset === undefined ? undefined : this.lines.linePos(offset).line;
  }

  fail(code: ConfigErrorCode, key: string, message: string, node: Value): void {
    this.errors.push(new ConfigError(code, key, message, { line: this.line(node), file: this.file }));
  }

  deref(node: Value): Value {
    // The walk follows the fixed schema depth, so aliases cannot make it blow up exponentially
    // (unknown keys are rejected before their values are visited).
    return isAlias(node) ? (node.resolve(this.doc) ?? null) : node;
  }

  isNull(node: Value): boolean {
    const n = this.deref(node);
    return n === null || n === undefined || (isScalar(n) && n.value === null);
  }

  describe(node: Value): string {
    const n = this.deref(node);
    if (isMap(n)) return 'a mapping';
    if (isSeq(n)) return 'a list';
    if (isScalar(n)) {
      const v = n.value;
      if (v === null) return 'nothing';
      if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
      if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return `${typeof v} ${String(v)}`;
      return 'an unsupported value';
    }
    return 'an unsupported value';
  }

  /** Entries of a mapping; unknown keys reported. Null/absent → empty. Wrong type → undefined. */
  map(node: Value, path: string, keys: readonly string[] | 'any', example: string): Entry[] | undefined {
    const n = this.deref(node);
    if (this.isNull(n)) return [];
    if (!isMap(n)) {
      this.fail('CONFIG_BAD_TYPE', path || '(top level)', `expected a mapping (${example}), got ${this.describe(n)}`, n);
      return undefined;
    }
    const out: Entry[] = [];
    for (const pair of n.items) {
      const keyNode = this.deref(pair.key as Value);
      const keyVal = isScalar(keyNode) ? keyNode.value : undefined;
      if (!isScalar(keyNode) || (typeof keyVal !== 'string' && typeof keyVal !== 'number') || keyNode === null) {
        this.fail('CONFIG_BAD_TYPE', path || '(top level)', `keys must be plain names, got ${this.describe(keyNode)}`, keyNode ?? n);
        continue;
      }
      const key = String(keyVal);
      const full = path === '' ? key : `${path}.${key}`;
      if (keys !== 'any' && !keys.includes(key)) {
        const near = closest(key, keys);
        const home = HOME.get(key);
        const hint = near !== undefined ? `; did you mean ${JSON.stringify(near)}?` : home !== undefined ? `; did you mean ${home}?` : `; known keys here: ${keys.join(', ')}`;
        this.fail('CONFIG_UNKNOWN_KEY', full, `unknown key ${JSON.stringify(key)}${hint}`, keyNode);
        continue;
      }
      out.push({ key, keyNode, value: pair.value as Value });
    }
    return out;
  }

  scalar(e: Entry): unknown {
    const n = this.deref(e.value);
    return isScalar(n) ? n.value : undefined;
  }

  valueNode(e: Entry): Value {
    const n = this.deref(e.value);
    return this.isNull(n) ? e.keyNode : n;
  }

  string(e: Entry, path: string, what = 'a string'): string | undefined {
    const n = this.deref(e.value);
    const v = this.scalar(e);
    if (isScalar(n) && typeof v === 'string') return v;
    this.fail('CONFIG_BAD_TYPE', path, `expected ${what}, got ${this.describe(n)}`, this.valueNode(e));
    return undefined;
  }

  bool(e: Entry, path: string): boolean | undefined {
    const v = this.scalar(e);
    if (typeof v === 'boolean') return v;
    this.fail('CONFIG_BAD_TYPE', path, `expected true or false, got ${this.describe(e.value)}`, this.valueNode(e));
    return undefined;
  }

  positiveInt(e: Entry, path: string): number | undefined {
    const v = this.scalar(e);
    if (typeof v === 'number' && Number.isSafeInteger(v) && v > 0) return v;
    const code = typeof v === 'number' ? 'CONFIG_BAD_NUMBER' : 'CONFIG_BAD_TYPE';
    this.fail(code, path, `expected a positive whole number, got ${this.describe(e.value)}`, this.valueNode(e));
    return undefined;
  }

  /** `timer`: the value feeds setTimeout, which misbehaves above ~24.8 days. `positive`: 0 not allowed. */
  duration(e: Entry, path: string, opts: { timer?: boolean; positive?: boolean } = {}): number | undefined {
    const n = this.deref(e.value);
    const v = this.scalar(e);
    const node = this.valueNode(e);
    if (!isScalar(n) || (typeof v !== 'string' && typeof v !== 'number')) {
      this.fail('CONFIG_BAD_TYPE', path, `expected a duration like "30s", got ${this.describe(n)}`, node);
      return undefined;
    }
    let ms: number;
    try {
      ms = parseDuration(typeof v === 'number' ? (n.source ?? String(v)) : v);
    } catch (err) {
      if (!(err instanceof DurationError)) throw err;
      this.fail('CONFIG_BAD_DURATION', path, err.message, node);
      return undefined;
    }
    if (opts.positive === true && ms === 0) {
      this.fail('CONFIG_BAD_DURATION', path, 'must be more than 0', node);
      return undefined;
    }
    if (opts.timer === true && ms > MAX_TIMER_MS) {
      this.fail('CONFIG_BAD_DURATION', path, `${JSON.stringify(String(v))} is too long; the maximum is 24d20h31m23s647ms`, node);
      return undefined;
    }
    return ms;
  }

  /** A list of strings; a single string is not silently accepted as a one-element list. */
  stringList(e: Entry, path: string, check: (s: string) => string | undefined, code: ConfigErrorCode): string[] | undefined {
    const n = this.deref(e.value);
    if (this.isNull(n)) return [];
    if (!isSeq(n)) {
      this.fail('CONFIG_BAD_TYPE', path, `expected a list, got ${this.describe(n)}${isScalar(n) && typeof n.value === 'string' ? `; write [${n.value}]` : ''}`, this.valueNode(e));
      return undefined;
    }
    const out: string[] = [];
    let ok = true;
    n.items.forEach((raw, i) => {
      const item = this.deref(raw as Value);
      const p = `${path}[${String(i)}]`;
      if (!isScalar(item) || typeof item.value !== 'string') {
        this.fail('CONFIG_BAD_TYPE', p, `expected a string, got ${this.describe(item)}`, item ?? n);
        ok = false;
        return;
      }
      const problem = check(item.value);
      if (problem !== undefined) {
        this.fail(code, p, problem, item);
        ok = false;
        return;
      }
      out.push(item.value);
    });
    return ok ? out : undefined;
  }

  listen(e: Entry, path: string, allowEmpty: boolean): string | undefined {
    const v = this.scalar(e);
    if (typeof v === 'number' && Number.isInteger(v)) {
      this.fail('CONFIG_BAD_LISTEN', path, `expected "host:port" or ":port"; did you mean ":${String(v)}"? (quote it)`, this.valueNode(e));
      return undefined;
    }
    const s = this.string(e, path, 'a listen address like ":80" or "127.0.0.1:8081"');
    if (s === undefined) return undefined;
    if (s === '' && allowEmpty) return s;
    const parsed = parseListenAddress(s);
    if (typeof parsed === 'string') {
      this.fail('CONFIG_BAD_LISTEN', path, parsed, this.valueNode(e));
      return undefined;
    }
    return s;
  }

  mode(e: Entry, path: string): LoadBalanceSpec['mode'] | undefined {
    const s = this.string(e, path, `a mode (${BALANCE_MODES.join(', ')})`);
    if (s === undefined) return undefined;
    const m = parseBalanceMode(s);
    if (m === undefined) {
      const near = closest(s.toLowerCase().replaceAll('_', '').replaceAll('-', ''), BALANCE_MODES);
      this.fail('CONFIG_BAD_MODE', path, `unknown mode ${JSON.stringify(s)}${near === undefined ? '' : `; did you mean ${JSON.stringify(near)}?`} (modes: ${BALANCE_MODES.join(', ')}; round_robin, least_conn, ip_hash also accepted)`, this.valueNode(e));
    }
    return m;
  }

  /** `wake.show_logs`: always | private | never (exactly; `true`/`false` are not guessed at). */
  showLogs(e: Entry, path: string): WakeShowLogs | undefined {
    const choices = WAKE_SHOW_LOGS.join(', ');
    const v = this.scalar(e);
    if (typeof v === 'boolean') {
      this.fail('CONFIG_BAD_SHOW_LOGS', path, `expected one of ${choices}, got ${String(v)}; write ${v ? 'always' : 'never'} (or private: local networks only)`, this.valueNode(e));
      return undefined;
    }
    const s = this.string(e, path, `one of ${choices}`);
    if (s === undefined) return undefined;
    const found = WAKE_SHOW_LOGS.find((c) => c === s.trim().toLowerCase());
    if (found !== undefined) return found;
    const near = closest(s.trim().toLowerCase(), WAKE_SHOW_LOGS);
    this.fail('CONFIG_BAD_SHOW_LOGS', path, `unknown value ${JSON.stringify(s)}${near === undefined ? '' : `; did you mean ${JSON.stringify(near)}?`} (expected one of ${choices})`, this.valueNode(e));
    return undefined;
  }

  /** `healthcheck.status`: `200-399`, `200,204,301-302`, or a bare code (`204`, a YAML number). */
  status(e: Entry, path: string): StatusRanges | undefined {
    const n = this.deref(e.value);
    const v = this.scalar(e);
    const node = this.valueNode(e);
    if (!isScalar(n) || (typeof v !== 'string' && !(typeof v === 'number' && Number.isInteger(v)))) {
      this.fail('CONFIG_BAD_TYPE', path, `expected status codes like "200-399" or "200,204,301-302", got ${this.describe(n)}`, node);
      return undefined;
    }
    const r = parseHealthyStatus(typeof v === 'number' ? String(v) : v);
    if (!r.ok) {
      this.fail('CONFIG_BAD_STATUS', path, r.message, node);
      return undefined;
    }
    return r.ranges;
  }

  /** An upstream origin (`http://host:port`), normalised; CONFIG_BAD_URL otherwise. */
  url(e: Entry, path: string): string | undefined {
    const s = this.string(e, path, 'a URL like "http://127.0.0.1:8080"');
    if (s === undefined) return undefined;
    const r = parseUpstreamUrl(s);
    if (typeof r === 'string') return r;
    this.fail('CONFIG_BAD_URL', path, r.error, this.valueNode(e));
    return undefined;
  }
}
