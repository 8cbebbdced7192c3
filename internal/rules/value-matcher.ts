// GoDoxy's value forms (docs/rules.md): `value` (exact), `glob(pattern)`, `regex(pattern)`, each
// negated by a leading `!`. Globs are gobwas/glob's without separators: `*` and `**` match any
// run of characters (slashes too), `?` one character, `[a-z]` / `[!a-z]` a class, `{a,b}` either
// pattern, `\` escapes. Regexes are unanchored like Go's MatchString; a leading `(?i)` is read as
// the case-insensitive flag and `(?P<name>` as a named group.
import type { RuleProblem } from './rule-text.ts';

export type ValueTest = (value: string) => boolean;

export type MatcherResult = { ok: true; test: ValueTest; kind: 'exact' | 'glob' | 'regex'; negated: boolean; expr: string } | { ok: false; problem: RuleProblem };

function unquote(s: string): string | undefined {
  if (s === '') return '';
  const q = s[0]!;
  if (q !== '"' && q !== "'" && q !== '`') return s;
  if (s.length < 2 || s[s.length - 1] !== q) return undefined;
  return s.slice(1, -1);
}

const SYNTAX = /[\\^$.*+?()[\]{}|/]/g;

/** One gobwas glob → a regular expression body (unanchored). */
function globBody(glob: string): string | undefined {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '\\') {
      const n = glob[i + 1];
      if (n === undefined) return undefined;
      out += n.replace(SYNTAX, '\\$&');
      i++;
    } else if (c === '*') {
      while (glob[i + 1] === '*') i++;
      out += '[\\s\\S]*';
    } else if (c === '?') {
      out += '[\\s\\S]';
    } else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end === -1) return undefined;
      let cls = glob.slice(i + 1, end);
      const neg = cls.startsWith('!');
      if (neg) cls = cls.slice(1);
      if (cls === '') return undefined;
      out += `[${neg ? '^' : ''}${cls.replace(/[\\\]^[]/g, '\\$&')}]`;
      i = end;
    } else if (c === '{') {
      // alternatives may nest: find the matching `}` and split on top-level commas
      let depth = 1;
      let j = i + 1;
      const parts: string[] = [];
      let partStart = j;
      for (; j < glob.length && depth > 0; j++) {
        const d = glob[j];
        if (d === '\\') j++;
        else if (d === '{') depth++;
        else if (d === '}') depth--;
        else if (d === ',' && depth === 1) {
          parts.push(glob.slice(partStart, j));
          partStart = j + 1;
        }
      }
      if (depth !== 0) return undefined;
      parts.push(glob.slice(partStart, j - 1));
      const bodies = parts.map(globBody);
      if (bodies.some((b) => b === undefined)) return undefined;
      out += `(?:${bodies.join('|')})`;
      i = j - 1;
    } else {
      out += c.replace(SYNTAX, '\\$&');
    }
  }
  return out;
}

/** A glob as GoDoxy compiles it; undefined when it does not compile. */
export function compileGlob(glob: string): RegExp | undefined {
  const body = globBody(glob);
  if (body === undefined) return undefined;
  try {
    return new RegExp(`^${body}$`, 'u');
  } catch {
    return undefined;
  }
}

/** A Go (RE2) regular expression in JavaScript; a problem when it does not compile here. */
export function compileRegex(expr: string): RegExp | string {
  let flags = '';
  let src = expr;
  const inline = /^\(\?([a-zA-Z]+)\)/.exec(src);
  if (inline !== null) {
    const f = inline[1] ?? '';
    if (!/^[is]+$/.test(f)) return `regex flags (?${f}) are not supported`;
    flags += [...new Set(f)].join('');
    src = src.slice(inline[0].length);
  }
  src = src.replace(/\(\?P</g, '(?<');
  try {
    return new RegExp(src, `${flags}u`);
  } catch {
    try {
      return new RegExp(src, flags);
    } catch (err) {
      return `regex ${JSON.stringify(expr)} does not compile: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
}

/** `value`, `glob(…)`, `regex(…)`, optionally `!`-negated → a test. */
export function parseValueMatcher(written: string): MatcherResult {
  let expr = written;
  const negated = expr.startsWith('!');
  if (negated) expr = expr.slice(1);
  const open = expr.indexOf('(');
  let kind: 'exact' | 'glob' | 'regex' = 'exact';
  if (open !== -1) {
    const close = expr.lastIndexOf(')');
    if (close === -1) return { ok: false, problem: { message: `unbalanced "(" in ${JSON.stringify(written)}` } };
    const type = expr.slice(0, open).toLowerCase();
    if (type !== 'glob' && type !== 'regex' && type !== 'string') return { ok: false, problem: { message: `${JSON.stringify(written)}: "${type}" is not a matcher; write a value, glob(…) or regex(…)` } };
    const inner = unquote(expr.slice(open + 1, close));
    if (inner === undefined) return { ok: false, problem: { message: `unterminated quote in ${JSON.stringify(written)}` } };
    expr = inner;
    kind = type === 'string' ? 'exact' : type;
  }
  let test: ValueTest;
  if (kind === 'exact') {
    const want = expr;
    test = (v) => v === want;
  } else if (kind === 'glob' && /^[^*?[\]{}\\]*\*$/.test(expr)) {
    // `/api/*`, the common glob: a prefix test
    const prefix = expr.slice(0, -1);
    test = (v) => v.startsWith(prefix);
  } else if (kind === 'glob') {
    const re = compileGlob(expr);
    if (re === undefined) return { ok: false, problem: { message: `glob ${JSON.stringify(expr)} does not compile` } };
    test = (v) => re.test(v);
  } else {
    const re = compileRegex(expr);
    if (typeof re === 'string') return { ok: false, problem: { message: re } };
    test = (v) => re.test(v);
  }
  return { ok: true, test: negated ? (v) => !test(v) : test, kind, negated, expr };
}
