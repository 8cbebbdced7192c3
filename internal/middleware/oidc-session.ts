// The oidc middleware's cookies (docs/middlewares.md#oidc): sealed with AES-256-GCM, so the
// browser holds them but can neither read nor change them. The key is derived with HKDF-SHA256
// from Bellhop's secret (MiddlewareDeps.secret) and the provider + client pair, so two oidc
// middlewares for different clients never accept each other's cookies. The cookie's name and
// the routing host are the GCM associated data: a value copied to another cookie or replayed on
// another host does not open.

const { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } = process.getBuiltinModule('node:crypto');

const IV_BYTES = 12;
const TAG_BYTES = 16;
const B64URL = /^[A-Za-z0-9_-]+$/;

// Without a configured secret, one random key for the life of the process: sessions end when
// Bellhop restarts (users sign in again, usually without typing anything at the provider).
let processSecret: Uint8Array | undefined;

export function fallbackSecret(): Uint8Array {
  processSecret ??= randomBytes(32);
  return processSecret;
}

/** Seals and opens one middleware's cookie values. */
export class CookieSealer {
  readonly #key: Buffer;

  constructor(secret: Uint8Array, context: string) {
    this.#key = Buffer.from(hkdfSync('sha256', secret, 'bellhop oidc cookie v1', context, 32));
  }

  seal(name: string, host: string, payload: unknown): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(`${name}\n${host}`));
    const body = Buffer.concat([cipher.update(JSON.stringify(payload), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
  }

  /** The payload, or undefined for anything that is not a value this sealer made for `name` on `host`. */
  open(name: string, host: string, value: string): unknown {
    if (!B64URL.test(value)) return undefined;
    const raw = Buffer.from(value, 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES + 2) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(`${name}\n${host}`));
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      const text = Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8');
      return JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
  }
}

/** A short tag for cookie names: the provider + client pair, as GoDoxy scopes its cookies by client. */
export function cookieTag(context: string): string {
  return createHash('sha256').update(context).digest('base64url').slice(0, 8);
}

/** The request's cookies by name (the first of a repeated name wins). */
export function readCookies(header: string | string[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  const lines = header === undefined ? [] : Array.isArray(header) ? header : [header];
  for (const line of lines) {
    for (const part of line.split(';')) {
      const eq = part.indexOf('=');
      if (eq <= 0) continue;
      const name = part.slice(0, eq).trim();
      if (!out.has(name)) out.set(name, part.slice(eq + 1).trim());
    }
  }
  return out;
}

/**
 * Removes every cookie whose name starts with `prefix` from the Cookie lines of a flat
 * [name, value, …] header list (in place); a line left empty is removed.
 */
export function stripCookies(headers: string[], prefix: string): void {
  for (let i = 0; i + 1 < headers.length;) {
    if (headers[i]!.toLowerCase() !== 'cookie') {
      i += 2;
      continue;
    }
    const kept = headers[i + 1]!.split(';').map((p) => p.trim()).filter((p) => p !== '' && !p.startsWith(prefix));
    if (kept.length === 0) {
      headers.splice(i, 2);
    } else {
      headers[i + 1] = kept.join('; ');
      i += 2;
    }
  }
}

export interface CookieAttributes {
  /** Seconds; 0 clears the cookie. */
  readonly maxAge: number;
  readonly secure: boolean;
}

/** A Set-Cookie value: host-only, Path=/, HttpOnly, SameSite=Lax, Secure on https. */
export function setCookie(name: string, value: string, attrs: CookieAttributes): string {
  let line = `${name}=${value}; Path=/; Max-Age=${Math.max(0, Math.floor(attrs.maxAge))}; HttpOnly; SameSite=Lax`;
  if (attrs.maxAge <= 0) line += '; Expires=Thu, 01 Jan 1970 00:00:00 GMT';
  if (attrs.secure) line += '; Secure';
  return line;
}
