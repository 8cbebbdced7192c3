// Step 1 of parsing one container: sort its `proxy.*` labels into container-level values and
// per-target field candidates (target = a named alias, `#N`, or `*`), each value already read
// and validated, so a bad label is reported once however many aliases it applies to.

import { CONTAINER_LEVEL, SHORTCUTS, guessContainerLevel, guessIdleIgnoreField, idleIgnoreField, normSegment, resolvePath } from './field-schema.ts';
import type { FieldDef } from './field-schema.ts';
import { LabelErrorCode as C } from './label-error-codes.ts';
import { checkAlias, readList } from './value-parsers.ts';
import { parseYamlMapping } from './yaml-label.ts';
import { addMiddlewareLabel, addMiddlewareYamlLeaf, isMiddlewarePath } from './middleware-labels.ts';
import { addAccessLogLabel, addAccessLogYamlLeaf, isAccessLogPath } from './access-log-labels.ts';
import { addRulesLabel, isRulesPath } from './rules-labels.ts';

/**
 * What a problem costs (docs/labels.md, "Errors"): a label of one alias (`proxy.app.…`,
 * `proxy.#2.…`) costs that alias only; anything else (container-level labels, `proxy.*`,
 * `proxy.host`, shortcuts) costs the container.
 */
export type ProblemScope = { kind: 'alias'; alias: string } | { kind: 'index'; index: number };

/** A problem found in one label. */
export interface LabelProblem {
  code: string;
  key: string;
  message: string;
  /** Unset: the whole container. */
  scope?: ProblemScope | undefined;
}

/** Precedence class of a label target: higher wins (docs/labels.md). */
export const Kind = { CONTAINER: 0, WILDCARD: 1, INDEX: 2, NAMED: 3 } as const;

export interface Candidate {
  value: unknown;
  /** The label it came from. */
  label: string;
  kind: number;
  /** Segments in the label key: a dotted label is deeper than the YAML value that also sets it. */
  depth: number;
}

/**
 * Field name → winning candidate. A label asking for access control Bellhop cannot apply is
 * stored under a key starting with REFUSAL_PREFIX, one per label and cause, whose value is how
 * to name it (`proxy.app.middlewares.oidc`, or `proxy.app (middlewares.oidc)` inside a YAML
 * value): merging a target's stores then yields every such label that applies to an alias.
 */
export type FieldStore = Map<string, Candidate>;

/** Prefix of refusal entries in a FieldStore; no field name starts with it. */
export const REFUSAL_PREFIX = '\u0000refused:';

export interface CollectedLabels {
  /**
   * Container-level labels by canonical name, raw value. The group `proxy.idle_ignore.<field>`
   * is stored as `idle_ignore.<field>` (and its YAML form as `idle_ignore`).
   */
  container: Map<string, { value: string; label: string }>;
  wildcard: FieldStore;
  /** `#N` targets, 1-based. */
  index: Map<number, FieldStore>;
  /** The labels that used each `#N`, for range errors. */
  indexLabels: Map<number, string[]>;
  /** Named alias targets, lower-cased, in first-seen order of sorted keys. */
  named: Map<string, FieldStore>;
  /** Container-wide defaults (`proxy.host`), lowest precedence. */
  base: FieldStore;
  /** Shortcut lists (`proxy.ports`) by field, expanded once aliases are known. */
  shortcuts: Map<string, { label: string; items: string[] }>;
  problems: LabelProblem[];
  /**
   * Labels asking for access control Bellhop cannot apply: reported as errors, but unlike
   * problems they do not cost the container its routes: the aliases they apply to stay in the
   * table and refuse service (a clear 503 instead of a 404).
   */
  refusals: LabelProblem[];
  warnings: LabelProblem[];
}

const INDEX = /^[#$](\d{1,6})$/;
const CONTAINER_BY_NORM = new Map(CONTAINER_LEVEL.map((n) => [normSegment(n), n]));
const SHORTCUT_BY_NORM = new Map([...SHORTCUTS.keys()].map((n) => [normSegment(n), n]));

function storeFor(c: CollectedLabels, kind: number, target: string, index: number): FieldStore {
  if (kind === Kind.WILDCARD) return c.wildcard;
  if (kind === Kind.CONTAINER) return c.base;
  if (kind === Kind.INDEX) {
    let s = c.index.get(index);
    if (s === undefined) c.index.set(index, (s = new Map<string, Candidate>()));
    return s;
  }
  let s = c.named.get(target);
  if (s === undefined) c.named.set(target, (s = new Map<string, Candidate>()));
  return s;
}

function addCandidate(c: CollectedLabels, store: FieldStore, def: FieldDef, raw: unknown, label: string, kind: number, depth: number, inYaml: boolean): void {
  const where = inYaml ? `field "${def.name}": ` : '';
  const r = def.read(raw);
  if (!r.ok) {
    c.problems.push({ code: r.code, key: label, message: where + r.message });
    return;
  }
  if (r.warning !== undefined) c.warnings.push({ code: r.warning.code, key: label, message: where + r.warning.message });
  const prev = store.get(def.name);
  if (prev !== undefined && prev.depth === depth) {
    c.problems.push({ code: C.DUPLICATE, key: label, message: `${def.name} is set twice at the same precedence (${prev.label} and ${label}); keep one` });
    return;
  }
  if (prev === undefined || depth > prev.depth) store.set(def.name, { value: r.value, label, kind, depth });
}

/** Marks the target as refused for `label` and reports it once per label and cause. */
export function refuse(c: CollectedLabels, store: FieldStore, label: string, what: { name: string; reason: string }, kind: number, depth: number, inYaml: boolean): void {
  const where = inYaml ? `field "${what.name}": ` : '';
  c.refusals.push({
    code: C.ACCESS_CONTROL_UNSUPPORTED,
    key: label,
    message: `${where}${what.reason}, and Bellhop cannot apply it yet: every alias this label applies to refuses service (503 PROXY_ROUTE_REFUSED) rather than be served without it`,
  });
  const shown = inYaml ? `${label} (${what.name})` : label;
  store.set(`${REFUSAL_PREFIX}${label}\u0000${what.name}`, { value: shown, label, kind, depth });
}

function addPath(c: CollectedLabels, label: string, value: string, kind: number, target: string, index: number, path: string[], depth: number): void {
  const store = storeFor(c, kind, target, index);
  if (isMiddlewarePath(path)) {
    // `proxy.app.middlewares.redirect_http: yes` turns it on like `true` (any boolean spelling)
    const on = path.length === 2 && /^(yes|y|on|t|1)$/i.test(value.trim()) ? 'true' : value;
    addMiddlewareLabel(c, store, label, on, path.slice(1), kind, depth, refuse);
    return;
  }
  if (isAccessLogPath(path)) {
    addAccessLogLabel(c, store, label, value, path.slice(1), kind, depth);
    return;
  }
  if (isRulesPath(path)) {
    addRulesLabel(c, store, label, value, path, kind, depth, false);
    return;
  }
  const res = resolvePath(path);
  switch (res.kind) {
    case 'field':
      addCandidate(c, store, res.def, value, label, kind, depth, false);
      return;
    case 'ignored':
      c.warnings.push({ code: C.IGNORED_FIELD, key: label, message: `${res.name} is a GoDoxy feature Bellhop does not implement; ignored` });
      return;
    case 'refused':
      refuse(c, store, label, res, kind, depth, false);
      return;
    case 'error':
      c.problems.push({ code: res.code, key: label, message: res.message });
      return;
    case 'object': {
      const y = parseYamlMapping(value, { keepEmptyMappings: true });
      if (!y.ok) {
        c.problems.push({ code: y.message.startsWith('invalid YAML') ? C.BAD_YAML : C.NOT_MAPPING, key: label, message: y.message });
        return;
      }
      for (const leaf of y.leaves) {
        const full = [...path, ...leaf.path];
        if (isMiddlewarePath(full)) {
          addMiddlewareYamlLeaf(c, store, label, full.slice(1), leaf.value, leaf.empty === true, kind, depth, refuse);
          continue;
        }
        if (isAccessLogPath(full)) {
          if (leaf.empty !== true) addAccessLogYamlLeaf(c, store, label, full.slice(1), leaf.value, kind, depth);
          continue;
        }
        if (isRulesPath(full)) {
          if (leaf.empty !== true) addRulesLabel(c, store, label, leaf.value, full, kind, depth, true);
          continue;
        }
        const lr = resolvePath(full);
        const name = full.join('.');
        // `oidc: {}` turns a middleware on; any other empty mapping sets nothing.
        if (lr.kind === 'refused') refuse(c, store, label, lr, kind, depth, true);
        else if (leaf.empty === true) continue;
        else if (lr.kind === 'field') addCandidate(c, store, lr.def, leaf.value, label, kind, depth, true);
        else if (lr.kind === 'ignored') c.warnings.push({ code: C.IGNORED_FIELD, key: label, message: `field "${name}" is a GoDoxy feature Bellhop does not implement; ignored` });
        else if (lr.kind === 'object') c.problems.push({ code: C.NOT_MAPPING, key: label, message: `field "${name}" must be a mapping of fields, not a single value` });
        else c.problems.push({ code: lr.code, key: label, message: lr.message });
      }
      return;
    }
  }
}

const IDLE_IGNORE = normSegment('idle_ignore');

/** `proxy.idle_ignore.<field>` → `container['idle_ignore.<field>']`; unknown fields with a guess. */
function collectIdleIgnore(c: CollectedLabels, key: string, value: string, segs: string[]): void {
  const field = segs.length === 2 ? idleIgnoreField(segs[1] ?? '') : undefined;
  if (field === undefined) {
    const guess = guessIdleIgnoreField(segs.slice(1).join('_'));
    const hint = guess === undefined ? '; idle_ignore has user_agents, from and paths' : `; did you mean proxy.idle_ignore.${guess}?`;
    c.problems.push({ code: C.UNKNOWN_FIELD, key, message: `unknown label ${key}${hint}` });
    return;
  }
  const name = `idle_ignore.${field}`;
  const prev = c.container.get(name);
  if (prev !== undefined) c.problems.push({ code: C.DUPLICATE, key, message: `${name} is set twice (${prev.label} and ${key}); keep one` });
  else c.container.set(name, { value, label: key });
}

/** Sorts one container's labels. Non-`proxy.` labels are ignored. */
export function collectLabels(labels: Record<string, string>): CollectedLabels {
  const c: CollectedLabels = {
    container: new Map(), wildcard: new Map(), index: new Map(), indexLabels: new Map(), named: new Map(), base: new Map(),
    shortcuts: new Map(), problems: [], refusals: [], warnings: [],
  };
  // Sorted keys: results and error order never depend on Docker's map order.
  for (const key of Object.keys(labels).sort()) {
    if (key === 'proxy') {
      c.problems.push({ code: C.INVALID_KEY, key, message: 'the bare label "proxy" means nothing; use proxy.<alias>.<field> or a container-level label' });
      continue;
    }
    if (!key.startsWith('proxy.')) continue;
    const raw = labels[key];
    const value = typeof raw === 'string' ? raw : String(raw);
    const segs = key.slice('proxy.'.length).split('.');
    if (segs.some((s) => s.trim() === '' || s !== s.trim())) {
      c.problems.push({ code: C.INVALID_KEY, key, message: 'label key has an empty segment or spaces' });
      continue;
    }
    const head = segs[0] ?? '';
    if (segs.length > 1 && normSegment(head) === IDLE_IGNORE) {
      collectIdleIgnore(c, key, value, segs);
      continue;
    }
    if (segs.length === 1) {
      const containerName = CONTAINER_BY_NORM.get(normSegment(head));
      if (containerName !== undefined) {
        if (containerName === 'host') {
          addPath(c, key, value, Kind.CONTAINER, '', 0, ['host'], 1);
          continue;
        }
        const prev = c.container.get(containerName);
        if (prev !== undefined) c.problems.push({ code: C.DUPLICATE, key, message: `${containerName} is set twice (${prev.label} and ${key}); keep one` });
        else c.container.set(containerName, { value, label: key });
        continue;
      }
      const shortcut = SHORTCUT_BY_NORM.get(normSegment(head));
      if (shortcut !== undefined) {
        const field = SHORTCUTS.get(shortcut) ?? '';
        const list = readList(value);
        if (!list.ok) c.problems.push({ code: list.code, key, message: list.message });
        else if (c.shortcuts.has(field)) c.problems.push({ code: C.DUPLICATE, key, message: `${field} is set twice by shortcut labels (${c.shortcuts.get(field)?.label ?? ''} and ${key}); keep one` });
        else c.shortcuts.set(field, { label: key, items: list.value });
        continue;
      }
    }
    let kind: number;
    let target = '';
    let index = 0;
    if (head === '*') kind = Kind.WILDCARD;
    else if (head.startsWith('#') || head.startsWith('$')) {
      const m = INDEX.exec(head);
      if (m === null) {
        c.problems.push({ code: C.INVALID_KEY, key, message: `"${head}" is not an alias index; write #1, #2, …` });
        continue;
      }
      kind = Kind.INDEX;
      index = Number(m[1]);
      c.indexLabels.set(index, [...(c.indexLabels.get(index) ?? []), key]);
    } else {
      const a = checkAlias(head);
      if (!a.ok) {
        // A label for an alias that cannot exist costs nothing else: it is reported, and the
        // container's real aliases stay.
        c.problems.push({ code: a.code, key, message: a.message, scope: { kind: 'alias', alias: head } });
        continue;
      }
      kind = Kind.NAMED;
      target = a.value;
    }
    if (segs.length === 1 && kind === Kind.NAMED) {
      // `proxy.<word>` that is neither container-level nor a YAML mapping: most likely a typo of a
      // container-level label (`proxy.idle_timout`).
      const y = parseYamlMapping(value);
      const guess = guessContainerLevel(head);
      // idle_ignore is the one container-level label whose value is a mapping: a typo of it
      // parses as YAML too, and would silently become an alias.
      if (guess !== undefined && (!y.ok || guess === 'idle_ignore')) {
        c.problems.push({ code: C.UNKNOWN_FIELD, key, message: `unknown label ${key}; did you mean proxy.${guess}?` });
        continue;
      }
    }
    if (segs.length === 2 && kind === Kind.NAMED && guessContainerLevel(head) === 'idle_ignore') {
      // `proxy.idle_ignor.user_agents`: an alias named like that with an idle_ignore field is a typo.
      const field = idleIgnoreField(segs[1] ?? '') ?? guessIdleIgnoreField(segs[1] ?? '');
      if (field !== undefined && resolvePath(segs.slice(1)).kind === 'error') {
        c.problems.push({ code: C.UNKNOWN_FIELD, key, message: `unknown label ${key}; did you mean proxy.idle_ignore.${field}?` });
        continue;
      }
    }
    const before = c.problems.length;
    addPath(c, key, value, kind, target, index, segs.slice(1), segs.length);
    const scope: ProblemScope | undefined = kind === Kind.NAMED ? { kind: 'alias', alias: target } : kind === Kind.INDEX ? { kind: 'index', index } : undefined;
    for (let i = before; i < c.problems.length; i++) {
      const p = c.problems[i];
      if (p !== undefined && scope !== undefined) p.scope = scope;
    }
  }
  return c;
}
