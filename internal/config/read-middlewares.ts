// GoDoxy middlewares and rules in the config file: not supported yet, and never silently ignored.
// An access middleware that is dropped would serve everything it guarded to anyone, so each
// one is an error naming it: the file does not load (at a hot reload the running config stays).
import { isMap, isScalar, isSeq } from 'yaml';
import type { Entry, EntryReader, Value } from './entry-reader.ts';
import { classifyMiddleware, describeAccessMiddleware } from './middleware-names.ts';

function middlewareProblem(written: string | undefined, scope: string): string {
  if (written === undefined || written.trim() === '') return `a middleware needs a name ("use: <name>"); Bellhop does not support middlewares yet: remove it`;
  const m = classifyMiddleware(written);
  if (!m.restrictsAccess) return `middleware "${m.name}" is not supported by Bellhop yet; remove it`;
  return `${describeAccessMiddleware(m)}, and Bellhop cannot apply middlewares yet: this config is refused rather than serving ${scope} without it. ` +
    'Remove it only if the service may be reached by anyone (or keep the protection in front of Bellhop)';
}

/** `entrypoint.middlewares: [{ use: <name>, …options }]`: every entry is an error. */
export function readEntrypointMiddlewares(reader: EntryReader, e: Entry): void {
  const n = reader.deref(e.value);
  if (reader.isNull(n)) return;
  if (!isSeq(n)) {
    reader.fail('CONFIG_UNSUPPORTED', 'entrypoint.middlewares', `Bellhop does not support middlewares yet (expected GoDoxy's list [{ use: <name>, … }], got ${reader.describe(n)}): remove it`, reader.valueNode(e));
    return;
  }
  n.items.forEach((raw, i) => {
    const item = reader.deref(raw as Value);
    let use: string | undefined;
    if (isMap(item)) {
      for (const pair of item.items) {
        const k = reader.deref(pair.key as Value);
        const v = reader.deref(pair.value as Value);
        if (isScalar(k) && String(k.value).toLowerCase() === 'use' && isScalar(v) && typeof v.value === 'string') use = v.value;
      }
    }
    reader.fail('CONFIG_UNSUPPORTED', `entrypoint.middlewares[${String(i)}]`, middlewareProblem(use, 'every route'), item ?? n);
  });
}

/** `routes.<name>.middlewares: { <name>: { options } }`; false when anything is there. */
export function readRouteMiddlewares(reader: EntryReader, e: Entry, base: string): boolean {
  const entries = reader.map(e.value, `${base}.middlewares`, 'any', 'cidr_whitelist: { allow: [10.0.0.0/8] }');
  if (entries === undefined) return false;
  for (const m of entries) reader.fail('CONFIG_UNSUPPORTED', `${base}.middlewares.${m.key}`, middlewareProblem(m.key, 'this route'), m.keyNode);
  return entries.length === 0;
}

/** `routes.<name>.rules` (GoDoxy): can refuse or authenticate requests, so an error unless empty. */
export function readRouteRules(reader: EntryReader, e: Entry, base: string): boolean {
  const n = reader.deref(e.value);
  if (reader.isNull(n) || (isSeq(n) && n.items.length === 0)) return true;
  reader.fail('CONFIG_UNSUPPORTED', `${base}.rules`, '"rules" can refuse, redirect or authenticate requests, and Bellhop cannot apply them yet: this config is refused rather than serving this route without them', e.keyNode);
  return false;
}
