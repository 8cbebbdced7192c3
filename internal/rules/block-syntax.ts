// GoDoxy's block syntax (docs/rules.md): `<on-expr> { <do…> }`, `default { … }`, `{ … }` (always),
// with `//`, `#` and `/* */` comments outside quotes. This file only cuts the text into rules;
// conditions.ts and commands.ts read what is inside.
import { stripComments, type RuleProblem } from './rule-text.ts';

/** One rule as written, before its condition and commands are read. */
export interface RuleSource {
  /** GoDoxy's `name` (YAML lists); '' in block syntax. */
  readonly name: string;
  /** The condition as written; '' means always; `default` marks the fallback rule. */
  readonly on: string;
  readonly do: string;
  /** Where it came from, for messages: `rule 2` or `rule "api"`. */
  readonly where: string;
}

export type SourcesResult = { ok: true; rules: RuleSource[] } | { ok: false; problem: RuleProblem };

const bad = (message: string): SourcesResult => ({ ok: false, problem: { message: `block syntax: ${message}` } });

function isQuote(c: string): boolean {
  return c === '"' || c === "'" || c === '`';
}

/** Skips whitespace and comments from `pos`; -1 for a block comment never closed. */
function skipSpaceAndComments(src: string, pos: number): number {
  let boundary = true;
  while (pos < src.length) {
    const c = src[pos]!;
    if (/\s/.test(c)) {
      pos++;
      boundary = true;
      continue;
    }
    if (c === '/' && src[pos + 1] === '/') {
      while (pos < src.length && src[pos] !== '\n') pos++;
      continue;
    }
    if (c === '#' && boundary) {
      while (pos < src.length && src[pos] !== '\n') pos++;
      continue;
    }
    if (c === '/' && src[pos + 1] === '*') {
      const end = src.indexOf('*/', pos + 2);
      if (end === -1) return -1;
      pos = end + 2;
      continue;
    }
    break;
  }
  return pos;
}

/** Position of the `{` that opens a rule's body (outside quotes), or a problem. */
function scanToBrace(src: string, pos: number): number | string {
  let quote = '';
  for (; pos < src.length; pos++) {
    const c = src[pos]!;
    if (quote !== '') {
      if (c === quote) quote = '';
      continue;
    }
    if (isQuote(c)) quote = c;
    else if (c === '{') return pos;
    else if (c === '}') return 'unmatched "}" in a rule header';
  }
  return 'expected "{" after the rule header';
}

/** Position of the `}` closing the body that starts at `start` (quotes, comments and `${…}` skipped); -1 if none. */
export function matchingBrace(src: string, start: number): number {
  let depth = 1;
  let quote = '';
  let boundary = true;
  for (let pos = start; pos < src.length; pos++) {
    const c = src[pos]!;
    if (quote !== '') {
      if (c === quote) quote = '';
      boundary = false;
      continue;
    }
    if (isQuote(c)) {
      quote = c;
      boundary = false;
      continue;
    }
    if (boundary && (c === '#' || (c === '/' && src[pos + 1] === '/'))) {
      while (pos < src.length && src[pos] !== '\n') pos++;
      continue;
    }
    if (boundary && c === '/' && src[pos + 1] === '*') {
      const end = src.indexOf('*/', pos + 2);
      if (end === -1) return -1;
      pos = end + 1;
      continue;
    }
    if (c === '$' && src[pos + 1] === '{') {
      const end = src.indexOf('}', pos + 2);
      if (end === -1) return -1;
      pos = end;
      boundary = false;
      continue;
    }
    if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return pos;
    boundary = /\s/.test(c);
  }
  return -1;
}

/** A rule body → its command lines: comments gone, blank lines dropped. */
function bodyText(body: string): string | undefined {
  const stripped = stripComments(body.trim());
  if (stripped === undefined) return undefined;
  return stripped.split('\n').filter((l) => l.trim() !== '').join('\n');
}

/** Cuts block-syntax text into rules. */
export function parseBlockRules(src: string): SourcesResult {
  const rules: RuleSource[] = [];
  let pos = 0;
  while (pos < src.length) {
    pos = skipSpaceAndComments(src, pos);
    if (pos === -1) return bad('a /* comment is never closed');
    if (pos >= src.length) break;
    if (src[pos] === '}') return bad(`unmatched "}" at character ${String(pos)}`);
    const headerStart = pos;
    let on: string;
    if (src.startsWith('default', pos) && (pos + 7 >= src.length || /\s|\{/.test(src[pos + 7]!))) {
      on = 'default';
      pos += 7;
      pos = skipSpaceAndComments(src, pos);
      if (pos === -1) return bad('a /* comment is never closed');
    } else {
      const brace = scanToBrace(src, pos);
      if (typeof brace === 'string') return bad(`${brace} (after ${JSON.stringify(src.slice(headerStart, headerStart + 60).trim())})`);
      on = src.slice(headerStart, brace).trim();
      pos = brace;
    }
    if (src[pos] !== '{') return bad(`expected "{" after rule header ${JSON.stringify(src.slice(headerStart, pos).trim())}`);
    const end = matchingBrace(src, pos + 1);
    if (end === -1) return bad(`the "{" of rule ${JSON.stringify(on)} is never closed`);
    const body = bodyText(src.slice(pos + 1, end));
    if (body === undefined) return bad(`a /* comment in rule ${JSON.stringify(on)} is never closed`);
    rules.push({ name: '', on, do: body, where: `rule ${String(rules.length + 1)} (${on === '' ? '{ … }' : JSON.stringify(on.replace(/\s+/g, ' '))})` });
    pos = end + 1;
  }
  return { ok: true, rules };
}
