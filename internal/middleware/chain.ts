// A compiled chain: the middlewares of one route (sorted by priority, then name) or of the
// entrypoint (in list order, stable by priority), each behind its bypass rules. The proxy calls
// handle() after routing and before the gate; 'answered' means the response is done and nothing
// behind may run (no wake, no upstream, no idle-clock activity).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClientIpRule } from '../../pkg/realip/index.ts';
import type { Middleware, MiddlewareDeps, MiddlewareProblem, MiddlewareSpec, MiddlewareVerdict, RequestFacts } from './middleware.ts';
import { compileBypass, type BypassTest } from './bypass.ts';
import { byPriority } from './build-spec.ts';
import { middlewareFactory } from './registry.ts';
import { sendMiddlewareError } from './middleware-errors.ts';

interface Step {
  readonly mw: Middleware;
  readonly bypass: BypassTest | undefined;
}

export interface MiddlewareChain {
  /** Names in run order; a client rule (real_ip, cloudflare_real_ip) first, as it applies before every step. */
  readonly names: readonly string[];
  /** The chain's real_ip / cloudflare_real_ip, applied by the proxy when it reads the request (docs/client-ip.md). */
  readonly clientIpRule: ClientIpRule | undefined;
  handle(req: IncomingMessage, res: ServerResponse, facts: RequestFacts): MiddlewareVerdict | Promise<MiddlewareVerdict>;
  close(): void;
}

export interface CompiledChain {
  /** Undefined when there is nothing to run (no specs), or when problems were found. */
  chain: MiddlewareChain | undefined;
  problems: MiddlewareProblem[];
}

/** Called with what a middleware threw (it should answer, never throw): logged by the owner. */
export type ChainFailure = (err: unknown, middleware: string) => void;

function pathOnly(path: string): string {
  const q = path.indexOf('?');
  return q === -1 ? path : path.slice(0, q);
}

function fail(res: ServerResponse, onFailure: ChainFailure | undefined, err: unknown, name: string): MiddlewareVerdict {
  onFailure?.(err, name);
  if (!res.headersSent && !res.destroyed) sendMiddlewareError(res, 'MIDDLEWARE_FAILED');
  else res.destroy();
  return 'answered';
}

/**
 * Builds every middleware of `specs`. `order`: 'priority' (routes: priority, then name) or
 * 'list' (entrypoint: list order, stable by priority). Problems mean no chain: the caller
 * refuses service (fail closed) rather than run without it.
 */
export function compileChain(specs: readonly MiddlewareSpec[], deps: MiddlewareDeps, opts: { order?: 'priority' | 'list'; onFailure?: ChainFailure } = {}): CompiledChain {
  if (specs.length === 0) return { chain: undefined, problems: [] };
  const sorted = opts.order === 'list' ? [...specs].sort((a, b) => a.priority - b.priority) : [...specs].sort(byPriority);
  const steps: Step[] = [];
  const problems: MiddlewareProblem[] = [];
  let rule: ClientIpRule | undefined;
  for (const spec of sorted) {
    const factory = middlewareFactory(spec.name);
    if (factory === undefined) {
      problems.push({ code: 'MIDDLEWARE_UNKNOWN', key: spec.key, message: `middleware "${spec.name}" is not available in this Bellhop` });
      continue;
    }
    const bypass = compileBypass(spec.bypass);
    if (!bypass.ok) {
      problems.push({ code: 'MIDDLEWARE_BAD_OPTION', key: `${spec.key}.bypass`, message: bypass.message });
      continue;
    }
    let built: Middleware | MiddlewareProblem[];
    try {
      built = factory.create(spec, deps);
    } catch (err) {
      built = [{ code: 'MIDDLEWARE_BAD_OPTION', key: spec.key, message: `${spec.name}: ${err instanceof Error ? err.message : String(err)}` }];
    }
    if (Array.isArray(built)) problems.push(...built);
    else if (built.clientIpRule === undefined) steps.push({ mw: built, bypass: bypass.test });
    else if (rule === undefined) rule = built.clientIpRule;
    else problems.push({ code: 'MIDDLEWARE_BAD_OPTION', key: spec.key, message: `${spec.name}: ${rule.name} already decides who the client is here; keep one` });
  }
  const close = (): void => {
    for (const s of steps) {
      try {
        s.mw.close?.();
      } catch {
        // closing is best effort: the route is going away
      }
    }
  };
  if (problems.length > 0) {
    close();
    return { chain: undefined, problems };
  }
  const onFailure = opts.onFailure;
  const run = (i: number, req: IncomingMessage, res: ServerResponse, facts: RequestFacts): MiddlewareVerdict | Promise<MiddlewareVerdict> => {
    for (; i < steps.length; i++) {
      const step = steps[i]!;
      if (step.bypass?.(facts.path, facts.clientIp) === true && step.mw.owns?.(pathOnly(facts.path)) !== true) {
        step.mw.onBypass?.(facts);
        continue;
      }
      let v: MiddlewareVerdict | Promise<MiddlewareVerdict>;
      try {
        v = step.mw.handle(req, res, facts);
      } catch (err) {
        return fail(res, onFailure, err, step.mw.name);
      }
      if (typeof v !== 'string') {
        const next = i + 1;
        return v.then(
          (r) => (r === 'answered' || facts.routeTo !== undefined ? r : run(next, req, res, facts)),
          (err: unknown) => fail(res, onFailure, err, step.mw.name),
        );
      }
      if (v === 'answered') return v;
      // rules' `route <alias>`: the other route's chain runs instead of the rest of this one
      if (facts.routeTo !== undefined) return v;
    }
    return 'continue';
  };
  return {
    chain: {
      names: [...(rule === undefined ? [] : [rule.name]), ...steps.map((s) => s.mw.name)],
      clientIpRule: rule,
      handle: (req, res, facts) => run(0, req, res, facts),
      close,
    },
    problems: [],
  };
}
