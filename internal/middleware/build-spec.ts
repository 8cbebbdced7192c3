// GoDoxy's middleware grammar, shared by labels and the config file: a name as written plus its
// options as written → a MiddlewareSpec with canonical names, or the problems (unknown name or
// option with a did-you-mean, bad priority or bypass, bad option values), or "refused"/"ignored"
// for a GoDoxy middleware Bellhop cannot apply yet.
import type { MiddlewareDeps, MiddlewareProblem, MiddlewareSpec } from './middleware.ts';
import { compileBypass } from './bypass.ts';
import { closestName, lookupMiddleware, normName } from './registry.ts';
import { readInt, readStringList } from './option-values.ts';

/** Options every middleware takes. */
export const COMMON_OPTIONS: readonly string[] = ['priority', 'bypass'];
export const DEFAULT_PRIORITY = 10;

export type SpecOutcome =
  | { kind: 'spec'; spec: MiddlewareSpec }
  | { kind: 'problems'; problems: MiddlewareProblem[] }
  /** Restricts access and cannot be applied yet: the route refuses service. */
  | { kind: 'refused'; name: string; reason: string }
  /** A GoDoxy middleware that never restricts access and is not implemented: ignored with a warning. */
  | { kind: 'ignored'; name: string };

// Values are checked at parse time by building the middleware once with checkOnly: no factory
// reads a file or opens a socket then (basic_auth's users_file is read when the route starts).
const PARSE_DEPS: MiddlewareDeps = {
  now: () => 0,
  readFile: () => {
    throw new Error('no file is read while parsing');
  },
  checkOnly: true,
};

/**
 * `written`: the middleware name as written (`CIDRWhitelist`); `raw`: its options as written
 * (keys in any case/underscore form, values strings from labels or typed from YAML); `key`:
 * where it was written (`proxy.app.middlewares.cidr_whitelist`).
 */
export function buildMiddlewareSpec(written: string, raw: Readonly<Record<string, unknown>>, key: string): SpecOutcome {
  const found = lookupMiddleware(written);
  if (found.kind === 'unknown') {
    const hint = found.guess === undefined ? '' : ` (did you mean "${found.guess}"?)`;
    return { kind: 'problems', problems: [{ code: 'MIDDLEWARE_UNKNOWN', key, message: `unknown middleware "${written}"${hint}` }] };
  }
  if (found.kind === 'refused') return found;
  if (found.kind === 'ignored') return found;
  const factory = found.factory;
  const allowed = [...COMMON_OPTIONS, ...factory.options];
  const byNorm = new Map(allowed.map((o) => [normName(o), o]));
  const problems: MiddlewareProblem[] = [];
  const options: Record<string, unknown> = {};
  const seen = new Map<string, string>();
  let priority = DEFAULT_PRIORITY;
  let bypass: string[] = [];
  for (const [writtenOpt, value] of Object.entries(raw)) {
    const opt = byNorm.get(normName(writtenOpt));
    const optKey = `${key}.${writtenOpt}`;
    if (opt === undefined) {
      const guess = closestName(writtenOpt, allowed);
      const hint = guess === undefined ? `; ${factory.name} takes ${allowed.join(', ')}` : ` (did you mean "${guess}"?)`;
      problems.push({ code: 'MIDDLEWARE_UNKNOWN_OPTION', key: optKey, message: `${factory.name} has no option "${writtenOpt}"${hint}` });
      continue;
    }
    const prev = seen.get(opt);
    if (prev !== undefined) {
      problems.push({ code: 'MIDDLEWARE_BAD_OPTION', key: optKey, message: `${factory.name}.${opt} is set twice ("${prev}" and "${writtenOpt}"); keep one` });
      continue;
    }
    seen.set(opt, writtenOpt);
    if (opt === 'priority') {
      const r = readInt(value, -1_000_000, 1_000_000);
      if (r.ok) priority = r.value;
      else problems.push({ code: 'MIDDLEWARE_BAD_OPTION', key: optKey, message: `${factory.name}.priority: ${r.message}` });
    } else if (opt === 'bypass') {
      const r = readStringList(value);
      const compiled = r.ok ? compileBypass(r.value) : r;
      if (r.ok && compiled.ok) bypass = r.value;
      else problems.push({ code: 'MIDDLEWARE_BAD_OPTION', key: optKey, message: `${factory.name}.bypass: ${compiled.ok ? '' : compiled.message}` });
    } else {
      options[opt] = value;
    }
  }
  if (problems.length > 0) return { kind: 'problems', problems };
  const spec: MiddlewareSpec = { name: factory.name, priority, bypass, options, key };
  const built = factory.create(spec, PARSE_DEPS);
  if (Array.isArray(built)) return { kind: 'problems', problems: built };
  built.close?.();
  return { kind: 'spec', spec };
}

const CLIENT_RULES = new Set(['real_ip', 'cloudflare_real_ip']);

/**
 * A route's middlewares as they run (what `bellhop check` and /api/routes show): the client rule
 * (real_ip, cloudflare_real_ip) first, as the proxy applies it before any step; then by priority.
 */
export function inRunOrder(specs: readonly MiddlewareSpec[]): MiddlewareSpec[] {
  return [...specs].sort((a, b) => Number(CLIENT_RULES.has(b.name)) - Number(CLIENT_RULES.has(a.name)) || byPriority(a, b));
}

/** `a.b` sorted as the chain runs them: priority, then name. */
export function byPriority(a: MiddlewareSpec, b: MiddlewareSpec): number {
  return a.priority - b.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}
