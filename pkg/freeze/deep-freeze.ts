// Object.freeze all the way down, for values that are shared by reference between requests or
// reloads (the Config, a RouteTable's routes) and must never change under a reader.

/**
 * Freezes `value` and every object reachable through its own enumerable properties; returns
 * `value`. An object that is already frozen is taken as done and not descended into.
 */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
