// The lexical layer of GoDoxy's rule language (docs/rules.md), written from its documented
// behaviour: words with quotes and escapes, `|` / `&` / newline splitting of conditions, and
// comment stripping. No I/O; every function returns problems instead of throwing.

/** A problem found while reading rules. `unsupported`: valid GoDoxy, but Bellhop does not run it. */
export interface RuleProblem {
  readonly message: string;
  readonly unsupported?: true | undefined;
}

export type WordsResult = { ok: true; words: string[] } | { ok: false; problem: RuleProblem };

const ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', "'": "'", '"': '"', '\\': '\\', ' ': ' ' };

function isQuote(c: string): boolean {
  return c === '"' || c === "'" || c === '`';
}

/**
 * One command or matcher line → its words (`error 403 "Forbidden here"` → error, 403, Forbidden
 * here). As in GoDoxy: quotes (" ' `) group words and may be empty, a backslash escapes the next
 * character (\n \t \r \" \' \\ and `\ `), `$$` is a literal `$`, brackets must balance (they count
 * inside quotes too). `${NAME}` (GoDoxy's environment variables) is unsupported: Bellhop's labels
 * never read the process environment.
 */
export function splitWords(line: string): WordsResult {
  const words: string[] = [];
  let buf = '';
  let quote = '';
  let brackets = 0;
  let escaped = false;
  let dollar = false;
  const flush = (quoted: boolean): void => {
    let part = buf;
    buf = '';
    if (!quoted) {
      part = part.replace(/^\s+/, '');
      if (part === '') return;
    }
    words.push(part);
  };
  for (const c of line) {
    if (escaped) {
      buf += ESCAPES[c] ?? `\\${c}`;
      escaped = false;
      continue;
    }
    if (dollar && c !== '{' && c !== '$') {
      buf += '$';
      dollar = false;
    }
    if (isQuote(c)) {
      if (quote === '' && brackets === 0) {
        quote = c;
        flush(false);
      } else if (c === quote) {
        quote = '';
        flush(true);
      } else {
        buf += c;
      }
      continue;
    }
    switch (c) {
      case '\\':
        escaped = true;
        break;
      case '$':
        if (dollar) {
          buf += '$';
          dollar = false;
        } else {
          dollar = true;
        }
        break;
      case '{':
        if (dollar) return { ok: false, problem: { message: 'environment variables (${…}) are not supported by Bellhop', unsupported: true } };
        buf += c;
        break;
      case '(':
        brackets++;
        buf += c;
        break;
      case ')':
        if (brackets === 0) return { ok: false, problem: { message: `unbalanced ")" in ${JSON.stringify(line)}` } };
        brackets--;
        buf += c;
        break;
      case ' ':
      case '\t':
        if (quote === '') flush(false);
        else buf += c;
        break;
      default:
        buf += c;
    }
  }
  if (escaped) buf += '\\';
  if (dollar) buf += '$';
  if (quote !== '') return { ok: false, problem: { message: `unterminated quote in ${JSON.stringify(line)}` } };
  if (brackets !== 0) return { ok: false, problem: { message: `unbalanced "(" in ${JSON.stringify(line)}` } };
  flush(false);
  return { ok: true, words };
}

/** Steps over a quoted or escaped character or a bracket; true when s[i] was consumed that way. */
function consumed(s: string, st: { i: number; quote: string; brackets: number }): boolean {
  const c = s[st.i]!;
  if (st.quote !== '') {
    if (c === '\\' && st.i + 1 < s.length) st.i++;
    else if (c === st.quote) st.quote = '';
    return true;
  }
  switch (c) {
    case '\\':
      if (st.i + 1 < s.length) {
        st.i++;
        return true;
      }
      return false;
    case '"':
    case "'":
    case '`':
      st.quote = c;
      return true;
    case '(':
      st.brackets++;
      return true;
    case ')':
      if (st.brackets > 0) st.brackets--;
      return true;
  }
  return false;
}

function lineEndsWithPipe(s: string, start: number, end: number): boolean {
  for (let i = end - 1; i >= start; i--) {
    const c = s[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\v' || c === '\f') continue;
    if (c !== '|') return false;
    let escapes = 0;
    for (let j = i - 1; j >= start && s[j] === '\\'; j--) escapes++;
    return escapes % 2 === 0;
  }
  return false;
}

/**
 * The AND parts of a condition: split on `&` and on newlines, except inside quotes or brackets
 * and except a newline after a line ending in `|` (an OR continued on the next line).
 */
export function splitAnd(s: string): string[] {
  const out: string[] = [];
  const st = { i: 0, quote: '', brackets: 0 };
  let start = 0;
  for (; st.i <= s.length; st.i++) {
    if (st.i < s.length) {
      if (consumed(s, st)) continue;
      const c = s[st.i];
      if (c === '\n') {
        if (st.brackets > 0 || lineEndsWithPipe(s, start, st.i)) continue;
      } else if (c !== '&' || st.brackets > 0) {
        continue;
      }
    }
    const part = s.slice(start, st.i).trim();
    if (part !== '') out.push(part);
    start = st.i + 1;
  }
  return out;
}

/** The OR parts of one AND part: split on `|` outside quotes and brackets. */
export function splitOr(s: string): string[] {
  const out: string[] = [];
  const st = { i: 0, quote: '', brackets: 0 };
  let start = 0;
  for (; st.i < s.length; st.i++) {
    if (consumed(s, st)) continue;
    if (s[st.i] === '|' && st.brackets === 0) {
      const part = s.slice(start, st.i).trim();
      if (part !== '') out.push(part);
      start = st.i + 1;
    }
  }
  const last = s.slice(start).trim();
  if (last !== '') out.push(last);
  return out;
}

/**
 * Removes `// …`, `# …` (each at the start of a word) and `/* … *\/` comments outside quotes,
 * keeping newlines so line boundaries stay. Undefined when a block comment is never closed.
 */
export function stripComments(src: string): string | undefined {
  if (!/[#/]/.test(src)) return src;
  let out = '';
  let quote = '';
  let inLine = false;
  let inBlock = false;
  let boundary = true;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (inLine) {
      if (c === '\n') {
        inLine = false;
        out += '\n';
        boundary = true;
      }
      continue;
    }
    if (inBlock) {
      if (c === '\n') out += '\n';
      else if (c === '*' && src[i + 1] === '/') {
        inBlock = false;
        i++;
      }
      continue;
    }
    if (quote !== '') {
      out += c;
      if (c === '\\' && i + 1 < src.length) {
        out += src[++i]!;
        boundary = false;
        continue;
      }
      if (c === quote) quote = '';
      boundary = /\s/.test(c);
      continue;
    }
    if (isQuote(c)) {
      quote = c;
      out += c;
      boundary = false;
      continue;
    }
    if (boundary && c === '#') {
      inLine = true;
      continue;
    }
    if (boundary && c === '/' && (src[i + 1] === '/' || src[i + 1] === '*')) {
      if (src[i + 1] === '/') inLine = true;
      else inBlock = true;
      i++;
      continue;
    }
    out += c;
    boundary = /\s/.test(c);
  }
  return inBlock ? undefined : out;
}

/** True when `s` has a `{` outside quotes and comments: GoDoxy then reads it as block syntax first. */
export function hasTopLevelBrace(s: string): boolean {
  const stripped = stripComments(s) ?? s;
  let quote = '';
  for (let i = 0; i < stripped.length; i++) {
    const c = stripped[i]!;
    if (quote !== '') {
      if (quote !== '`' && c === '\\') i++;
      else if (c === quote) quote = '';
      continue;
    }
    if (isQuote(c)) quote = c;
    else if (c === '{') return true;
  }
  return false;
}
