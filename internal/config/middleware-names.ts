// GoDoxy's middleware names (docs/labels.md, "Access control") and which of them restrict or
// authenticate access. Bellhop does not run middlewares yet: a route that asks for one that
// restricts access must refuse service rather than be served to anyone, while one that only
// edits headers or pages can be ignored with a warning. Names ignore case, `_` and `-`, as in
// GoDoxy (`cidr_whitelist` = `CIDRWhitelist`). Shared by labels and the config file.
import { closest } from './suggest.ts';

/**
 * Middlewares that restrict or authenticate access: an allow-list, a login, a rate limit, a
 * captcha, a bouncer. `basic_auth` is not GoDoxy's but is what a migrating user would write.
 */
export const ACCESS_MIDDLEWARES: readonly string[] = ['cidr_whitelist', 'rate_limit', 'forward_auth', 'oidc', 'basic_auth', 'crowdsec', 'hcaptcha'];

/**
 * GoDoxy middlewares that never decide who gets in: header and page edits, the HTTPS redirect
 * (Bellhop serves plain HTTP only, so it could not apply anyway), error pages, and the real-IP
 * rewrites (which only matter to an access middleware, and that refuses on its own).
 */
export const HARMLESS_MIDDLEWARES: readonly string[] = [
  'redirect_http', 'request', 'modify_request', 'response', 'modify_response', 'set_x_forwarded', 'hide_x_forwarded',
  'modify_html', 'themed', 'error_page', 'custom_error_page', 'real_ip', 'cloudflare_real_ip',
];

export interface MiddlewareName {
  /** The canonical snake_case name, or the name as written when unknown. */
  name: string;
  known: boolean;
  /** Restricts or authenticates access. Every unknown name does: it might (fail closed). */
  restrictsAccess: boolean;
  /** For an unknown name, the closest known one. */
  guess?: string | undefined;
}

function norm(s: string): string {
  return s.toLowerCase().replace(/[_-]/g, '');
}

const ACCESS = new Map(ACCESS_MIDDLEWARES.map((n) => [norm(n), n]));
const HARMLESS = new Map(HARMLESS_MIDDLEWARES.map((n) => [norm(n), n]));
const ALL = [...ACCESS_MIDDLEWARES, ...HARMLESS_MIDDLEWARES];

/** `CIDRWhitelist` → cidr_whitelist, restricts access; `ip_whitelist` → unknown, so restricts access too. */
export function classifyMiddleware(written: string): MiddlewareName {
  const n = norm(written.trim());
  const access = ACCESS.get(n);
  if (access !== undefined) return { name: access, known: true, restrictsAccess: true };
  const harmless = HARMLESS.get(n);
  if (harmless !== undefined) return { name: harmless, known: true, restrictsAccess: false };
  // Compare in normalised form (`ipwhitelist` is 2 edits from `cidrwhitelist`), answer in snake_case.
  const guess = closest(n, ALL.map(norm));
  return { name: written, known: false, restrictsAccess: true, guess: ALL.find((a) => norm(a) === guess) };
}

/**
 * One sentence on why a middleware makes a route refuse service (labels) or the config fail to
 * load, e.g. `middleware "cidr_whitelist" restricts access` or `unknown middleware "ipwhitelist"
 * (did you mean "cidr_whitelist"?) may restrict access`.
 */
export function describeAccessMiddleware(m: MiddlewareName): string {
  if (m.known) return `middleware "${m.name}" restricts or authenticates access`;
  const hint = m.guess === undefined ? '' : ` (did you mean "${m.guess}"?)`;
  return `unknown middleware "${m.name}"${hint} may restrict access`;
}
