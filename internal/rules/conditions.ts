// A rule's `on` expression (docs/rules.md): AND parts (`&` or a new line) of OR parts (`|`) of
// matchers, each negated by a leading `!`. Request matchers only: the response matchers
// (`status`, `resp_header`) and the body ones (`form`, `postform`) are unsupported, so a rule
// using them refuses service rather than run without them.
import { parseTrustedProxies, RealIpError } from '../../pkg/realip/index.ts';
import { splitAnd, splitOr, splitWords, type RuleProblem } from './rule-text.ts';
import { parseValueMatcher, type ValueTest } from './value-matcher.ts';
import { canonicalPath, cleanPath, decodePath, splitTarget, type RuleRequest } from './rule-request.ts';
import { isToken } from '../../pkg/http/index.ts';

/** Lazily computed views of the request, shared by every matcher of one evaluation. */
export class MatchContext {
  readonly req: RuleRequest;
  #target = '';
  #pathname = '';
  #query: URLSearchParams | undefined;
  #cookies: Array<[string, string]> | undefined;

  constructor(req: RuleRequest) {
    this.req = req;
  }

  /** The decoded, cleaned path (a rewrite is seen by later matchers). */
  pathname(): string {
    if (this.#target !== this.req.path || this.#pathname === '') {
      this.#target = this.req.path;
      this.#pathname = canonicalPath(decodePath(splitTarget(this.req.path)[0]));
      this.#query = undefined;
    }
    return this.#pathname;
  }

  query(): URLSearchParams {
    this.pathname();
    return (this.#query ??= new URLSearchParams(splitTarget(this.req.path)[1]));
  }

  cookies(): Array<[string, string]> {
    if (this.#cookies !== undefined) return this.#cookies;
    const out: Array<[string, string]> = [];
    for (const line of this.req.headerValues('cookie')) {
      for (const part of line.split(';')) {
        const eq = part.indexOf('=');
        if (eq <= 0) continue;
        let value = part.slice(eq + 1).trim();
        if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
        out.push([part.slice(0, eq).trim(), value]);
      }
    }
    return (this.#cookies = out);
  }

  /** Re-read cookies after a header edit. */
  headersChanged(): void {
    this.#cookies = undefined;
  }
}

export type Test = (ctx: MatchContext) => boolean;

export type ConditionResult = { ok: true; test: Test | undefined; basicAuth: Array<[string, string]> } | { ok: false; problem: RuleProblem };

const BCRYPT = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;
const PROTOS = new Set(['http', 'https', 'h1', 'h2', 'h2c', 'h3']);
const UNSUPPORTED_MATCHERS: Readonly<Record<string, string>> = {
  status: 'the response matcher "status"',
  resp_header: 'the response matcher "resp_header"',
  form: 'the request-body matcher "form"',
  postform: 'the request-body matcher "postform"',
};

type AtomResult = { ok: true; test: Test; basicAuth?: [string, string] } | { ok: false; problem: RuleProblem };

const fail = (message: string, unsupported = false): AtomResult => ({ ok: false, problem: unsupported ? { message, unsupported: true } : { message } });

function arity(subject: string, args: readonly string[], min: number, max: number, usage: string): string | undefined {
  if (args.length < min || args.length > max) return `${subject}: expected ${usage}, got ${String(args.length)} argument(s)`;
  return undefined;
}

function keyValue(subject: string, args: readonly string[], read: (ctx: MatchContext, key: string) => readonly string[]): AtomResult {
  const bad = arity(subject, args, 1, 2, '<name> [value]');
  if (bad !== undefined) return fail(bad);
  const key = args[0]!;
  if (args.length === 1) return { ok: true, test: (ctx) => read(ctx, key).length > 0 };
  const m = parseValueMatcher(args[1]!);
  if (!m.ok) return m;
  const t = m.test;
  return { ok: true, test: (ctx) => read(ctx, key).some(t) };
}

function single(subject: string, args: readonly string[], read: (ctx: MatchContext) => string): AtomResult {
  const bad = arity(subject, args, 1, 1, 'one value');
  if (bad !== undefined) return fail(bad);
  const m = parseValueMatcher(args[0]!);
  if (!m.ok) return m;
  const t: ValueTest = m.test;
  return { ok: true, test: (ctx) => t(read(ctx)) };
}

/** `path` compares cleaned paths; an exact path also matches itself with a trailing slash. */
function pathAtom(args: readonly string[]): AtomResult {
  const bad = arity('path', args, 1, 1, 'one path');
  if (bad !== undefined) return fail(bad);
  let written = args[0]!;
  const hash = written.indexOf('#');
  if (hash !== -1) written = written.slice(0, hash);
  const trailing = written.length > 1 && written.endsWith('/');
  written = cleanPath(written);
  if (trailing && !written.endsWith('/')) written += '/';
  const negated = written.startsWith('!');
  const bare = negated ? written.slice(1) : written;
  if (!bare.includes('(')) {
    const pattern = canonicalPath(bare);
    const alsoSlash = pattern !== '/' && !pattern.endsWith('/');
    return { ok: true, test: (ctx) => {
      const p = ctx.pathname();
      const hit = p === pattern || (alsoSlash && p === `${pattern}/`);
      return hit !== negated;
    } };
  }
  const m = parseValueMatcher(written);
  if (!m.ok) return m;
  const t = m.test;
  return { ok: true, test: (ctx) => t(ctx.pathname()) };
}

function remoteAtom(args: readonly string[]): AtomResult {
  const bad = arity('remote', args, 1, 1, 'one IP or CIDR');
  if (bad !== undefined) return fail(bad);
  try {
    const ranges = parseTrustedProxies([args[0]!]);
    return { ok: true, test: (ctx) => ctx.req.clientIp !== '' && ranges.contains(ctx.req.clientIp) };
  } catch (err) {
    if (err instanceof RealIpError) return fail(`remote: ${err.message}`);
    throw err;
  }
}

function protoAtom(args: readonly string[]): AtomResult {
  const bad = arity('proto', args, 1, 1, 'http, https, h1, h2, h2c or h3');
  if (bad !== undefined) return fail(bad);
  const p = args[0]!;
  if (!PROTOS.has(p)) return fail(`proto: ${JSON.stringify(p)} is not http, https, h1, h2, h2c or h3`);
  switch (p) {
    case 'http': return { ok: true, test: (ctx) => !ctx.req.secure };
    case 'https': return { ok: true, test: (ctx) => ctx.req.secure };
    case 'h1': return { ok: true, test: (ctx) => !ctx.req.secure && ctx.req.httpVersionMajor === 1 };
    case 'h2': return { ok: true, test: (ctx) => ctx.req.secure && ctx.req.httpVersionMajor === 2 };
    case 'h2c': return { ok: true, test: (ctx) => !ctx.req.secure && ctx.req.httpVersionMajor === 2 };
    default: return { ok: true, test: () => false }; // h3: Bellhop speaks no HTTP/3
  }
}

function atom(text: string): AtomResult {
  const w = splitWords(text);
  if (!w.ok) return w;
  const [written = '', ...args] = w.words;
  const negated = written.startsWith('!');
  const subject = negated ? written.slice(1) : written;
  let r: AtomResult;
  const unsupported = UNSUPPORTED_MATCHERS[subject];
  if (unsupported !== undefined) return fail(`${unsupported} is not supported by Bellhop`, true);
  switch (subject) {
    case 'default':
      r = args.length === 0 ? { ok: true, test: () => true } : fail('default takes no argument');
      break;
    case 'header':
      if (args[0] !== undefined && !isToken(args[0])) return fail(`header: ${JSON.stringify(args[0])} is not a header name`);
      r = keyValue('header', args, (ctx, k) => ctx.req.headerValues(k.toLowerCase()));
      break;
    case 'query':
      r = keyValue('query', args, (ctx, k) => ctx.query().getAll(k));
      break;
    case 'cookie':
      r = keyValue('cookie', args, (ctx, k) => ctx.cookies().filter(([n]) => n === k).map(([, v]) => v));
      break;
    case 'method': {
      const bad = arity('method', args, 1, 1, 'one method');
      if (bad !== undefined) return fail(bad);
      const m = args[0]!.toUpperCase();
      if (!isToken(m)) return fail(`method: ${JSON.stringify(args[0])} is not a method`);
      r = { ok: true, test: (ctx) => ctx.req.method === m };
      break;
    }
    case 'host':
      r = single('host', args, (ctx) => ctx.req.host);
      break;
    case 'route':
      r = single('route', args, (ctx) => ctx.req.route);
      break;
    case 'path':
      r = pathAtom(args);
      break;
    case 'proto':
      r = protoAtom(args);
      break;
    case 'remote':
      r = remoteAtom(args);
      break;
    case 'basic_auth': {
      const bad = arity('basic_auth', args, 2, 2, '<user> <bcrypt-hash>');
      if (bad !== undefined) return fail(bad);
      const [user, hash] = [args[0]!, args[1]!];
      if (!BCRYPT.test(hash)) return fail(`basic_auth: the password of ${JSON.stringify(user)} must be a bcrypt hash ($2y$…, made by htpasswd -B; in compose labels write $$ for each $)`);
      r = { ok: true, test: (ctx) => ctx.req.basicAuth(user, hash), basicAuth: [user, hash] };
      break;
    }
    default:
      return fail(`unknown matcher ${JSON.stringify(subject)}`);
  }
  if (!r.ok || !negated) return r;
  const t = r.test;
  return { ...r, test: (ctx) => !t(ctx) };
}

/** Reads a whole `on` expression; `test` undefined for '' (always true). */
export function parseCondition(on: string): ConditionResult {
  const ands: Test[] = [];
  const basicAuth: Array<[string, string]> = [];
  for (const part of splitAnd(on)) {
    const ors: Test[] = [];
    for (const text of splitOr(part)) {
      const a = atom(text);
      if (!a.ok) return { ok: false, problem: { ...a.problem, message: `on ${JSON.stringify(text)}: ${a.problem.message}` } };
      ors.push(a.test);
      if (a.basicAuth !== undefined) basicAuth.push(a.basicAuth);
    }
    if (ors.length === 0) continue;
    ands.push(ors.length === 1 ? ors[0]! : (ctx) => ors.some((t) => t(ctx)));
  }
  if (ands.length === 0) return { ok: true, test: undefined, basicAuth };
  const test: Test = ands.length === 1 ? ands[0]! : (ctx) => ands.every((t) => t(ctx));
  return { ok: true, test, basicAuth };
}
