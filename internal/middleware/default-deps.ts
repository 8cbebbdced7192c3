// The real clock and file system for middlewares; tests pass their own MiddlewareDeps.
import { readFileSync } from 'node:fs';
import type { MiddlewareDeps } from './middleware.ts';

export const DEFAULT_MIDDLEWARE_DEPS: MiddlewareDeps = {
  now: () => Date.now(),
  readFile: (path) => readFileSync(path, 'utf8'),
};
