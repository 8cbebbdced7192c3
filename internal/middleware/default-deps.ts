// The real clock and file system for middlewares; tests pass their own MiddlewareDeps.
import type { MiddlewareDeps } from './middleware.ts';

const { hkdfSync } = process.getBuiltinModule('node:crypto');
const { readFileSync } = process.getBuiltinModule('node:fs');

export const DEFAULT_MIDDLEWARE_DEPS: MiddlewareDeps = {
  now: () => Date.now(),
  readFile: (path) => readFileSync(path, 'utf8'),
};

/**
 * The deps Bellhop runs with: the real clock and files, and a secret derived (HKDF-SHA256) from
 * the sticky key (sticky.secret_file), so oidc's sealed cookies survive restarts without a second
 * key file, and no middleware ever holds the sticky-cookie key itself.
 */
export function middlewareDeps(stickySecret: Uint8Array): MiddlewareDeps {
  const secret = new Uint8Array(hkdfSync('sha256', stickySecret, 'bellhop middleware secret v1', '', 32));
  return { ...DEFAULT_MIDDLEWARE_DEPS, secret };
}
