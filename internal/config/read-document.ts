// YAML text → draft config + every problem found, each with its key path and line. Walks the
// yaml AST (not toJS) so every value keeps its source range for error lines.
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Node } from 'yaml';
import { BALANCE_MODES } from '../../pkg/balance/index.ts';
import { parseBalanceMode } from './balance-mode.ts';
import type { CidrValidator } from './cidr.ts';
import { ConfigError, type ConfigErrorCode } from './config-error.ts';
import type { HealthcheckDefaults, LoadBalanceDefaults, LogLevel, WakeShowLogs } from './config-types.ts';
import { DEFAULTS, LOG_LEVELS, WAKE_SHOW_LOGS } from './defaults.ts';
import { DurationError, MAX_TIMER_MS, parseDuration } from './duration.ts';
import { parseHealthyStatus, type StatusRanges } from './healthy-status.ts';
import { parseListenAddress } from './listen-address.ts';
import { classifyMiddleware, describeAccessMiddleware } from './middleware-names.ts';
import { closest } from './suggest.ts';
import { parseUpstreamUrl } from './upstream-url.ts';
import { isDomainName, isHostAlias, type HealthcheckSpec, type LoadBalanceSpec, type MemberSpec, type RealIpOptionsSpec, type RouteSpec } from '../routes/index.ts';

/** Mutable config under construction: defaults, then the file, then env overrides. */
export interface Draft {
  http: string;
  trustedProxies: string[];
  timeouts: { headerMs: number; idleMs: number; upstreamConnectMs: number; upstreamResponseMs: number; drainMs: number };
  apiListen: string;
  dockerHosts: string[];
  exposeAll: boolean;
  labelFilter: string[];
  matchDomains: string[];
  healthcheck: { -readonly [K in keyof HealthcheckDefaults]: HealthcheckDefaults[K] };
  loadBalance: { -readonly [K in keyof LoadBalanceDefaults]: LoadBalanceDefaults[K] };
  secretFile: string;
  wakeShowLogs: WakeShowLogs;
  logLevel: LogLevel;
  routes: RouteSpec[];
}

export function defaultDraft(): Draft {
  return {
    http: DEFAULTS.entrypoint.http,
    trustedProxies: [...DEFAULTS.entrypoint.trustedProxies],
    timeouts: { ...DEFAULTS.entrypoint.timeouts },
    apiListen: DEFAULTS.api.listen,
    dockerHosts: [...DEFAULTS.docker.hosts],
    exposeAll: DEFAULTS.docker.exposeAll,
    labelFilter: [...DEFAULTS.docker.labelFilter],
    matchDomains: [...DEFAULTS.matchDomains],
    healthcheck: { ...DEFAULTS.healthcheck },
    loadBalance: { ...DEFAULTS.loadBalance },
    secretFile: DEFAULTS.sticky.secretFile,
    wakeShowLogs: DEFAULTS.wake.showLogs,
    logLevel: DEFAULTS.logLevel,
    routes: [],
  };
}

// `key` or `key=value`: a Docker label name has no whitespace, '=' or control characters.
function checkLabelFilter(s: string): string | undefined {
  return /^[^\s=]+(=[^\r\n]*)?$/.test(s) ? undefined : `${JSON.stringify(s)} is not a label filter (want "key" or "key=value")`;
}

// Every accepted key, by section. Unknown keys are errors with a suggestion from this table.
const KEYS = {
  top: ['entrypoint', 'api', 'docker', 'match_domains', 'defaults', 'sticky', 'wake', 'routes', 'log_level'],
  entrypoint: ['http', 'trusted_proxies', 'timeouts', 'middlewares'],
  timeouts: ['header', 'idle', 'upstream_connect', 'upstream_response', 'drain'],
  api: ['listen'],
  docker: ['hosts', 'expose_all', 'label_filter'],
  defaults: ['healthcheck', 'load_balance'],
  defaultHealthcheck: ['interval', 'timeout', 'rise', 'fall', 'status'],
  defaultLoadBalance: ['mode', 'sticky', 'sticky_max_age'],
  sticky: ['secret_file'],
  wake: ['show_logs'],
  route: ['url', 'members', 'aliases', 'load_balance', 'healthcheck', 'no_tls_verify', 'middlewares', 'rules'],
  member: ['name', 'url', 'weight', 'no_tls_verify'],
  routeLoadBalance: ['mode', 'sticky', 'sticky_max_age', 'weight', 'options'],
  options: ['header', 'from', 'recursive'],
  routeHealthcheck: ['path', 'interval', 'timeout', 'rise', 'fall', 'use_get', 'disable', 'status'],
} as const;

// Where a key lives when it is written in the wrong section ("did you mean entrypoint.trusted_proxies?").
const HOME: ReadonlyMap<string, string> = new Map<string, string>([
  ...KEYS.entrypoint.map((k) => [k, `entrypoint.${k}`] as const),
  ...KEYS.timeouts.map((k) => [k, `entrypoint.timeouts.${k}`] as const),
  ['listen', 'api.listen'],
  ...KEYS.docker.map((k) => [k, `docker.${k}`] as const),
  ['secret_file', 'sticky.secret_file'],
  ['show_logs', 'wake.show_logs'],
  ['healthcheck', 'defaults.healthcheck'],
  ['load_balance', 'defaults.load_balance'],
  ['mode', 'load_balance.mode'],
  ['sticky_max_age', 'load_balance.sticky_max_age'],
  ['path', 'healthcheck.path'],
  ['interval', 'healthcheck.interval'],
  ['rise', 'healthcheck.rise'],
  ['fall', 'healthcheck.fall'],
  ['status', 'healthcheck.status'],
  ['weight', 'members[].weight'],
]);

type Value = Node | null | undefined;
interface Entry {
  key: string;
  keyNode: Node;
  value: Value;
}

const DOCKER_HOST = /^(unix|npipe|tcp|ssh|http|https):\/\/./;

class Reader {
  readonly errors: ConfigError[] = [];
  private readonly doc: Document;
  private readonly lines: LineCounter;
  private readonly file: string;
  private readonly cidr: CidrValidator;

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

  // ---- sections ----

  read(root: Value, draft: Draft): void {
    const top = this.map(root, '', KEYS.top, 'e.g. "entrypoint:" and "routes:"');
    if (top === undefined) return;
    const by = new Map(top.map((e) => [e.key, e]));
    const get = (k: string): Entry | undefined => by.get(k);
    const ep = get('entrypoint');
    if (ep) this.entrypoint(ep, draft);
    const api = get('api');
    if (api) {
      for (const e of this.map(api.value, 'api', KEYS.api, 'listen: "127.0.0.1:8081"') ?? []) {
        const v = this.listen(e, 'api.listen', true);
        if (v !== undefined) draft.apiListen = v;
      }
    }
    const docker = get('docker');
    if (docker) this.docker(docker, draft);
    const md = get('match_domains');
    if (md) {
      const list = this.stringList(md, 'match_domains', (s) => (isDomainName(normaliseDomain(s)) ? undefined : `${JSON.stringify(s)} is not a domain name (e.g. "home.example.com")`), 'CONFIG_BAD_DOMAIN');
      if (list) draft.matchDomains = [...new Set(list.map(normaliseDomain))];
    }
    const defaults = get('defaults');
    if (defaults) this.defaults(defaults, draft);
    const sticky = get('sticky');
    if (sticky) {
      for (const e of this.map(sticky.value, 'sticky', KEYS.sticky, 'secret_file: ./data/sticky.key') ?? []) {
        const v = this.string(e, 'sticky.secret_file', 'a file path');
        if (v === '') this.fail('CONFIG_BAD_PATH', 'sticky.secret_file', 'must not be empty', this.valueNode(e));
        else if (v !== undefined) draft.secretFile = v;
      }
    }
    const wake = get('wake');
    if (wake) {
      for (const e of this.map(wake.value, 'wake', KEYS.wake, 'show_logs: private') ?? []) {
        const v = this.showLogs(e, 'wake.show_logs');
        if (v !== undefined) draft.wakeShowLogs = v;
      }
    }
    const level = get('log_level');
    if (level) {
      const v = this.string(level, 'log_level', `a level (${LOG_LEVELS.join(', ')})`);
      if (v !== undefined) {
        const l = checkLogLevel(v);
        if (typeof l === 'string') draft.logLevel = l;
        else this.fail('CONFIG_BAD_LOG_LEVEL', 'log_level', l.problem, this.valueNode(level));
      }
    }
    const routes = get('routes');
    if (routes) this.routes(routes, draft);
  }

  private entrypoint(ep: Entry, draft: Draft): void {
    for (const e of this.map(ep.value, 'entrypoint', KEYS.entrypoint, 'http: ":80"') ?? []) {
      if (e.key === 'http') {
        const v = this.listen(e, 'entrypoint.http', false);
        if (v !== undefined) draft.http = v;
      } else if (e.key === 'trusted_proxies') {
        const v = this.stringList(e, 'entrypoint.trusted_proxies', this.cidr, 'CONFIG_BAD_CIDR');
        if (v) draft.trustedProxies = v;
      } else if (e.key === 'middlewares') {
        this.entrypointMiddlewares(e);
      } else {
        for (const t of this.map(e.value, 'entrypoint.timeouts', KEYS.timeouts, 'header: 10s') ?? []) {
          const ms = this.duration(t, `entrypoint.timeouts.${t.key}`, { timer: true });
          if (ms === undefined) continue;
          const field = ({ header: 'headerMs', idle: 'idleMs', upstream_connect: 'upstreamConnectMs', upstream_response: 'upstreamResponseMs', drain: 'drainMs' } as const)[t.key as (typeof KEYS.timeouts)[number]];
          draft.timeouts[field] = ms;
        }
      }
    }
  }

  // ---- GoDoxy middlewares and rules: not supported yet, and never silently ignored ----
  // An access middleware that is dropped would serve everything it guarded to anyone, so each
  // one is an error naming it: the file does not load (at a hot reload the running config stays).

  private middlewareProblem(written: string | undefined, scope: string): string {
    if (written === undefined || written.trim() === '') return `a middleware needs a name ("use: <name>"); Bellhop does not support middlewares yet: remove it`;
    const m = classifyMiddleware(written);
    if (!m.restrictsAccess) return `middleware "${m.name}" is not supported by Bellhop yet; remove it`;
    return `${describeAccessMiddleware(m)}, and Bellhop cannot apply middlewares yet: this config is refused rather than serving ${scope} without it. ` +
      'Remove it only if the service may be reached by anyone (or keep the protection in front of Bellhop)';
  }

  /** `entrypoint.middlewares: [{ use: <name>, …options }]`: every entry is an error. */
  private entrypointMiddlewares(e: Entry): void {
    const n = this.deref(e.value);
    if (this.isNull(n)) return;
    if (!isSeq(n)) {
      this.fail('CONFIG_UNSUPPORTED', 'entrypoint.middlewares', `Bellhop does not support middlewares yet (expected GoDoxy's list [{ use: <name>, … }], got ${this.describe(n)}): remove it`, this.valueNode(e));
      return;
    }
    n.items.forEach((raw, i) => {
      const item = this.deref(raw as Value);
      let use: string | undefined;
      if (isMap(item)) {
        for (const pair of item.items) {
          const k = this.deref(pair.key as Value);
          const v = this.deref(pair.value as Value);
          if (isScalar(k) && String(k.value).toLowerCase() === 'use' && isScalar(v) && typeof v.value === 'string') use = v.value;
        }
      }
      this.fail('CONFIG_UNSUPPORTED', `entrypoint.middlewares[${String(i)}]`, this.middlewareProblem(use, 'every route'), item ?? n);
    });
  }

  /** `routes.<name>.middlewares: { <name>: { options } }`; false when anything is there. */
  private routeMiddlewares(e: Entry, base: string): boolean {
    const entries = this.map(e.value, `${base}.middlewares`, 'any', 'cidr_whitelist: { allow: [10.0.0.0/8] }');
    if (entries === undefined) return false;
    for (const m of entries) this.fail('CONFIG_UNSUPPORTED', `${base}.middlewares.${m.key}`, this.middlewareProblem(m.key, 'this route'), m.keyNode);
    return entries.length === 0;
  }

  /** `routes.<name>.rules` (GoDoxy): can refuse or authenticate requests, so an error unless empty. */
  private routeRules(e: Entry, base: string): boolean {
    const n = this.deref(e.value);
    if (this.isNull(n) || (isSeq(n) && n.items.length === 0)) return true;
    this.fail('CONFIG_UNSUPPORTED', `${base}.rules`, '"rules" can refuse, redirect or authenticate requests, and Bellhop cannot apply them yet: this config is refused rather than serving this route without them', e.keyNode);
    return false;
  }

  private docker(d: Entry, draft: Draft): void {
    for (const e of this.map(d.value, 'docker', KEYS.docker, 'hosts: ["unix:///var/run/docker.sock"]') ?? []) {
      if (e.key === 'hosts') {
        const v = this.stringList(e, 'docker.hosts', checkDockerHost, 'CONFIG_BAD_DOCKER_HOST');
        if (v) draft.dockerHosts = [...new Set(v)];
      } else if (e.key === 'label_filter') {
        const v = this.stringList(e, 'docker.label_filter', checkLabelFilter, 'CONFIG_BAD_LABEL_FILTER');
        if (v) draft.labelFilter = v;
      } else {
        const v = this.bool(e, 'docker.expose_all');
        if (v !== undefined) draft.exposeAll = v;
      }
    }
  }

  private defaults(d: Entry, draft: Draft): void {
    for (const e of this.map(d.value, 'defaults', KEYS.defaults, 'healthcheck: { interval: 5s }') ?? []) {
      if (e.key === 'healthcheck') {
        for (const h of this.map(e.value, 'defaults.healthcheck', KEYS.defaultHealthcheck, '{ interval: 5s, timeout: 5s, rise: 2, fall: 3 }') ?? []) {
          const p = `defaults.healthcheck.${h.key}`;
          if (h.key === 'interval' || h.key === 'timeout') {
            const ms = this.duration(h, p, { timer: true, positive: true });
            if (ms !== undefined) draft.healthcheck[h.key === 'interval' ? 'intervalMs' : 'timeoutMs'] = ms;
          } else if (h.key === 'status') {
            const st = this.status(h, p);
            if (st !== undefined) draft.healthcheck.status = st;
          } else {
            const n = this.positiveInt(h, p);
            if (n !== undefined) draft.healthcheck[h.key as 'rise' | 'fall'] = n;
          }
        }
      } else {
        for (const l of this.map(e.value, 'defaults.load_balance', KEYS.defaultLoadBalance, '{ mode: roundrobin, sticky_max_age: 1h }') ?? []) {
          const p = `defaults.load_balance.${l.key}`;
          if (l.key === 'mode') {
            const m = this.mode(l, p);
            if (m !== undefined) draft.loadBalance.mode = m;
          } else if (l.key === 'sticky') {
            const b = this.bool(l, p);
            if (b !== undefined) draft.loadBalance.sticky = b;
          } else {
            const ms = this.duration(l, p);
            if (ms !== undefined) draft.loadBalance.stickyMaxAgeMs = ms;
          }
        }
      }
    }
  }

  private routes(r: Entry, draft: Draft): void {
    const entries = this.map(r.value, 'routes', 'any', 'nas: { url: "http://127.0.0.1:5000" }');
    if (entries === undefined) return;
    const owner = new Map<string, string>();
    for (const e of entries) {
      const route = this.route(e, draft);
      if (route === undefined) continue;
      const aliases: string[] = [];
      for (const [alias, node] of route.aliases) {
        const prev = owner.get(alias);
        if (prev !== undefined) {
          this.fail('CONFIG_DUPLICATE', `routes.${e.key}`, `alias ${JSON.stringify(alias)} is already used by route ${JSON.stringify(prev)}`, node);
          continue;
        }
        owner.set(alias, e.key);
        aliases.push(alias);
      }
      draft.routes.push({ ...route.spec, aliases });
    }
  }

  private route(e: Entry, draft: Draft): { spec: RouteSpec; aliases: [string, Value][] } | undefined {
    const name = e.key;
    const base = `routes.${name}`;
    let ok = true;
    const aliases: [string, Value][] = [];
    const addAlias = (text: string, node: Value, path: string): void => {
      const a = normaliseDomain(text);
      if (!isHostAlias(a)) {
        this.fail('CONFIG_BAD_ALIAS', path, `${JSON.stringify(text)} is not a valid alias: use a host name label (e.g. "nas"), a full host name or "*.example.com"`, node);
        ok = false;
      } else if (!aliases.some(([x]) => x === a)) aliases.push([a, node]);
    };
    addAlias(name, e.keyNode, base);

    const entries = this.map(e.value, base, KEYS.route, 'url: "http://127.0.0.1:5000" or members: [...]');
    if (entries === undefined) return undefined;
    if (entries.length === 0) {
      this.fail('CONFIG_BAD_ROUTE', base, 'a route needs "url:" or "members:"', e.keyNode);
      return undefined;
    }
    const by = new Map(entries.map((x) => [x.key, x]));
    const mw = by.get('middlewares');
    if (mw && !this.routeMiddlewares(mw, base)) ok = false;
    const rules = by.get('rules');
    if (rules && !this.routeRules(rules, base)) ok = false;
    let routeNoTls = false;
    const nt = by.get('no_tls_verify');
    if (nt) {
      const b = this.bool(nt, `${base}.no_tls_verify`);
      if (b === undefined) ok = false;
      else routeNoTls = b;
    }
    const al = by.get('aliases');
    if (al) {
      const n = this.deref(al.value);
      if (isSeq(n)) {
        n.items.forEach((raw, i) => {
          const item = this.deref(raw as Value);
          const p = `${base}.aliases[${String(i)}]`;
          if (isScalar(item) && typeof item.value === 'string') addAlias(item.value, item, p);
          else {
            this.fail('CONFIG_BAD_TYPE', p, `expected a string, got ${this.describe(item)}`, item ?? n);
            ok = false;
          }
        });
      } else if (!this.isNull(n)) {
        this.fail('CONFIG_BAD_TYPE', `${base}.aliases`, `expected a list, got ${this.describe(n)}`, this.valueNode(al));
        ok = false;
      }
    }

    // load_balance
    const lb: LoadBalanceSpec = { mode: draft.loadBalance.mode, sticky: draft.loadBalance.sticky, stickyMaxAgeMs: draft.loadBalance.stickyMaxAgeMs };
    let singleWeight: number | undefined;
    let weightEntry: Entry | undefined;
    const lbe = by.get('load_balance');
    if (lbe) {
      const lbEntries = this.map(lbe.value, `${base}.load_balance`, KEYS.routeLoadBalance, '{ mode: roundrobin, sticky: true }');
      if (lbEntries === undefined) ok = false;
      for (const l of lbEntries ?? []) {
        const p = `${base}.load_balance.${l.key}`;
        if (l.key === 'mode') {
          const m = this.mode(l, p);
          if (m === undefined) ok = false;
          else lb.mode = m;
        } else if (l.key === 'sticky') {
          const b = this.bool(l, p);
          if (b === undefined) ok = false;
          else lb.sticky = b;
        } else if (l.key === 'sticky_max_age') {
          const ms = this.duration(l, p);
          if (ms === undefined) ok = false;
          else lb.stickyMaxAgeMs = ms;
        } else if (l.key === 'weight') {
          weightEntry = l;
          singleWeight = this.positiveInt(l, p);
          if (singleWeight === undefined) ok = false;
        } else {
          const o = this.options(l, p);
          if (o === undefined) ok = false;
          else lb.options = o;
        }
      }
    }

    // healthcheck
    const hc: HealthcheckSpec = { path: undefined, useGet: false, intervalMs: draft.healthcheck.intervalMs, timeoutMs: draft.healthcheck.timeoutMs, rise: draft.healthcheck.rise, fall: draft.healthcheck.fall, disable: false };
    if (draft.healthcheck.status !== undefined) hc.status = draft.healthcheck.status;
    const hce = by.get('healthcheck');
    if (hce) {
      const hcEntries = this.map(hce.value, `${base}.healthcheck`, KEYS.routeHealthcheck, '{ path: /health, interval: 5s }');
      if (hcEntries === undefined) ok = false;
      for (const h of hcEntries ?? []) {
        const p = `${base}.healthcheck.${h.key}`;
        if (h.key === 'path') {
          const s = this.string(h, p, 'a path like "/health"');
          if (s === undefined) ok = false;
          else if (!s.startsWith('/') || s.startsWith('//') || /[\s#]/.test(s) || hasControl(s)) {
            this.fail('CONFIG_BAD_PATH', p, `${JSON.stringify(s)} must start with "/" and contain no spaces, control characters or "#" (e.g. "/health")`, this.valueNode(h));
            ok = false;
          } else hc.path = s;
        } else if (h.key === 'interval' || h.key === 'timeout') {
          const ms = this.duration(h, p, { timer: true, positive: true });
          if (ms === undefined) ok = false;
          else hc[h.key === 'interval' ? 'intervalMs' : 'timeoutMs'] = ms;
        } else if (h.key === 'rise' || h.key === 'fall') {
          const n = this.positiveInt(h, p);
          if (n === undefined) ok = false;
          else hc[h.key] = n;
        } else if (h.key === 'status') {
          const st = this.status(h, p);
          if (st === undefined) ok = false;
          else hc.status = st;
        } else {
          const b = this.bool(h, p);
          if (b === undefined) ok = false;
          else if (h.key === 'use_get') hc.useGet = b;
          else hc.disable = b;
        }
      }
    }

    // members
    const members: MemberSpec[] = [];
    const member = (memberName: string, url: string, weight: number | undefined, noTls: boolean): MemberSpec => {
      const id = `file:${name}/${memberName}`;
      return { id, identity: id, name: memberName, url, weight, noTlsVerify: noTls, healthcheck: { ...hc } };
    };
    const urlEntry = by.get('url');
    const membersEntry = by.get('members');
    if (urlEntry && membersEntry) {
      this.fail('CONFIG_BAD_ROUTE', base, 'give either "url:" or "members:", not both', membersEntry.keyNode);
      return undefined;
    }
    if (!urlEntry && !membersEntry) {
      this.fail('CONFIG_BAD_ROUTE', base, 'a route needs "url:" or "members:"', e.keyNode);
      return undefined;
    }
    if (urlEntry) {
      const url = this.url(urlEntry, `${base}.url`);
      if (url === undefined) ok = false;
      else members.push(member(name, url, singleWeight, routeNoTls));
    } else if (membersEntry) {
      if (weightEntry) {
        this.fail('CONFIG_BAD_ROUTE', `${base}.load_balance.weight`, 'with "members:", set weight on each member instead', weightEntry.keyNode);
        ok = false;
      }
      const n = this.deref(membersEntry.value);
      if (!isSeq(n) || n.items.length === 0) {
        this.fail(isSeq(n) ? 'CONFIG_BAD_ROUTE' : 'CONFIG_BAD_TYPE', `${base}.members`, isSeq(n) ? 'needs at least one member' : `expected a list of { name, url, weight }, got ${this.describe(n)}`, this.valueNode(membersEntry));
        return undefined;
      }
      const names = new Set<string>();
      n.items.forEach((raw, i) => {
        const p = `${base}.members[${String(i)}]`;
        const item = this.deref(raw as Value);
        const fields = this.map(item, p, KEYS.member, '{ name: web-1, url: "http://127.0.0.1:9001", weight: 30 }');
        if (fields === undefined) {
          ok = false;
          return;
        }
        const f = new Map(fields.map((x) => [x.key, x]));
        let memberName = `${name}-${String(i + 1)}`;
        const ne = f.get('name');
        if (ne) {
          const s = this.string(ne, `${p}.name`);
          if (s === undefined) ok = false;
          else if (s === '' || /[/\s]/.test(s) || hasControl(s)) {
            this.fail('CONFIG_BAD_ROUTE', `${p}.name`, `${JSON.stringify(s)}: member names must be non-empty, without "/", spaces or control characters`, this.valueNode(ne));
            ok = false;
          } else memberName = s;
        }
        if (names.has(memberName)) {
          this.fail('CONFIG_DUPLICATE', `${p}.name`, `member name ${JSON.stringify(memberName)} is used twice in route ${JSON.stringify(name)}`, ne ? this.valueNode(ne) : item);
          ok = false;
        }
        names.add(memberName);
        const ue = f.get('url');
        let url: string | undefined;
        if (ue) url = this.url(ue, `${p}.url`);
        else this.fail('CONFIG_BAD_ROUTE', `${p}.url`, 'each member needs a url', item);
        let weight: number | undefined;
        const we = f.get('weight');
        if (we) {
          weight = this.positiveInt(we, `${p}.weight`);
          if (weight === undefined) ok = false;
        }
        let noTls = routeNoTls;
        const te = f.get('no_tls_verify');
        if (te) {
          const b = this.bool(te, `${p}.no_tls_verify`);
          if (b === undefined) ok = false;
          else noTls = b;
        }
        if (url === undefined) ok = false;
        else members.push(member(memberName, url, weight, noTls));
      });
    }
    if (!ok) return undefined;
    return { spec: { name, aliases: [], loadBalance: lb, members, source: 'file' }, aliases };
  }

  private url(e: Entry, path: string): string | undefined {
    const s = this.string(e, path, 'a URL like "http://127.0.0.1:8080"');
    if (s === undefined) return undefined;
    const r = parseUpstreamUrl(s);
    if (typeof r === 'string') return r;
    this.fail('CONFIG_BAD_URL', path, r.error, this.valueNode(e));
    return undefined;
  }

  private options(l: Entry, path: string): RealIpOptionsSpec | undefined {
    const entries = this.map(l.value, path, KEYS.options, '{ header: X-Forwarded-For, from: [10.0.0.0/8] }');
    if (entries === undefined) return undefined;
    const o: RealIpOptionsSpec = { header: DEFAULTS.realIpHeader, from: [], recursive: false };
    let ok = true;
    let fromGiven = false;
    for (const e of entries) {
      const p = `${path}.${e.key}`;
      if (e.key === 'header') {
        const s = this.string(e, p, 'a header name');
        if (s !== undefined && !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(s)) {
          this.fail('CONFIG_BAD_TYPE', p, `${JSON.stringify(s)} is not a valid header name`, this.valueNode(e));
          ok = false;
        } else if (s === undefined) ok = false;
        else o.header = s;
      } else if (e.key === 'from') {
        fromGiven = true;
        const v = this.stringList(e, p, this.cidr, 'CONFIG_BAD_CIDR');
        if (v === undefined) ok = false;
        else o.from = v;
      } else {
        const b = this.bool(e, p);
        if (b === undefined) ok = false;
        else o.recursive = b;
      }
    }
    if (ok && o.from.length === 0) {
      // GoDoxy silently ignores options without `from`; say so instead.
      this.fail('CONFIG_BAD_CIDR', `${path}.from`, 'needs at least one trusted CIDR or IP: the header is only believed from these peers', fromGiven ? (entries.find((x) => x.key === 'from')?.keyNode ?? l.keyNode) : l.keyNode);
      ok = false;
    }
    return ok ? o : undefined;
  }
}

function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** Lower-case, no leading or trailing dot. */
export function normaliseDomain(s: string): string {
  return s.trim().toLowerCase().replace(/^\.+/, '').replace(/\.+$/, '');
}

export function checkDockerHost(s: string): string | undefined {
  return DOCKER_HOST.test(s) ? undefined : `${JSON.stringify(s)} is not a Docker host URL (unix:///var/run/docker.sock, tcp://host:2375, ssh://user@host)`;
}

/** Canonical level, or the problem. */
export function checkLogLevel(s: string): LogLevel | { problem: string } {
  const l = s.trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(l)) return l as LogLevel;
  const near = closest(l, LOG_LEVELS);
  return { problem: `unknown log level ${JSON.stringify(s)}${near === undefined ? '' : `; did you mean ${JSON.stringify(near)}?`} (levels: ${LOG_LEVELS.join(', ')})` };
}

/** Parses and validates one config file's text into `draft`; returns the problems. */
export function readDocument(text: string, file: string, draft: Draft, cidr: CidrValidator): ConfigError[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return doc.errors.map((err) => {
      const line = lines.linePos(err.pos[0]).line;
      const message = (err.message.split('\n')[0] ?? err.message).replace(/ at line \d+, column \d+:?$/, '');
      return new ConfigError('CONFIG_YAML_SYNTAX', '(yaml)', message, { line, file });
    });
  }
  const reader = new Reader(doc, lines, file, cidr);
  reader.read(doc.contents, draft);
  return reader.errors;
}
