// GoDoxy's `proxy.<alias>.rules` (docs/rules.md) as the first stage of a route's chain, before
// its middlewares, as GoDoxy wraps its rules around them. internal/rules compiles and runs them;
// this file adapts a request to internal/rules' RuleRequest and writes the answers rules make
// (error, redirect, Basic challenge) in Bellhop's one error shape. `route <alias>` sets
// RequestFacts.routeTo: the chain stops and the proxy serves the request with that route.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { applyResponseEdits, compileRules, looksLikeBlockRules, runRules, type CompiledRules, type RuleOutcome, type RuleRequest, type RulesInput } from '../rules/index.ts';
import { ErrorWriter, renderError } from '../../pkg/errors/index.ts';
import { editHeaderLines } from '../../pkg/http/index.ts';
import { AUTH_ERRORS, sendAuthError } from './auth-errors.ts';
import { basicCredentials, compareBcrypt } from './basic-auth.ts';
import { MIDDLEWARE_ERRORS } from './middleware-errors.ts';
import type { Middleware, MiddlewareDeps, MiddlewareFactory, MiddlewareProblem, MiddlewareSpec, MiddlewareVerdict, RequestFacts } from './middleware.ts';

const { createHmac, randomBytes } = process.getBuiltinModule('node:crypto');

/** Rules run before every middleware of the route (GoDoxy wraps its rules around them). */
export const RULES_PRIORITY = Number.MIN_SAFE_INTEGER;

/** Header names the request's own head carries past the upstream header list (hop-by-hop). */
const HOP = new Set(['connection', 'upgrade', 'te', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'trailer']);
const REMEMBER_MS = 120_000;
const REMEMBER_MAX = 256;

const ruleErrors = new ErrorWriter(MIDDLEWARE_ERRORS);
const authErrors = new ErrorWriter(AUTH_ERRORS);

function valuesIn(list: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < list.length; i += 2) if (list[i]!.length === name.length && list[i]!.toLowerCase() === name) out.push(list[i + 1]!);
  return out;
}

/** An answer of the rules themselves, with their resp_header edits applied to its head. */
function answer(req: IncomingMessage, res: ServerResponse, status: number, body: string, type: string, extra: string[], edits: RuleOutcome['responseEdits']): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const buf = Buffer.from(body);
  const headers = [...extra];
  applyResponseEdits(headers, edits);
  headers.push('content-type', type, 'content-length', String(buf.length), 'cache-control', 'no-store');
  res.writeHead(status, headers);
  res.end(req.method === 'HEAD' ? undefined : buf);
}

function wantsHtml(req: IncomingMessage): boolean {
  return req.headers.accept?.includes('text/html') === true;
}

/** A request as rules see it: the facts the proxy built, read and edited in place. */
class FactsRequest implements RuleRequest {
  readonly method: string;
  readonly host: string;
  readonly secure: boolean;
  readonly httpVersionMajor: number;
  readonly clientIp: string;
  readonly route: string;
  readonly #req: IncomingMessage;
  readonly #facts: RequestFacts;
  readonly #verified: ReadonlySet<string> | undefined;

  constructor(req: IncomingMessage, facts: RequestFacts, verified: ReadonlySet<string> | undefined) {
    this.method = req.method ?? 'GET';
    this.host = facts.host;
    this.secure = facts.secure;
    this.httpVersionMajor = req.httpVersionMajor;
    this.clientIp = facts.clientIp;
    this.route = facts.route ?? '';
    this.#req = req;
    this.#facts = facts;
    this.#verified = verified;
  }

  get path(): string {
    return this.#facts.path;
  }

  set path(p: string) {
    this.#facts.path = p;
  }

  headerValues(name: string): readonly string[] {
    return HOP.has(name) ? valuesIn(this.#req.rawHeaders, name) : valuesIn(this.#facts.upstreamHeaders, name);
  }

  editHeader(op: 'set' | 'add' | 'remove', name: string, value: string): void {
    editHeaderLines(this.#facts.upstreamHeaders, op, name, value);
  }

  basicAuth(_user: string, hash: string): boolean {
    return this.#verified?.has(hash) === true;
  }
}

class RulesStage implements Middleware {
  readonly name = 'rules';
  readonly #rules: CompiledRules;
  readonly #now: () => number;
  readonly #key = randomBytes(32);
  /** HMAC of `user:password` + hash → until when it counts as verified (bcrypt is slow by design). */
  readonly #verified = new Map<string, number>();

  constructor(rules: CompiledRules, now: () => number) {
    this.#rules = rules;
    this.#now = now;
  }

  handle(req: IncomingMessage, res: ServerResponse, facts: RequestFacts): MiddlewareVerdict | Promise<MiddlewareVerdict> {
    const pairs = this.#rules.basicAuth;
    if (pairs.length > 0) {
      const creds = basicCredentials(req.headers.authorization);
      const mine = creds === undefined ? [] : pairs.filter(([u]) => u === creds.user);
      if (creds !== undefined && mine.length > 0) return this.#checkThenRun(req, res, facts, creds, mine);
    }
    return this.#run(req, res, facts, undefined);
  }

  async #checkThenRun(req: IncomingMessage, res: ServerResponse, facts: RequestFacts, creds: { password: string; decoded: string }, pairs: ReadonlyArray<readonly [string, string]>): Promise<MiddlewareVerdict> {
    const ok = new Set<string>();
    const now = this.#now();
    for (const [, hash] of pairs) {
      const key = createHmac('sha256', this.#key).update(creds.decoded).update('\u0000').update(hash).digest('base64');
      const until = this.#verified.get(key);
      if (until !== undefined && until > now) {
        ok.add(hash);
        continue;
      }
      const comparing = compareBcrypt(creds.password, hash);
      if (comparing === undefined) {
        if (!res.destroyed) sendAuthError(req, res, 'MIDDLEWARE_AUTH_BUSY', undefined, 1);
        return 'answered';
      }
      if (!(await comparing)) continue;
      ok.add(hash);
      if (this.#verified.size >= REMEMBER_MAX) {
        const oldest = this.#verified.keys().next();
        if (oldest.done !== true) this.#verified.delete(oldest.value);
      }
      this.#verified.set(key, now + REMEMBER_MS);
    }
    return this.#run(req, res, facts, ok);
  }

  #run(req: IncomingMessage, res: ServerResponse, facts: RequestFacts, verified: ReadonlySet<string> | undefined): MiddlewareVerdict {
    const view = new FactsRequest(req, facts, verified);
    const out = runRules(this.#rules, view);
    const edits = out.responseEdits;
    const e = out.ending;
    switch (e.kind) {
      case 'upstream':
      case 'route':
        if (edits.length > 0) facts.onResponseHead((_status, headers) => applyResponseEdits(headers, edits));
        if (e.kind === 'route') facts.routeTo = e.to;
        return 'continue';
      case 'error': {
        const html = wantsHtml(req);
        const a = ruleErrors.answer('MIDDLEWARE_RULE_ERROR', { message: e.message });
        answer(req, res, e.status, renderError({ ...a, status: e.status }, html ? 'html' : 'json'), html ? 'text/html; charset=utf-8' : 'application/json', [], edits);
        return 'answered';
      }
      case 'redirect':
        answer(req, res, 307, `Temporary Redirect: ${e.to}\n`, 'text/plain; charset=utf-8', ['location', e.to], edits);
        return 'answered';
      case 'require_basic_auth': {
        const html = wantsHtml(req);
        const a = authErrors.answer('MIDDLEWARE_UNAUTHORIZED');
        answer(req, res, 401, renderError(a, html ? 'html' : 'json'), html ? 'text/html; charset=utf-8' : 'application/json', ['www-authenticate', `Basic realm="${e.realm}"`], edits);
        return 'answered';
      }
    }
  }
}

function problemsOf(spec: MiddlewareSpec, problems: ReadonlyArray<{ message: string; unsupported?: true | undefined }>): MiddlewareProblem[] {
  return problems.map((p) => ({ code: p.unsupported === true ? 'MIDDLEWARE_RULES_UNSUPPORTED' : 'MIDDLEWARE_BAD_RULES', key: spec.key, message: `rules: ${p.message}` }));
}

const NO_RULES: CompiledRules = { rules: [], fallback: undefined, basicAuth: [], routes: [] };

/** `rule_file`: a path (or `file://` URL) read when the route starts; block syntax or a YAML list. */
function readRuleFile(spec: MiddlewareSpec, file: string, deps: MiddlewareDeps): { input: RulesInput } | { problem: MiddlewareProblem } {
  const bad = (message: string): { problem: MiddlewareProblem } => ({ problem: { code: 'MIDDLEWARE_BAD_RULES', key: spec.key, message } });
  let text: string;
  try {
    text = deps.readFile(file);
  } catch (err) {
    return bad(`rule_file ${file} cannot be read: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (text.trim() === '' || looksLikeBlockRules(text)) return { input: text };
  if (deps.parseYaml === undefined) return bad(`rule_file ${file} is not in block syntax`);
  try {
    const v = deps.parseYaml(text);
    if (Array.isArray(v)) return { input: v };
  } catch {
    // not YAML: reported below
  }
  return bad(`rule_file ${file}: expected block-syntax rules or a YAML list of rules with on and do`);
}

function rulesInput(v: unknown): RulesInput | undefined {
  if (typeof v === 'string' || Array.isArray(v)) return v as RulesInput;
  return undefined;
}

/** The `rules` stage: not a middleware name users write, but GoDoxy's `rules` field of a route. */
export const rulesStage: MiddlewareFactory = {
  name: 'rules',
  options: ['rules', 'rule_file'],
  restrictsAccess: true,
  create(spec, deps) {
    const file = spec.options.rule_file;
    if (file !== undefined) {
      if (typeof file !== 'string' || file === '') return [{ code: 'MIDDLEWARE_BAD_RULES', key: spec.key, message: 'rule_file must be a file path' }];
      // read when the route starts (like basic_auth's users_file): a problem then answers 503 MIDDLEWARE_UNAVAILABLE
      if (deps.checkOnly === true) return new RulesStage(NO_RULES, () => deps.now());
      const read = readRuleFile(spec, file, deps);
      if ('problem' in read) return [read.problem];
      const compiled = compileRules(read.input);
      if (!compiled.ok) return problemsOf(spec, compiled.problems).map((p) => ({ ...p, message: `${file}: ${p.message}` }));
      return new RulesStage(compiled.rules, () => deps.now());
    }
    const input = rulesInput(spec.options.rules);
    if (input === undefined) return [{ code: 'MIDDLEWARE_BAD_RULES', key: spec.key, message: 'rules must be block-syntax text or a list of rules with on and do' }];
    const compiled = compileRules(input);
    if (!compiled.ok) return problemsOf(spec, compiled.problems);
    return new RulesStage(compiled.rules, () => deps.now());
  },
};

/**
 * `rules` as written (labels, config) → its MiddlewareSpec, checked; problems whose code is
 * MIDDLEWARE_RULES_UNSUPPORTED name a GoDoxy feature Bellhop does not run, MIDDLEWARE_BAD_RULES
 * a mistake. Either way the route must refuse service rather than run without its rules.
 */
export function buildRulesSpec(value: unknown, key: string, from: 'rules' | 'rule_file' = 'rules'): { kind: 'spec'; spec: MiddlewareSpec } | { kind: 'problems'; problems: MiddlewareProblem[] } {
  const spec: MiddlewareSpec = { name: 'rules', priority: RULES_PRIORITY, bypass: [], options: { [from]: value }, key };
  const built = rulesStage.create(spec, { now: () => 0, readFile: () => '', checkOnly: true });
  if (Array.isArray(built)) return { kind: 'problems', problems: built };
  return { kind: 'spec', spec };
}
