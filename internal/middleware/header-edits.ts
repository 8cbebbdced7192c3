// request / response (GoDoxy also: modify_request / modify_response): header edits on the way
// to the member and on the way back. `set_headers` replaces every line of that name, `add_headers`
// appends one, `hide_headers` removes them all. Applied in that order: hide, set, add. Values
// are literal; in a compose file write `$$` for a `$` (compose interpolates a single one).
import type { MiddlewareFactory, MiddlewareProblem, MiddlewareSpec } from './middleware.ts';
import { OptionProblems, readHeaderMap, readHeaderNames } from './option-values.ts';

interface Edits {
  /** Lower-case names removed (hide_headers, and what set_headers replaces). */
  hide: ReadonlySet<string>;
  /** Their lengths: most header names are skipped without lower-casing them. */
  hideLengths: ReadonlySet<number>;
  set: Array<[string, string]>;
  add: Array<[string, string]>;
}

function readEdits(spec: MiddlewareSpec): Edits | MiddlewareProblem[] {
  const p = new OptionProblems(spec);
  const o = spec.options;
  const set = o.set_headers === undefined ? [] : p.take('set_headers', readHeaderMap(o.set_headers));
  const add = o.add_headers === undefined ? [] : p.take('add_headers', readHeaderMap(o.add_headers));
  const hide = o.hide_headers === undefined ? [] : p.take('hide_headers', readHeaderNames(o.hide_headers));
  if (p.list.length > 0 || set === undefined || add === undefined || hide === undefined) return p.list;
  // set_headers removes what it replaces: removing first keeps one pass over the list
  const names = [...hide, ...set.map(([n]) => n)].map((n) => n.toLowerCase());
  return { hide: new Set(names), hideLengths: new Set(names.map((n) => n.length)), set, add };
}

/** Applies `e` to a flat [name, value, …] list in place. */
export function applyEdits(headers: string[], e: Edits): void {
  if (e.hide.size > 0) {
    let w = 0;
    for (let r = 0; r < headers.length; r += 2) {
      const name = headers[r] ?? '';
      if (e.hideLengths.has(name.length) && e.hide.has(name.toLowerCase())) continue;
      headers[w++] = name;
      headers[w++] = headers[r + 1] ?? '';
    }
    headers.length = w;
  }
  for (const [n, v] of e.set) headers.push(n, v);
  for (const [n, v] of e.add) headers.push(n, v);
}

export const requestHeaders: MiddlewareFactory = {
  name: 'request',
  options: ['set_headers', 'add_headers', 'hide_headers'],
  restrictsAccess: false,
  create(spec) {
    const e = readEdits(spec);
    if (Array.isArray(e)) return e;
    return {
      name: 'request',
      handle(_req, _res, facts) {
        applyEdits(facts.upstreamHeaders, e);
        return 'continue';
      },
    };
  },
};

export const responseHeaders: MiddlewareFactory = {
  name: 'response',
  options: ['set_headers', 'add_headers', 'hide_headers'],
  restrictsAccess: false,
  create(spec) {
    const e = readEdits(spec);
    if (Array.isArray(e)) return e;
    const edit = (_status: number, headers: string[]): void => applyEdits(headers, e);
    return {
      name: 'response',
      handle(_req, _res, facts) {
        facts.onResponseHead(edit);
        return 'continue';
      },
    };
  },
};
