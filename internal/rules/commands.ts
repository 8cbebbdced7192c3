// A rule's `do` body (docs/rules.md): one command per line. Bellhop runs the request commands
// (pass, error, redirect, require_basic_auth, route, rewrite, set/add/remove header) and the
// response-header edits, and nested blocks (`<condition> { … }` inside a rule) of request
// commands; every other GoDoxy command, elif/else chains, option blocks and templates
// ($req_path, …) are unsupported: the route refuses service rather than serve without them.
import { splitWords, type RuleProblem } from './rule-text.ts';
import { cleanPath } from './rule-request.ts';
import { matchingBrace } from './block-syntax.ts';
import { parseCondition, type Test } from './conditions.ts';
import { isToken } from '../../pkg/http/index.ts';

export type Command =
  | { readonly kind: 'pass' }
  | { readonly kind: 'error'; readonly status: number; readonly message: string }
  | { readonly kind: 'redirect'; readonly to: string }
  | { readonly kind: 'require_basic_auth'; readonly realm: string }
  | { readonly kind: 'route'; readonly to: string }
  | { readonly kind: 'rewrite'; readonly from: string; readonly to: string }
  | { readonly kind: 'header'; readonly op: 'set' | 'add' | 'remove'; readonly name: string; readonly value: string }
  | { readonly kind: 'resp_header'; readonly op: 'set' | 'add' | 'remove'; readonly name: string; readonly value: string }
  /** A nested block: its commands run, in place, when its condition matches. */
  | { readonly kind: 'if'; readonly test: Test | undefined; readonly commands: readonly Command[] };

/** Commands that end the request phase (GoDoxy's terminating commands). */
export function terminates(c: Command): boolean {
  return c.kind === 'pass' || c.kind === 'error' || c.kind === 'redirect' || c.kind === 'require_basic_auth' || c.kind === 'route';
}

export type CommandsResult = { ok: true; commands: Command[]; basicAuth: Array<[string, string]> } | { ok: false; problem: RuleProblem };

/** Headers that frame or route the request: a rule editing them could smuggle or misroute. */
const FRAMING = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'te', 'trailer', 'keep-alive', 'proxy-connection']);
const UNSUPPORTED: Readonly<Record<string, string>> = {
  serve: 'serving local files',
  serve_file: 'serving a local file',
  handle: 'in-process handlers',
  proxy: 'proxying to a URL of its own',
  require_auth: "GoDoxy's own login (use Bellhop's oidc, forward_auth or basic_auth middlewares)",
  log: 'logging from rules',
  notify: 'notifications',
};
const TARGETS_UNSUPPORTED = new Set(['query', 'cookie', 'body', 'resp_body', 'status']);

type One = { ok: true; command: Command } | { ok: false; problem: RuleProblem };

const bad = (message: string): One => ({ ok: false, problem: { message } });
const unsupported = (message: string): One => ({ ok: false, problem: { message: `${message} is not supported by Bellhop`, unsupported: true } });

function usesTemplate(v: string): boolean {
  return /\$[A-Za-z_({]/.test(v);
}

function headerValueProblem(v: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(v)) return 'a header value must not contain control characters';
  return undefined;
}

function rewritePath(p: string): string {
  const trailing = p.length > 1 && p.endsWith('/');
  const hash = p.indexOf('#');
  let c = cleanPath(hash === -1 ? p : p.slice(0, hash));
  if (trailing && !c.endsWith('/')) c += '/';
  return c;
}

function modify(op: 'set' | 'add' | 'remove', args: readonly string[]): One {
  const [target = '', name = '', ...rest] = args;
  if (TARGETS_UNSUPPORTED.has(target)) return unsupported(`${op} ${target}`);
  if (target !== 'header' && target !== 'resp_header') return bad(`${op}: unknown target ${JSON.stringify(target)}; write header or resp_header`);
  const want = op === 'remove' ? 0 : 1;
  if (name === '' || rest.length !== want) return bad(`${op} ${target}: expected <name>${op === 'remove' ? '' : ' <value>'}`);
  if (!isToken(name)) return bad(`${op} ${target}: ${JSON.stringify(name)} is not a header name`);
  if (target === 'header' && FRAMING.has(name.toLowerCase())) return bad(`${op} header ${name}: Bellhop does not let rules edit ${name} (it frames or routes the request)`);
  const value = rest[0] ?? '';
  if (usesTemplate(value)) return unsupported(`the template ${JSON.stringify(value)} (variables like $req_path)`);
  const vp = headerValueProblem(value);
  if (vp !== undefined) return bad(`${op} ${target} ${name}: ${vp}`);
  return { ok: true, command: { kind: target, op, name, value } };
}

function command(line: string): One {
  const w = splitWords(line);
  if (!w.ok) return w;
  const [directive = '', ...args] = w.words;
  const none = (c: Command): One => (args.length === 0 ? { ok: true, command: c } : bad(`${directive} takes no argument`));
  const reason = UNSUPPORTED[directive];
  if (reason !== undefined) return unsupported(`${directive} (${reason})`);
  switch (directive) {
    case 'pass':
    case 'bypass':
    case 'upstream':
      return none({ kind: 'pass' });
    case 'error': {
      if (args.length !== 2) return bad('error: expected <status> <message>');
      const status = Number(args[0]);
      if (!/^\d{3}$/.test(args[0]!) || status < 400 || status > 599) return bad(`error: ${JSON.stringify(args[0])} must be a status from 400 to 599`);
      if (usesTemplate(args[1]!)) return unsupported(`the template ${JSON.stringify(args[1])} (variables like $req_path)`);
      return { ok: true, command: { kind: 'error', status, message: args[1]! } };
    }
    case 'redirect': {
      if (args.length !== 1) return bad('redirect: expected one URL');
      const to = args[0]!;
      if (usesTemplate(to)) return unsupported(`the template ${JSON.stringify(to)} (variables like $req_path)`);
      if (headerValueProblem(to) !== undefined || /\s/.test(to)) return bad(`redirect: ${JSON.stringify(to)} is not a URL`);
      if (!to.startsWith('/') && !/^https?:\/\/[^/]/i.test(to)) return bad(`redirect: ${JSON.stringify(to)} must be an http(s) URL or a path starting with /`);
      if (to.startsWith('//')) return bad(`redirect: ${JSON.stringify(to)} would leave for another host; write the full URL`);
      return { ok: true, command: { kind: 'redirect', to } };
    }
    case 'require_basic_auth': {
      if (args.length !== 1) return bad('require_basic_auth: expected one realm');
      const realm = args[0]!;
      if (realm === '' || /["\\\p{Cc}]/u.test(realm)) return bad('require_basic_auth: the realm must be non-empty, without ", \\ or control characters');
      return { ok: true, command: { kind: 'require_basic_auth', realm } };
    }
    case 'route': {
      if (args.length !== 1 || args[0] === '') return bad('route: expected one route name');
      return { ok: true, command: { kind: 'route', to: args[0]!.toLowerCase() } };
    }
    case 'rewrite': {
      if (args.length !== 2) return bad('rewrite: expected <from> <to>');
      const [from, to] = [args[0]!, args[1]!];
      if (!from.startsWith('/') || !to.startsWith('/')) return bad('rewrite: both paths must start with /');
      if (usesTemplate(to)) return unsupported(`the template ${JSON.stringify(to)} (variables like $req_path)`);
      return { ok: true, command: { kind: 'rewrite', from: rewritePath(from), to: rewritePath(to) } };
    }
    case 'set':
    case 'add':
    case 'remove':
      return modify(directive, args);
    default:
      return bad(`unknown command ${JSON.stringify(directive)}`);
  }
}

const NESTED_UNSUPPORTED: RuleProblem = { message: 'elif/else chains and command option blocks are not supported by Bellhop', unsupported: true };

/** The last character outside quotes of `line`, ignoring trailing spaces and comments; '' if none. */
function lastSignificant(line: string): string {
  let quote = '';
  let last = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote !== '') {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
      last = c;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    if (/\s/.test(c)) continue;
    last = c;
  }
  return quote === '' ? last : '';
}

/** Whether `line` has a `{` or `}` outside quotes (not `${`). */
function hasBrace(line: string): boolean {
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote !== '') {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if ((c === '{' && line[i - 1] !== '$') || c === '}') return true;
  }
  return false;
}

/** Reads a whole `do` body (comments already gone), nested blocks included. */
export function parseCommands(body: string, depth = 0): CommandsResult {
  const commands: Command[] = [];
  const basicAuth: Array<[string, string]> = [];
  let pos = 0;
  while (pos < body.length) {
    let end = body.indexOf('\n', pos);
    if (end === -1) end = body.length;
    // a condition may continue on the next line after a trailing `|` or `&`
    while (end < body.length && /[|&]$/.test(body.slice(pos, end).trimEnd())) {
      const next = body.indexOf('\n', end + 1);
      end = next === -1 ? body.length : next;
    }
    const line = body.slice(pos, end).trim();
    if (line === '') {
      pos = end + 1;
      continue;
    }
    if (lastSignificant(line) === '{') {
      // a nested block: `<condition> {` … `}` (GoDoxy runs it in place when the condition matches)
      const open = pos + body.slice(pos, end).lastIndexOf('{');
      const close = matchingBrace(body, open + 1);
      if (close === -1) return { ok: false, problem: { message: `the "{" of nested block ${JSON.stringify(line)} is never closed` } };
      const header = body.slice(pos, open).trim();
      const lineEnd = body.indexOf('\n', close);
      const after = body.slice(close + 1, lineEnd === -1 ? body.length : lineEnd).trim();
      if (after !== '') return { ok: false, problem: NESTED_UNSUPPORTED };
      const first = splitWords(header);
      // `rewrite {` is an option block; `route <name> {` is the route matcher, as in GoDoxy
      const name = first.ok ? first.words[0] ?? '' : '';
      if (header === '' || (name in COMMAND_NAMES && !(name === 'route' && first.ok && first.words.length > 1))) return { ok: false, problem: NESTED_UNSUPPORTED };
      if (depth >= 4) return { ok: false, problem: { message: 'nested blocks deeper than 4 levels are not supported by Bellhop', unsupported: true } };
      const cond = parseCondition(header);
      if (!cond.ok) return { ok: false, problem: { ...cond.problem, message: `nested block ${JSON.stringify(header)}: ${cond.problem.message}` } };
      const inner = parseCommands(body.slice(open + 1, close), depth + 1);
      if (!inner.ok) return inner;
      if (containsResponseEdit(inner.commands)) {
        return { ok: false, problem: { message: 'resp_header edits inside a nested block are not supported by Bellhop', unsupported: true } };
      }
      commands.push({ kind: 'if', test: cond.test, commands: inner.commands });
      basicAuth.push(...cond.basicAuth, ...inner.basicAuth);
      pos = lineEnd === -1 ? body.length : lineEnd + 1;
      continue;
    }
    if (hasBrace(line)) return { ok: false, problem: NESTED_UNSUPPORTED };
    const c = command(line);
    if (!c.ok) return { ok: false, problem: { ...c.problem, message: `do ${JSON.stringify(line)}: ${c.problem.message}` } };
    commands.push(c.command);
    pos = end + 1;
  }
  return { ok: true, commands, basicAuth };
}

function containsResponseEdit(cmds: readonly Command[]): boolean {
  return cmds.some((c) => c.kind === 'resp_header' || (c.kind === 'if' && containsResponseEdit(c.commands)));
}

/** Every command name GoDoxy knows: a block after one is an option block, not a condition. */
const COMMAND_NAMES: Readonly<Record<string, true>> = Object.fromEntries(
  ['pass', 'bypass', 'upstream', 'error', 'redirect', 'require_basic_auth', 'route', 'rewrite', 'set', 'add', 'remove', ...Object.keys(UNSUPPORTED)].map((n) => [n, true]),
);
