// Middleware labels (docs/middlewares.md), GoDoxy's grammar: `proxy.<target>.middlewares.<name>.<option>`
// with a string value, `proxy.<target>.middlewares.<name>: |` with a YAML mapping of options,
// `proxy.<target>.middlewares: |` with a mapping of name → options, or `middlewares:` inside the
// alias's own YAML value. Each option (or sub-key of a mapping option, `set_headers.X-Foo`) is a
// candidate in the target's FieldStore, so the usual precedence applies to it (named alias >
// `#N` > `*`; a dotted label beats the same option inside a YAML value). Once an alias's stores
// are merged, its candidates are grouped back into one MiddlewareSpec per middleware.
import { buildMiddlewareSpec, lookupMiddleware, type MiddlewareSpec } from '../middleware/index.ts';
import type { Candidate, CollectedLabels, FieldStore, LabelProblem } from './label-collect.ts';
import { LabelErrorCode as C } from './label-error-codes.ts';
import { normSegment } from './field-schema.ts';
import { parseYamlMapping } from './yaml-label.ts';

/** Prefix of middleware entries in a FieldStore; no field name starts with it. */
export const MIDDLEWARE_PREFIX = '\u0000mw:';

const MIDDLEWARES = normSegment('middlewares');

/** True for `middlewares…` paths under an alias. */
export function isMiddlewarePath(path: readonly string[]): boolean {
  return path.length > 0 && normSegment(path[0] ?? '') === MIDDLEWARES;
}

interface OptionValue {
  /** The option as written (`Allow`), and the sub-keys below it (`set_headers.X-Foo` → ['X-Foo']). */
  option: string;
  sub: string[];
  value: unknown;
}

type Refuse = (c: CollectedLabels, store: FieldStore, label: string, what: { name: string; reason: string }, kind: number, depth: number, inYaml: boolean) => void;

function put(c: CollectedLabels, store: FieldStore, storeKey: string, value: unknown, label: string, kind: number, depth: number, shown: string): void {
  const prev = store.get(storeKey);
  if (prev !== undefined && prev.depth === depth && prev.label !== label) {
    c.problems.push({ code: C.DUPLICATE, key: label, message: `${shown} is set twice at the same precedence (${prev.label} and ${label}); keep one` });
    return;
  }
  if (prev === undefined || depth > prev.depth) store.set(storeKey, { value, label, kind, depth } satisfies Candidate);
}

/** One leaf below `middlewares`: `[name]` (turned on, no options) or `[name, option, …sub]` with a value. */
function addLeaf(c: CollectedLabels, store: FieldStore, label: string, path: readonly string[], value: unknown, kind: number, depth: number, inYaml: boolean, refuse: Refuse): void {
  const written = path[0] ?? '';
  const where = inYaml ? `field "middlewares.${path.join('.')}": ` : '';
  const found = lookupMiddleware(written);
  if (found.kind === 'unknown') {
    const hint = found.guess === undefined ? '' : ` (did you mean "${found.guess}"?)`;
    c.problems.push({ code: C.UNKNOWN_MIDDLEWARE, key: label, message: `${where}unknown middleware "${written}"${hint}` });
    return;
  }
  if (found.kind === 'refused') {
    refuse(c, store, label, { name: `middlewares.${found.name}`, reason: found.reason }, kind, depth, inYaml);
    return;
  }
  if (found.kind === 'ignored') {
    c.warnings.push({ code: C.IGNORED_FIELD, key: label, message: `${where}middleware "${found.name}" is a GoDoxy feature Bellhop does not implement; ignored` });
    return;
  }
  const base = `${MIDDLEWARE_PREFIX}${found.name}`;
  // turned on (by this label or an option of it): the first label to do so names it in errors
  if (!store.has(base)) store.set(base, { value: undefined, label, kind, depth });
  if (path.length === 1) return;
  const option = path[1] ?? '';
  const sub = path.slice(2);
  const storeKey = [base, normSegment(option), ...sub.map((s) => s.toLowerCase())].join('\u0000');
  put(c, store, storeKey, { option, sub: [...sub], value } satisfies OptionValue, label, kind, depth, `middlewares.${found.name}.${[option, ...sub].join('.')}`);
}

/** A label whose path starts with `middlewares` (`rest` is the path after it); `value` is the label's text. */
export function addMiddlewareLabel(c: CollectedLabels, store: FieldStore, label: string, value: string, rest: readonly string[], kind: number, depth: number, refuse: Refuse): void {
  if (rest.length >= 2) {
    // `proxy.app.middlewares.rate_limit.average: 10`: the value stays text, as in GoDoxy
    addLeaf(c, store, label, rest, value, kind, depth, false, refuse);
    return;
  }
  if (rest.length === 1 && lookupMiddleware(rest[0] ?? '').kind !== 'factory') {
    // refused, ignored or unknown: its value does not matter
    addLeaf(c, store, label, rest, undefined, kind, depth, false, refuse);
    return;
  }
  const text = value.trim();
  if (rest.length === 1 && (text === '' || text === '{}' || text.toLowerCase() === 'true')) {
    addLeaf(c, store, label, rest, undefined, kind, depth, false, refuse);
    return;
  }
  const y = parseYamlMapping(value, { keepEmptyMappings: true });
  if (!y.ok) {
    const what = rest.length === 0 ? 'a YAML mapping of middleware name to options' : 'a YAML mapping of options (or "" to turn it on with defaults)';
    c.problems.push({ code: y.message.startsWith('invalid YAML') ? C.BAD_YAML : C.NOT_MAPPING, key: label, message: `${y.message}; expected ${what}` });
    return;
  }
  if (rest.length === 1 && y.leaves.length === 0) addLeaf(c, store, label, rest, undefined, kind, depth, false, refuse);
  for (const leaf of y.leaves) {
    const path = [...rest, ...leaf.path];
    // a label naming the middleware is named as is; `proxy.app.middlewares: |` names the one inside
    addLeaf(c, store, label, path, leaf.empty === true ? undefined : leaf.value, kind, depth, rest.length === 0, refuse);
  }
}

/** A leaf of an alias's YAML value below `middlewares` (`rest`: the path after it). */
export function addMiddlewareYamlLeaf(c: CollectedLabels, store: FieldStore, label: string, rest: readonly string[], value: unknown, empty: boolean, kind: number, depth: number, refuse: Refuse): void {
  if (rest.length === 0) {
    if (!empty) c.problems.push({ code: C.NOT_MAPPING, key: label, message: 'field "middlewares" must be a mapping of middleware name to options' });
    return;
  }
  addLeaf(c, store, label, rest, empty ? undefined : value, kind, depth, true, refuse);
}

/** `proxy.app: |` → `proxy.app.middlewares.<name>`; `proxy.*.middlewares.x.allow` → `proxy.*.middlewares.<name>`. */
function specKey(label: string, name: string): string {
  const segs = label.split('.');
  return `proxy.${segs[1] ?? ''}.middlewares.${name}`;
}

/** The merged store of one alias → its middlewares, or problems (reported like every label error). */
export function middlewaresOf(f: FieldStore, problems: LabelProblem[]): MiddlewareSpec[] {
  const groups = new Map<string, { label: string; options: Record<string, unknown> }>();
  for (const [key, cand] of f) {
    if (!key.startsWith(MIDDLEWARE_PREFIX)) continue;
    const parts = key.slice(MIDDLEWARE_PREFIX.length).split('\u0000');
    const name = parts[0] ?? '';
    let g = groups.get(name);
    if (g === undefined) groups.set(name, (g = { label: cand.label, options: {} }));
    if (parts.length === 1) {
      g.label = cand.label;
      continue;
    }
    const o = cand.value as OptionValue;
    if (o.sub.length === 0) {
      g.options[o.option] = o.value;
      continue;
    }
    // a mapping option given key by key (`set_headers.X-Foo`): rebuild the mapping
    let node = g.options[o.option];
    if (typeof node !== 'object' || node === null || Array.isArray(node)) g.options[o.option] = node = {};
    let at = node as Record<string, unknown>;
    for (const s of o.sub.slice(0, -1)) {
      const next = at[s];
      if (typeof next !== 'object' || next === null || Array.isArray(next)) at[s] = {};
      at = at[s] as Record<string, unknown>;
    }
    at[o.sub[o.sub.length - 1] ?? ''] = o.value;
  }
  const out: MiddlewareSpec[] = [];
  for (const name of [...groups.keys()].sort()) {
    const g = groups.get(name)!;
    const r = buildMiddlewareSpec(name, g.options, specKey(g.label, name));
    if (r.kind === 'spec') out.push(r.spec);
    else if (r.kind === 'problems') {
      for (const p of r.problems) {
        problems.push({ code: p.code === 'MIDDLEWARE_UNKNOWN' ? C.UNKNOWN_MIDDLEWARE : C.BAD_MIDDLEWARE, key: p.key, message: p.message });
      }
    }
  }
  return out;
}
