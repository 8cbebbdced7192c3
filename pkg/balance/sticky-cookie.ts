// The sticky cookie on the wire: finding our token in a Cookie header, removing it before the
// request goes upstream (the member never sees it, as HAProxy's `cookie … indirect`), and the
// Set-Cookie header value.
import { parseCookie, stringifySetCookie } from 'cookie';

/** Name of the sticky cookie (docs/balancing.md). */
export const STICKY_COOKIE_NAME = 'bellhop_lb_sticky';

const keepAsIs = (value: string): string => value;

/** Our token from a raw Cookie header (the first one if repeated), or undefined. Never throws. */
export function readStickyCookie(cookieHeader: string | undefined): string | undefined {
  // Cheap pre-check: most requests to most pools carry no sticky cookie at all.
  if (cookieHeader === undefined || !cookieHeader.includes(STICKY_COOKIE_NAME)) return undefined;
  return parseCookie(cookieHeader, { decode: keepAsIs })[STICKY_COOKIE_NAME];
}

/**
 * The Cookie header to send upstream: `cookieHeader` without our cookie, or undefined when
 * nothing is left. Other cookies are passed through byte for byte.
 */
export function stripStickyCookie(cookieHeader: string | undefined): string | undefined {
  if (cookieHeader === undefined) return undefined;
  if (!cookieHeader.includes(STICKY_COOKIE_NAME)) return cookieHeader.trim() === '' ? undefined : cookieHeader;
  const kept: string[] = [];
  for (const pair of cookieHeader.split(';')) {
    const eq = pair.indexOf('=');
    const name = (eq === -1 ? pair : pair.slice(0, eq)).trim();
    if (name === STICKY_COOKIE_NAME) continue;
    const trimmed = pair.trim();
    if (trimmed !== '') kept.push(trimmed);
  }
  return kept.length === 0 ? undefined : kept.join('; ');
}

/** Set-Cookie attributes of the sticky cookie. */
export interface StickyCookieOptions {
  /** `sticky_max_age` in ms; 0 makes a session cookie (no Max-Age). */
  readonly maxAgeMs: number;
  /** Add `Secure` (TLS client connection, or a trusted proxy said https). */
  readonly secure: boolean;
}

/** The full Set-Cookie header value carrying `token`: `Path=/; HttpOnly; SameSite=Lax`, … */
export function stickySetCookie(token: string, options: StickyCookieOptions): string {
  return stringifySetCookie(
    {
      name: STICKY_COOKIE_NAME,
      value: token,
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: options.secure,
      // Rounded up: Max-Age=0 would tell the browser to delete the cookie at once.
      ...(options.maxAgeMs > 0 ? { maxAge: Math.ceil(options.maxAgeMs / 1000) } : {}),
    },
    { encode: keepAsIs },
  );
}
