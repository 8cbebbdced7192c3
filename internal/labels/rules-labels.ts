// GoDoxy's `proxy.<target>.rules` (docs/rules.md): block-syntax text, or the older YAML list of
// {name, on, do} (as text in the label, or as a list inside the alias's YAML value). The usual
// precedence applies (named alias > `#N` > `*`; a dotted label beats the same field inside a YAML
// value). Once an alias's stores are merged, the winning value becomes the route's `rules` stage,
// checked here; anything Bellhop cannot run makes the alias refuse service (never served without
// its rules: they can be protections).
import { buildRulesSpec, type MiddlewareSpec } from '../middleware/index.ts';
import { looksLikeBlockRules } from '../rules/index.ts';
import type { CollectedLabels, FieldStore, LabelProblem } from './label-collect.ts';
import { LabelErrorCode as C } from './label-error-codes.ts';
import { normSegment } from './field-schema.ts';
import { parseYamlList } from './yaml-label.ts';

/** Store keys of the rules and rule_file candidates; no field name starts with them. */
export const RULES_KEY = '\u0000rules';
const RULE_FILE_KEY = '\u0000rule_file';

const RULES = normSegment('rules');
const RULE_FILE = normSegment('rule_file');

/** True for `rules…` and `rule_file` paths under an alias. */
export function isRulesPath(path: readonly string[]): boolean {
  const head = normSegment(path[0] ?? '');
  return head === RULES || (head === RULE_FILE && path.length === 1);
}

/** `proxy.<target>.rules[.…]` (`rest`: the path after `rules`), or the `rules` leaf of a YAML value. */
export function addRulesLabel(c: CollectedLabels, store: FieldStore, label: string, value: unknown, path: readonly string[], kind: number, depth: number, inYaml: boolean): void {
  const isFile = normSegment(path[0] ?? '') === RULE_FILE;
  const rest = path.slice(1);
  const field = isFile ? 'rule_file' : 'rules';
  const storeKey = isFile ? RULE_FILE_KEY : RULES_KEY;
  const where = inYaml ? `field "${field}": ` : '';
  if (isFile) {
    if (typeof value !== 'string' || value.trim() === '') {
      c.problems.push({ code: C.BAD_RULES, key: label, message: `${where}rule_file must be a file path` });
      return;
    }
  } else {
  if (rest.length > 0) {
    c.problems.push({ code: C.BAD_RULES, key: label, message: `${where}rules is one value (block-syntax text or a YAML list of rules), not a mapping (got rules.${rest.join('.')})` });
    return;
  }
  if (typeof value !== 'string' && !Array.isArray(value)) {
    c.problems.push({ code: C.BAD_RULES, key: label, message: `${where}rules must be block-syntax text or a YAML list of rules with on and do` });
    return;
  }
  }
  const prev = store.get(storeKey);
  if (prev !== undefined && prev.depth === depth && prev.label !== label) {
    c.problems.push({ code: C.DUPLICATE, key: label, message: `${field} is set twice at the same precedence (${prev.label} and ${label}); keep one` });
    return;
  }
  if (prev === undefined || depth > prev.depth) store.set(storeKey, { value, label, kind, depth });
}

/** `proxy.app: |` → `proxy.app.rules`; `proxy.*.rules` stays. */
function specKey(label: string, field = 'rules'): string {
  const segs = label.split('.');
  return `proxy.${segs[1] ?? ''}.${field}`;
}

/** `rule_file` (GoDoxy): a path or file:// URL read when the route starts; presets (embed://) are not shipped. */
function ruleFileOf(cand: { value: unknown; label: string }, problems: LabelProblem[]): MiddlewareSpec | undefined {
  const key = specKey(cand.label, 'rule_file');
  let path = String(cand.value).trim();
  if (path.startsWith('embed://')) {
    problems.push({ code: C.ACCESS_CONTROL_UNSUPPORTED, key, message: `rule_file ${path}: GoDoxy's rule presets are not part of Bellhop: every alias this label applies to refuses service (503 PROXY_ROUTE_REFUSED) rather than be served without its rules` });
    return undefined;
  }
  if (path.startsWith('file://')) path = path.slice('file://'.length);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    problems.push({ code: C.BAD_RULES, key, message: `rule_file ${path}: only a file path (or file://) is read; every alias this label applies to refuses service (503 PROXY_ROUTE_REFUSED)` });
    return undefined;
  }
  const r = buildRulesSpec(path, key, 'rule_file');
  if (r.kind === 'spec') return r.spec;
  for (const p of r.problems) problems.push({ code: C.BAD_RULES, key: p.key, message: p.message });
  return undefined;
}

/** The merged store of one alias → its `rules` stage (or problems, which refuse the alias). */
export function rulesOf(f: FieldStore, problems: LabelProblem[]): MiddlewareSpec | undefined {
  const cand = f.get(RULES_KEY);
  const file = f.get(RULE_FILE_KEY);
  if (file !== undefined && cand !== undefined) {
    problems.push({ code: C.BAD_RULES, key: file.label, message: `rule_file and rules cannot be used together (${cand.label}), as in GoDoxy; every alias this label applies to refuses service (503 PROXY_ROUTE_REFUSED)` });
    return undefined;
  }
  if (file !== undefined) return ruleFileOf(file, problems);
  if (cand === undefined) return undefined;
  let value = cand.value;
  // GoDoxy reads block syntax first when the text has a `{` outside quotes, else its YAML list
  if (typeof value === 'string' && value.trim() !== '' && !looksLikeBlockRules(value)) {
    const y = parseYamlList(value);
    if (y.ok) value = y.items;
  }
  if (typeof value === 'string' && value.trim() === '') return undefined;
  if (Array.isArray(value) && value.length === 0) return undefined;
  const r = buildRulesSpec(value, specKey(cand.label));
  if (r.kind === 'spec') return r.spec;
  for (const p of r.problems) {
    problems.push(p.code === 'MIDDLEWARE_RULES_UNSUPPORTED'
      ? { code: C.ACCESS_CONTROL_UNSUPPORTED, key: p.key, message: `${p.message}: every alias this label applies to refuses service (503 PROXY_ROUTE_REFUSED) rather than be served without its rules` }
      : { code: C.BAD_RULES, key: p.key, message: `${p.message}; every alias this label applies to refuses service (503 PROXY_ROUTE_REFUSED)` });
  }
  return undefined;
}
