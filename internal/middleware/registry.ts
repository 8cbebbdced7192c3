// Which middleware names Bellhop knows and what each one is: a factory it can build, a GoDoxy
// name it cannot apply yet (access-restricting ones refuse service; the rest are ignored with a
// warning), or unknown. Names ignore case, `_` and `-`, as in GoDoxy (`CIDRWhitelist`).
import { basicAuth } from './basic-auth.ts';
import { cidrWhitelist } from './cidr-whitelist.ts';
import { forwardAuth } from './forward-auth.ts';
import { requestHeaders, responseHeaders } from './header-edits.ts';
import type { MiddlewareFactory } from './middleware.ts';
import { oidc } from './oidc.ts';
import { rateLimit } from './rate-limit.ts';
import { cloudflareRealIp, realIp } from './real-ip.ts';
import { redirectHttp } from './redirect-http.ts';
import { rulesStage } from './rules-stage.ts';

/** Every middleware Bellhop can run. */
export const MIDDLEWARE_FACTORIES: readonly MiddlewareFactory[] = [redirectHttp, cidrWhitelist, rateLimit, requestHeaders, responseHeaders, forwardAuth, basicAuth, oidc, realIp, cloudflareRealIp];

/** GoDoxy's other spellings → canonical name. */
const ALIASES: Readonly<Record<string, string>> = { modify_request: 'request', modify_response: 'response' };

/**
 * Names that restrict access, not built yet: a route asking for one refuses service (503
 * PROXY_ROUTE_REFUSED) rather than be served without it.
 */
const NOT_YET_ACCESS: readonly string[] = ['crowdsec', 'hcaptcha'];

/** GoDoxy middlewares that never decide who gets in: ignored with a warning. */
const NOT_YET_HARMLESS: readonly string[] = ['set_x_forwarded', 'hide_x_forwarded', 'modify_html', 'themed', 'error_page', 'custom_error_page'];

export function normName(s: string): string {
  return s.trim().toLowerCase().replace(/[_-]/g, '');
}

export type MiddlewareLookup =
  | { kind: 'factory'; name: string; factory: MiddlewareFactory }
  | { kind: 'refused'; name: string; reason: string }
  | { kind: 'ignored'; name: string }
  | { kind: 'unknown'; written: string; guess: string | undefined };

const FACTORIES = new Map<string, MiddlewareFactory>();
const NAMES = new Map<string, { kind: 'factory' | 'refused' | 'ignored'; name: string }>();

function register(f: MiddlewareFactory): void {
  FACTORIES.set(f.name, f);
  NAMES.set(normName(f.name), { kind: 'factory', name: f.name });
  for (const [alt, canon] of Object.entries(ALIASES)) if (canon === f.name) NAMES.set(normName(alt), { kind: 'factory', name: f.name });
}
for (const n of NOT_YET_ACCESS) NAMES.set(normName(n), { kind: 'refused', name: n });
for (const n of NOT_YET_HARMLESS) NAMES.set(normName(n), { kind: 'ignored', name: n });
for (const f of MIDDLEWARE_FACTORIES) register(f);
// GoDoxy's route `rules` (docs/rules.md): built by labels and config, never a middleware name users write
FACTORIES.set(rulesStage.name, rulesStage);

/** Every name a user may write (canonical spellings), for did-you-mean. */
export function knownMiddlewareNames(): string[] {
  return [...new Set([...MIDDLEWARE_FACTORIES.map((f) => f.name), ...Object.keys(ALIASES), ...NOT_YET_ACCESS, ...NOT_YET_HARMLESS])];
}

export function lookupMiddleware(written: string): MiddlewareLookup {
  const hit = NAMES.get(normName(written));
  if (hit?.kind === 'factory') return { kind: 'factory', name: hit.name, factory: FACTORIES.get(hit.name)! };
  if (hit?.kind === 'refused') return { kind: 'refused', name: hit.name, reason: `middleware "${hit.name}" restricts access` };
  if (hit?.kind === 'ignored') return { kind: 'ignored', name: hit.name };
  return { kind: 'unknown', written, guess: closestName(written, knownMiddlewareNames()) };
}

export function middlewareFactory(name: string): MiddlewareFactory | undefined {
  return FACTORIES.get(name);
}

function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** The closest of `names` to `written` (compared without case, `_` and `-`), if reasonably close. */
export function closestName(written: string, names: readonly string[]): string | undefined {
  const w = normName(written);
  let best: string | undefined;
  let bestD = Infinity;
  for (const n of names) {
    const d = distance(w, normName(n));
    if (d < bestD) {
      bestD = d;
      best = n;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(w.length / 3)) ? best : undefined;
}
