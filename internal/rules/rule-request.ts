// What rules see of a request and change on it (docs/rules.md), independent of node:http: the
// middleware adapts a request to it. Paths are matched decoded and cleaned, as GoDoxy matches
// Go's URL.Path: `/%61dmin/../admin/` is `/admin/` to a `path` matcher.

/** The request as rules read and edit it. */
export interface RuleRequest {
  readonly method: string;
  /** Routing host: lower case, no port. */
  readonly host: string;
  /** TLS, or a trusted proxy said https. */
  readonly secure: boolean;
  readonly httpVersionMajor: number;
  /** The real client IP (trusted proxies applied). */
  readonly clientIp: string;
  /** The route's name (`route` matcher). */
  readonly route: string;
  /** Origin-form path with query; `rewrite` replaces it. */
  path: string;
  /** Every value of a header (lower-case name), edits of earlier commands included. */
  headerValues(name: string): readonly string[];
  /** `set|add|remove header`: edits the request on its way upstream. */
  editHeader(op: 'set' | 'add' | 'remove', name: string, value: string): void;
  /** Whether the request's Basic credentials are `user` with a password matching `hash`. */
  basicAuth(user: string, hash: string): boolean;
}

function hex(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}

/** Percent-decodes what is valid (`%zz` and lone `%` stay as written); bytes read as UTF-8. */
export function decodePath(p: string): string {
  if (!p.includes('%')) return p;
  const bytes: number[] = [];
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i);
    if (c === 37 && i + 2 < p.length) {
      const h = hex(p.charCodeAt(i + 1));
      const l = hex(p.charCodeAt(i + 2));
      if (h >= 0 && l >= 0) {
        bytes.push(h * 16 + l);
        i += 2;
        continue;
      }
    }
    // the request target is visible ASCII (pkg/http's checks), so one char is one byte
    bytes.push(c & 0xff);
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Go's path.Clean: one slash between segments, `.` and `..` resolved, rooted paths stay rooted. */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  // most paths are clean already: rooted, no `//`, no `.` or `..` segment, no trailing slash
  if (p.charCodeAt(0) === 47 && !p.includes('//') && !p.includes('/.') && (p.length === 1 || p.charCodeAt(p.length - 1) !== 47)) return p;
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(seg);
  }
  const joined = out.join('/');
  if (rooted) return `/${joined}`;
  return joined === '' ? '.' : joined;
}

/** The path a `path` matcher compares: rooted, cleaned, a trailing slash kept. */
export function canonicalPath(p: string): string {
  if (p === '' || p[0] !== '/') p = `/${p}`;
  const trailing = p.length > 1 && (p.endsWith('/') || p.endsWith('/.') || p.endsWith('/..'));
  p = cleanPath(p);
  return trailing && p !== '/' ? `${p}/` : p;
}

/** Origin-form target → [path, query] (query without `?`, '' when none). */
export function splitTarget(target: string): [string, string] {
  const q = target.indexOf('?');
  return q === -1 ? [target, ''] : [target.slice(0, q), target.slice(q + 1)];
}

/** Encodes a decoded path for the request line: what may not stand in a path is percent-encoded. */
export function encodePath(p: string): string {
  return p.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/]/gu, (c) => encodeURIComponent(c));
}
