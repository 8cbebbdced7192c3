// Whether the config's access log files can be opened (docs/access-log.md), for the start-up
// check in main.ts and for `bellhop check`: `entrypoint.access_log` and every static route's.
// Labels' access logs appear at run time; a file of theirs that cannot be opened is logged.
import { resolve } from 'node:path';
import { probeLogPath } from '../../internal/accesslog/index.ts';
import type { Config } from '../../internal/config/index.ts';

export interface AccessLogPathProblem {
  key: string;
  path: string;
  message: string;
}

export function accessLogProblems(config: Config, cwd: string = process.cwd()): AccessLogPathProblem[] {
  const out: AccessLogPathProblem[] = [];
  const check = (key: string, path: string | undefined): void => {
    if (path === undefined) return;
    const abs = resolve(cwd, path);
    const problem = probeLogPath(abs);
    if (problem !== undefined) out.push({ key, path: abs, message: problem });
  };
  check('entrypoint.access_log.path', config.entrypoint.accessLog?.path);
  for (const [name, r] of Object.entries(config.routes)) check(`routes.${name}.access_log.path`, r.accessLog?.path);
  return out;
}
