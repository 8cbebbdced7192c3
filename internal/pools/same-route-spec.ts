// Structural equality of route specs. Every Docker event rebuilds every RouteSpec from the
// labels (and every config reload rebuilds the file routes), so a route that did not change
// arrives as a new object with the same content: comparing content, not identity, is what lets
// unchanged routes keep their LiveRoute, pool state and health targets untouched.
//
// One generic comparison over plain data rather than a field-by-field list: a field added to
// RouteSpec later is compared without anyone remembering to add it here. It errs on the side of
// "changed" (a key present as `undefined` differs from a missing one; anything that is not
// plain data — a Map, a function, a class instance — is equal only to itself), and "changed"
// costs one update, as every event did before.
import type { RouteSpec } from '../routes/index.ts';

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Deep equality of JSON-like data (primitives, arrays, plain objects); `Object.is` at the leaves. */
export function samePlainData(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!samePlainData(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b) || !isPlainObject(a) || !isPlainObject(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k)) return false;
    if (!samePlainData((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/** True when two specs describe the same route: same name, hosts, balancing, members (in order, every field) and refusal. */
export function sameRouteSpec(a: RouteSpec, b: RouteSpec): boolean {
  return samePlainData(a, b);
}
