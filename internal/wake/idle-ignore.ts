// proxy.idle_ignore at request time: is this request one the container's idle clock ignores
// (an uptime monitor)? Compiled once per spec; `matches` is called only for containers that
// have rules, so routes without them pay nothing.
import type { IncomingMessage } from 'node:http';
import { parseTrustedProxies, type TrustedProxies } from '../../pkg/realip/index.ts';
import type { IdleSpec } from '../routes/index.ts';
import { requestPath } from './request-kind.ts';

/** The compiled rules of one container. */
export interface IdleIgnoreMatcher {
  /**
   * True when ANY rule matches: the User-Agent contains one of the fragments (case-insensitive),
   * `clientIp` (the real client IP; `undefined` when unknown) is in one of the ranges, or the
   * path equals or is below one of the paths. Never throws.
   */
  matches(req: IncomingMessage, clientIp: string | undefined): boolean;
}

/** Compiles `IdleSpec.ignore`; undefined when there is nothing to match. */
export function compileIdleIgnore(spec: IdleSpec['ignore']): IdleIgnoreMatcher | undefined {
  if (spec === undefined) return undefined;
  const agents = spec.userAgents.map((a) => a.toLowerCase()).filter((a) => a !== '');
  // Labels validated every entry with the same parser; one that still fails is left out (that
  // request then counts as activity: failing towards "awake" never loses a visitor).
  const valid = spec.from.filter((entry) => {
    try {
      parseTrustedProxies([entry]);
      return true;
    } catch {
      return false;
    }
  });
  const from: TrustedProxies | undefined = valid.length > 0 ? parseTrustedProxies(valid) : undefined;
  const paths = spec.paths.filter((p) => p.startsWith('/')).map((p) => (p.length > 1 ? p.replace(/\/+$/, '') : p));
  if (agents.length === 0 && from === undefined && paths.length === 0) return undefined;
  return {
    matches(req, clientIp) {
      if (agents.length > 0) {
        const ua = req.headers['user-agent'];
        if (ua !== undefined && ua !== '') {
          const l = ua.toLowerCase();
          for (const a of agents) if (l.includes(a)) return true;
        }
      }
      if (paths.length > 0) {
        const p = requestPath(req.url);
        for (const base of paths) {
          if (p === base) return true;
          // below it: `/health/live` for `/health`, never `/healthz`; `/` covers everything
          if (p.startsWith(base) && (base === '/' || p.charCodeAt(base.length) === 47)) return true;
        }
      }
      return from !== undefined && clientIp !== undefined && clientIp !== '' && from.contains(clientIp);
    },
  };
}
