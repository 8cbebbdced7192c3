// `access_log` labels (docs/access-log.md), GoDoxy's grammar: `proxy.<target>.access_log.<option…>`
// with a text value (`proxy.app.access_log.filters.method.values: GET, POST`), any of them with
// a YAML mapping as value (`proxy.app.access_log: |`, `proxy.app.access_log.filters: |`), or
// `access_log:` inside the alias's own YAML value. Each leaf is a candidate in the target's
// FieldStore, so the usual precedence applies per option (named alias > `#N` > `*`; a dotted
// label beats the same option inside a YAML value). Once an alias's stores are merged, its
// leaves are put back together and read by internal/accesslog's one grammar.
import { parseAccessLog, type AccessLogSpec } from '../accesslog/index.ts';
import type { Candidate, CollectedLabels, FieldStore, LabelProblem } from './label-collect.ts';
import { LabelErrorCode as C } from './label-error-codes.ts';
import { normSegment } from './field-schema.ts';
import { parseYamlMapping } from './yaml-label.ts';

/** Prefix of access_log entries in a FieldStore; no field name starts with it. */
const PREFIX = '\u0000alog:';
const ACCESS_LOG = normSegment('access_log');

/** True for `access_log…` paths under an alias. */
export function isAccessLogPath(path: readonly string[]): boolean {
  return path.length > 0 && normSegment(path[0] ?? '') === ACCESS_LOG;
}

interface Leaf {
  /** The path below `access_log`, as written. */
  path: string[];
  value: unknown;
}

function put(c: CollectedLabels, store: FieldStore, path: string[], value: unknown, label: string, kind: number, depth: number): void {
  const key = PREFIX + path.map((s) => normSegment(s)).join('\u0000');
  const prev = store.get(key);
  if (prev !== undefined && prev.depth === depth && prev.label !== label) {
    c.problems.push({ code: C.DUPLICATE, key: label, message: `access_log.${path.join('.')} is set twice at the same precedence (${prev.label} and ${label}); keep one` });
    return;
  }
  if (prev === undefined || depth > prev.depth) store.set(key, { value: { path, value } satisfies Leaf, label, kind, depth } satisfies Candidate);
}

/** A label whose path starts with `access_log` (`rest`: the path after it); `value` is its text. */
export function addAccessLogLabel(c: CollectedLabels, store: FieldStore, label: string, value: string, rest: readonly string[], kind: number, depth: number): void {
  // a mapping as the value (the whole block, `filters: |`, …); anything else is the option's text
  const y = /[:\n]/.test(value) ? parseYamlMapping(value) : undefined;
  if (y?.ok === true && y.leaves.length > 0) {
    for (const leaf of y.leaves) put(c, store, [...rest, ...leaf.path], leaf.value, label, kind, depth);
    return;
  }
  if (rest.length === 0) {
    c.problems.push({ code: C.BAD_ACCESS_LOG, key: label, message: y?.ok === false ? `${y.message}; expected a YAML mapping of access_log options` : 'expected a YAML mapping of access_log options (format, path, stdout, retention, filters, fields), or set them one by one: proxy.<alias>.access_log.path' });
    return;
  }
  put(c, store, [...rest], value, label, kind, depth);
}

/** A leaf of an alias's YAML value below `access_log` (`rest`: the path after it). */
export function addAccessLogYamlLeaf(c: CollectedLabels, store: FieldStore, label: string, rest: readonly string[], value: unknown, kind: number, depth: number): void {
  if (rest.length === 0) {
    c.problems.push({ code: C.BAD_ACCESS_LOG, key: label, message: 'field "access_log" must be a mapping of access_log options' });
    return;
  }
  put(c, store, [...rest], value, label, kind, depth);
}

/** The merged store of one alias → its access log, or undefined (problems, if any, added). */
export function accessLogOf(f: FieldStore, alias: string, problems: LabelProblem[]): AccessLogSpec | undefined {
  const leaves: { leaf: Leaf; label: string }[] = [];
  for (const [key, cand] of f) if (key.startsWith(PREFIX)) leaves.push({ leaf: cand.value as Leaf, label: cand.label });
  if (leaves.length === 0) return undefined;
  const tree: Record<string, unknown> = {};
  for (const { leaf } of leaves) {
    let at = tree;
    leaf.path.forEach((seg, i) => {
      if (i === leaf.path.length - 1) at[seg] = leaf.value;
      else {
        const next = at[seg];
        at = (typeof next === 'object' && next !== null && !Array.isArray(next) ? next : (at[seg] = {})) as Record<string, unknown>;
      }
    });
  }
  const base = `proxy.${alias}.access_log`;
  const r = parseAccessLog(tree, base);
  if (r.ok) return r.spec;
  for (const p of r.problems) {
    // the label to fix: the one setting that option (or one below it), else the first
    const sub = p.key.slice(base.length + 1);
    const hit = leaves.find(({ leaf }) => sub !== '' && (leaf.path.join('.') === sub || leaf.path.join('.').startsWith(`${sub}.`) || sub.startsWith(`${leaf.path.join('.')}.`)));
    problems.push({ code: C.BAD_ACCESS_LOG, key: (hit ?? leaves[0]!).label, message: `access_log${sub === '' ? '' : `.${sub}`}: ${p.message}` });
  }
  return undefined;
}
