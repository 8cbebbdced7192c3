// Who may use the admin API (`api.auth`, docs/configuration.md#api): a Bearer token read from
// `token_file` and/or basic-auth users with bcrypt hashes. The token is also accepted as the
// basic-auth password (any user name), so a browser's login prompt opens the dashboard, whose
// EventSource cannot send an Authorization header of its own. bcryptjs lives here only.
import { isIP } from 'node:net';
import type Bcrypt from 'bcryptjs';
import type { ApiAuthConfig, ListenAddress } from '../config/index.ts';

const { createHash, timingSafeEqual } = process.getBuiltinModule('node:crypto');
const { readFileSync } = process.getBuiltinModule('node:fs');

/** Checks an `Authorization` header; `undefined` header: not authenticated. */
export interface AdminAuth {
  check(authorization: string | undefined): Promise<boolean>;
  /** The `WWW-Authenticate` challenges of a 401 (Basic first: browsers prompt for it). */
  readonly challenges: readonly string[];
}

// A bcrypt comparison costs ~50–100 ms at cost 10; the dashboard's page, its event stream and
// every action would each pay it. Credentials that passed are remembered by their SHA-256.
const VERIFIED_MAX = 64;
// Compared against when the user is unknown, so a wrong name takes as long as a wrong password.
/** bcryptjs is loaded by the first password check: a Bellhop without api.auth users never loads it. */
let bcryptjs: Promise<typeof Bcrypt> | undefined;
const bcrypt = (): Promise<typeof Bcrypt> => (bcryptjs ??= import('bcryptjs').then((m) => m.default));

const DUMMY_HASH = '$2b$10$1bQ4Y3VXAnetZfRtjKvRH.aS2lDDhPhwuUIWmtPCqHwooWozOYYlO';

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Constant-time string comparison (both sides hashed first, so lengths leak nothing). */
function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

/** Reads the token file (trimmed; an empty file is refused) and builds the checker. */
export function loadAdminAuth(cfg: ApiAuthConfig): AdminAuth {
  let token: string | undefined;
  if (cfg.tokenFile !== undefined) {
    token = readFileSync(cfg.tokenFile, 'utf8').trim();
    if (token === '') throw new Error(`api.auth.token_file ${cfg.tokenFile} is empty`);
  }
  return createAdminAuth({ token, users: cfg.users });
}

export function createAdminAuth(opts: { token?: string | undefined; users: readonly { name: string; hash: string }[] }): AdminAuth {
  const { token } = opts;
  const users = new Map(opts.users.map((u) => [u.name, u.hash.replace(/^\$2y\$/, '$2b$')]));
  const verified = new Set<string>();
  const remember = (key: string): void => {
    if (verified.size >= VERIFIED_MAX) verified.clear();
    verified.add(key);
  };
  return {
    challenges: ['Basic realm="Bellhop admin", charset="UTF-8"', 'Bearer realm="Bellhop admin"'],
    async check(header) {
      if (header === undefined) return false;
      const space = header.indexOf(' ');
      const scheme = header.slice(0, space < 0 ? header.length : space).toLowerCase();
      const value = space < 0 ? '' : header.slice(space + 1).trim();
      if (scheme === 'bearer') return token !== undefined && value !== '' && sameSecret(value, token);
      if (scheme !== 'basic') return false;
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return false;
      const name = decoded.slice(0, colon);
      const password = decoded.slice(colon + 1);
      if (token !== undefined && password !== '' && sameSecret(password, token)) return true;
      const key = sha256(decoded).toString('hex');
      if (verified.has(key)) return true;
      const hash = users.get(name);
      const ok = await (await bcrypt()).compare(password, hash ?? DUMMY_HASH);
      if (ok && hash !== undefined) {
        remember(key);
        return true;
      }
      return false;
    },
  };
}

/** Whether a listen address is reachable from this machine only (127/8, ::1, localhost). */
export function isLoopbackListen(addr: ListenAddress | undefined): boolean {
  const host = addr?.host;
  if (host === undefined) return false;
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}
