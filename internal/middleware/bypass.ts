// `bypass` on every middleware: rules that let a request skip it. `path <glob>` (also GoDoxy's
// `path glob(<glob>)`) matches the path without its query, `*` standing for any run of
// characters; `remote <CIDR or IP>` matches the real client IP (pkg/realip ranges). Any rule
// matching skips the middleware.
import { parseTrustedProxies, RealIpError } from '../../pkg/realip/index.ts';

export type BypassTest = (path: string, clientIp: string) => boolean;

export type BypassResult = { ok: true; test: BypassTest | undefined } | { ok: false; message: string };

function globToRegExp(glob: string): RegExp {
  const body = glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${body}$`);
}

/** Compiles the rules; `test` is undefined when there are none (nothing to check per request). */
export function compileBypass(rules: readonly string[]): BypassResult {
  const paths: RegExp[] = [];
  const remotes: string[] = [];
  for (const raw of rules) {
    const rule = raw.trim();
    const m = /^(path|remote)\s+(.+)$/i.exec(rule);
    if (m === null) return { ok: false, message: `bypass rule "${rule}": expected "path <glob>" or "remote <CIDR>"` };
    const kind = (m[1] ?? '').toLowerCase();
    let arg = (m[2] ?? '').trim();
    const g = /^glob\((.*)\)$/.exec(arg);
    if (g !== null) arg = (g[1] ?? '').trim();
    if (kind === 'path') {
      if (!arg.startsWith('/')) return { ok: false, message: `bypass rule "${rule}": a path starts with /` };
      paths.push(globToRegExp(arg));
    } else {
      remotes.push(arg);
    }
  }
  if (paths.length === 0 && remotes.length === 0) return { ok: true, test: undefined };
  let ranges;
  try {
    ranges = parseTrustedProxies(remotes);
  } catch (err) {
    if (err instanceof RealIpError) return { ok: false, message: `bypass rule: ${err.message}` };
    throw err;
  }
  return {
    ok: true,
    test(path, clientIp) {
      if (!ranges.isEmpty && ranges.contains(clientIp)) return true;
      if (paths.length === 0) return false;
      const q = path.indexOf('?');
      const p = q === -1 ? path : path.slice(0, q);
      return paths.some((re) => re.test(p));
    },
  };
}
