// Middlewares in the config file (docs/middlewares.md), GoDoxy's grammar: `routes.<name>.middlewares:
// { <name>: { options } }` and `entrypoint.middlewares: [{ use: <name>, …options }]`. Names and
// options are checked by internal/middleware (one grammar for labels and config); an unknown
// name or option is an error with its line and a did-you-mean. A middleware Bellhop cannot apply
// yet is never silently dropped: the file does not load (at a hot reload the running config stays).
import { isMap, isScalar, isSeq, parse } from 'yaml';
import { buildMiddlewareSpec, buildRulesSpec, type MiddlewareSpec } from '../middleware/index.ts';
import { looksLikeBlockRules } from '../rules/index.ts';
import type { Entry, EntryReader, Value } from './entry-reader.ts';

function toJs(reader: EntryReader, n: Value): unknown {
  const d = reader.deref(n);
  if (d === null || d === undefined) return undefined;
  return d.toJSON() as unknown;
}

/** The option's key node when the problem names one (`<key>.<option>`), for its line. */
function nodeFor(reader: EntryReader, problemKey: string, specKey: string, options: Value, fallback: Value): Value {
  const n = reader.deref(options);
  if (!problemKey.startsWith(`${specKey}.`) || !isMap(n)) return fallback;
  const option = problemKey.slice(specKey.length + 1).split('.')[0];
  for (const pair of n.items) {
    const k = reader.deref(pair.key as Value);
    if (isScalar(k) && String(k.value) === option) return k;
  }
  return fallback;
}

/** One middleware: its name, the node of its options mapping (without `use` for entrypoint items). */
function readOne(reader: EntryReader, written: string, optionsNode: Value, raw: Record<string, unknown>, key: string, nameNode: Value, scope: string): MiddlewareSpec | undefined {
  const r = buildMiddlewareSpec(written, raw, key);
  if (r.kind === 'spec') return r.spec;
  if (r.kind === 'problems') {
    for (const p of r.problems) {
      reader.fail(p.code === 'MIDDLEWARE_UNKNOWN' ? 'CONFIG_UNKNOWN_MIDDLEWARE' : 'CONFIG_BAD_MIDDLEWARE', p.key, p.message, nodeFor(reader, p.key, key, optionsNode, nameNode));
    }
    return undefined;
  }
  if (r.kind === 'refused') {
    reader.fail('CONFIG_UNSUPPORTED', key, `${r.reason}, and Bellhop cannot apply it yet: this config is refused rather than serving ${scope} without it. ` +
      'Remove it only if the service may be reached by anyone (or keep the protection in front of Bellhop)', nameNode);
    return undefined;
  }
  reader.fail('CONFIG_UNSUPPORTED', key, `middleware "${r.name}" is not supported by Bellhop yet; remove it`, nameNode);
  return undefined;
}

function optionsOf(reader: EntryReader, n: Value, key: string, skip?: string): Record<string, unknown> | undefined {
  const d = reader.deref(n);
  if (reader.isNull(d)) return {};
  if (!isMap(d)) {
    reader.fail('CONFIG_BAD_MIDDLEWARE', key, `expected a mapping of options (e.g. "allow: [10.0.0.0/8]"), got ${reader.describe(d)}`, d);
    return undefined;
  }
  const js = toJs(reader, d) as Record<string, unknown>;
  if (skip !== undefined) for (const k of Object.keys(js)) if (k.toLowerCase() === skip) delete js[k];
  return js;
}

/** `entrypoint.middlewares: [{ use: <name>, …options }]`, in list order; undefined when anything is wrong. */
export function readEntrypointMiddlewares(reader: EntryReader, e: Entry): MiddlewareSpec[] | undefined {
  const n = reader.deref(e.value);
  if (reader.isNull(n)) return [];
  if (!isSeq(n)) {
    reader.fail('CONFIG_BAD_MIDDLEWARE', 'entrypoint.middlewares', `expected GoDoxy's list [{ use: <name>, … }], got ${reader.describe(n)}`, reader.valueNode(e));
    return undefined;
  }
  const out: MiddlewareSpec[] = [];
  let ok = true;
  n.items.forEach((raw, i) => {
    const key = `entrypoint.middlewares[${String(i)}]`;
    const item = reader.deref(raw as Value);
    let use: string | undefined;
    if (isMap(item)) {
      for (const pair of item.items) {
        const k = reader.deref(pair.key as Value);
        const v = reader.deref(pair.value as Value);
        if (isScalar(k) && String(k.value).toLowerCase() === 'use' && isScalar(v) && typeof v.value === 'string') use = v.value;
      }
    }
    if (use === undefined || use.trim() === '') {
      reader.fail('CONFIG_BAD_MIDDLEWARE', key, 'a middleware needs a name: { use: <name>, …options }', item ?? n);
      ok = false;
      return;
    }
    const opts = optionsOf(reader, item, key, 'use');
    const spec = opts === undefined ? undefined : readOne(reader, use, item, opts, key, item ?? n, 'every route');
    if (spec === undefined) ok = false;
    else out.push(spec);
  });
  return ok ? out : undefined;
}

/** `routes.<name>.middlewares: { <name>: { options } }`; undefined when anything is wrong. */
export function readRouteMiddlewares(reader: EntryReader, e: Entry, base: string): MiddlewareSpec[] | undefined {
  const entries = reader.map(e.value, `${base}.middlewares`, 'any', 'cidr_whitelist: { allow: [10.0.0.0/8] }');
  if (entries === undefined) return undefined;
  const out: MiddlewareSpec[] = [];
  let ok = true;
  for (const m of entries) {
    const key = `${base}.middlewares.${m.key}`;
    const opts = optionsOf(reader, m.value, key);
    const spec = opts === undefined ? undefined : readOne(reader, m.key, m.value, opts, key, m.keyNode, 'this route');
    if (spec === undefined) ok = false;
    else if (out.some((x) => x.name === spec.name)) {
      reader.fail('CONFIG_DUPLICATE', key, `middleware ${spec.name} is listed twice (names ignore case and "_")`, m.keyNode);
      ok = false;
    } else out.push(spec);
  }
  return ok ? out : undefined;
}

/** YAML text → its value (a `rule_file` in GoDoxy's list form, docs/rules.md); throws when it is not YAML. */
export function parseYamlValue(text: string): unknown {
  return parse(text) as unknown;
}

/**
 * `routes.<name>.rules` (GoDoxy, docs/rules.md): block-syntax text or a list of {name, on, do}.
 * Rules Bellhop cannot run (`serve`, templates, …) are CONFIG_UNSUPPORTED and a mistake in them
 * CONFIG_BAD_MIDDLEWARE: the file does not load rather than serve the route without its rules.
 * `null` or `[]`: no rules; otherwise the spec of the route's first stage.
 */
export function readRouteRules(reader: EntryReader, e: Entry, base: string): { ok: boolean; spec?: MiddlewareSpec | undefined } {
  const n = reader.deref(e.value);
  if (reader.isNull(n) || (isSeq(n) && n.items.length === 0)) return { ok: true };
  let value = toJs(reader, e.value);
  // a YAML list written as text (`rules: |` followed by `- on: …`), as GoDoxy also reads it
  if (typeof value === 'string' && value.trim() !== '' && !looksLikeBlockRules(value)) {
    try {
      const list: unknown = parse(value);
      if (Array.isArray(list)) value = list;
    } catch {
      // not YAML either: the rules parser says what is wrong
    }
  }
  if (typeof value === 'string' && value.trim() === '') return { ok: true };
  const r = buildRulesSpec(value, `${base}.rules`);
  if (r.kind === 'spec') return { ok: true, spec: r.spec };
  for (const p of r.problems) {
    if (p.code === 'MIDDLEWARE_RULES_UNSUPPORTED') reader.fail('CONFIG_UNSUPPORTED', `${base}.rules`, `${p.message}: this config is refused rather than serving this route without its rules`, e.keyNode);
    else reader.fail('CONFIG_BAD_MIDDLEWARE', `${base}.rules`, p.message, e.keyNode);
  }
  return { ok: false };
}
