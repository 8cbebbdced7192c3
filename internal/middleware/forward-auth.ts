// forward_auth (docs/middlewares.md#forward-auth-and-basic-auth): the protocol Authelia,
// Authentik and TinyAuth speak. For every request Bellhop asks the auth server with a GET that
// describes the request in X-Forwarded-Method/Proto/Host/Uri/For and carries the client's
// cookies and Authorization; a 2xx lets the request on, with the identity headers the auth
// server named (Remote-User, …); any other answer (302 to the login page, 401, 403) goes back
// to the client as it came. Fail closed: no answer from the auth server is never a yes.
//
// Options as GoDoxy's (research/godoxy.md, forwardauth.go): `route` (the auth server's route
// name, its usable member looked up per request through MiddlewareDeps.routeOrigin) +
// `auth_endpoint` (default /api/auth/nginx, TinyAuth's, as in GoDoxy), `headers` (default
// Remote-User, Remote-Name, Remote-Email, Remote-Groups). Bellhop adds `address`, a URL, for an
// auth server that is not a route.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { undici } from '../proxy/index.ts';
import { isToken, stripHopByHopObject } from '../../pkg/http/index.ts';
import { sendAuthError } from './auth-errors.ts';
import type { Middleware, MiddlewareFactory, MiddlewareProblem, MiddlewareSpec, MiddlewareVerdict, RequestFacts } from './middleware.ts';

/** GoDoxy's default identity headers; a client's copies of them are always removed. */
const IDENTITY_HEADERS: readonly string[] = ['Remote-User', 'Remote-Name', 'Remote-Email', 'Remote-Groups'];

// GoDoxy gives the auth call 5 s in all; here each phase gets 5 s.
const CONNECT_MS = 5_000;
const ANSWER_MS = 5_000;
// A refusal is relayed whole (a login page at most); anything larger is not an auth answer.
const MAX_ANSWER_BODY = 1 << 20;
// Client request headers the auth server decides with. Accept and X-Requested-With: Authelia
// answers 401 instead of a 302 to its login page for XHR/API clients.
const PASSED_HEADERS: readonly string[] = ['cookie', 'authorization', 'accept', 'user-agent', 'x-requested-with'];

// Framing and routing headers are the proxy's: an auth answer never sets them upstream.
const NEVER_COPIED = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer', 'expect', 'proxy-connection']);
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/**
 * Header name as a backend may read it: lower case, `_` as `-`. CGI-style backends (PHP-FPM,
 * Python WSGI behind some servers) turn both `Remote-User` and `Remote_User` into
 * HTTP_REMOTE_USER, so a forged underscore spelling must go too.
 */
function foldName(name: string): string {
  return name.toLowerCase().replaceAll('_', '-');
}

function problem(spec: MiddlewareSpec, option: string, message: string): MiddlewareProblem {
  return { code: 'MIDDLEWARE_BAD_OPTION', key: `${spec.key}.${option}`, message };
}

/** A list option: a YAML list of strings, or one comma-separated string (a label value). */
function stringList(value: unknown): string[] | undefined {
  if (typeof value === 'string') return value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.map((s) => s.trim()).filter((s) => s !== '');
  return undefined;
}

interface ForwardAuthTarget {
  /** The auth server's origin (`address`), or undefined with `route`. */
  readonly origin: string | undefined;
  /** The route whose member answers (`route`). */
  readonly route: string | undefined;
  /** Path and query of the auth endpoint. */
  readonly path: string;
}

/** GoDoxy's auth_endpoint default with `route` (TinyAuth's nginx endpoint). */
const GODOXY_AUTH_ENDPOINT = '/api/auth/nginx';
/** Pools kept for a route's members (its members change over time; older ones are closed). */
const MAX_ROUTE_POOLS = 4;

function parseTarget(spec: MiddlewareSpec, problems: MiddlewareProblem[]): ForwardAuthTarget | undefined {
  const { address, route, auth_endpoint: endpoint } = spec.options;
  if (route !== undefined && address !== undefined) {
    problems.push(problem(spec, 'route', 'give route (a Bellhop route name) or address (a URL), not both'));
    return undefined;
  }
  if (route !== undefined && (typeof route !== 'string' || route.trim() === '')) {
    problems.push(problem(spec, 'route', 'route must be the name of the auth server\'s route, e.g. tinyauth'));
    return undefined;
  }
  let path: string | undefined;
  if (endpoint !== undefined) {
    if (typeof endpoint !== 'string' || !endpoint.startsWith('/') || endpoint.startsWith('//') || /[\s#]/.test(endpoint)) {
      problems.push(problem(spec, 'auth_endpoint', 'auth_endpoint must be a path starting with one /, e.g. /api/authz/forward-auth'));
    } else {
      path = endpoint;
    }
  }
  if (address === undefined) {
    if (route === undefined) {
      problems.push(problem(spec, 'address', 'forward_auth needs address (the URL of the auth endpoint) or route (the auth server\'s route name)'));
      return undefined;
    }
    if (path === undefined && endpoint !== undefined) return undefined;
    return { origin: undefined, route: route.trim().toLowerCase(), path: path ?? GODOXY_AUTH_ENDPOINT };
  }
  if (typeof address !== 'string') {
    problems.push(problem(spec, 'address', 'address must be a URL such as http://authelia:9091/api/authz/forward-auth'));
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    problems.push(problem(spec, 'address', `address ${JSON.stringify(address)} is not a URL (http://host:port/path)`));
    return undefined;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '' || url.username !== '' || url.password !== '' || url.hash !== '') {
    problems.push(problem(spec, 'address', 'address must be an http:// or https:// URL with a host and no user, password or #fragment'));
    return undefined;
  }
  // GoDoxy sets the target URL's path to auth_endpoint; with a full address, the address's own
  // path and query are used unless auth_endpoint replaces them.
  return { origin: url.origin, route: undefined, path: path ?? `${url.pathname}${url.search}` };
}

function headerValues(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** Removes every header whose folded name is in `names`, in place. */
function removeHeaders(headers: string[], names: ReadonlySet<string>): void {
  let w = 0;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if (names.has(foldName(headers[i]!))) continue;
    headers[w] = headers[i]!;
    headers[w + 1] = headers[i + 1]!;
    w += 2;
  }
  headers.length = w;
}

function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

class ForwardAuth implements Middleware {
  readonly name = 'forward_auth';
  readonly #origin: string | undefined;
  readonly #route: string | undefined;
  readonly #routeOrigin: ((route: string) => string | undefined) | undefined;
  /** Origin → pool; one for `address`, the route's recent member origins for `route`. */
  readonly #pools = new Map<string, undici.Pool>();
  readonly #path: string;
  /** Names copied from a 2xx auth answer, as configured. */
  readonly #copied: readonly string[];
  /** Folded names removed from the client's request before anything is copied. */
  readonly #stripped: ReadonlySet<string>;

  constructor(target: ForwardAuthTarget, copied: readonly string[], routeOrigin: ((route: string) => string | undefined) | undefined) {
    this.#path = target.path;
    this.#copied = copied;
    this.#stripped = new Set([...IDENTITY_HEADERS, ...copied].map(foldName));
    this.#origin = target.origin;
    this.#route = target.route;
    this.#routeOrigin = routeOrigin;
  }

  /** The pool for the auth server now: `address`'s, or one of the route's usable members (undefined: none). */
  #pool(): undici.Pool | undefined {
    const origin = this.#origin ?? (this.#route === undefined ? undefined : this.#routeOrigin?.(this.#route));
    if (origin === undefined) return undefined;
    let pool = this.#pools.get(origin);
    if (pool !== undefined) return pool;
    pool = new undici.Pool(origin, {
      connections: 32,
      connect: { timeout: CONNECT_MS },
      headersTimeout: ANSWER_MS,
      bodyTimeout: ANSWER_MS,
      // Below Node's and the usual servers' keep-alive defaults, so Bellhop closes first.
      keepAliveTimeout: 4_000,
    });
    // Connection failures also reject the request they belong to, which answers 502/504.
    pool.on('connectionError', () => undefined);
    this.#pools.set(origin, pool);
    if (this.#pools.size > MAX_ROUTE_POOLS) {
      const [oldest, old] = this.#pools.entries().next().value!;
      this.#pools.delete(oldest);
      old.close().catch(() => undefined);
    }
    return pool;
  }

  /** A bypassed request (docs/middlewares.md#bypass) still loses the client's copies of the identity headers. */
  onBypass(facts: RequestFacts): void {
    removeHeaders(facts.upstreamHeaders, this.#stripped);
  }

  async handle(req: IncomingMessage, res: ServerResponse, facts: RequestFacts): Promise<MiddlewareVerdict> {
    const abort = new AbortController();
    const onClose = (): void => abort.abort();
    res.once('close', onClose);
    try {
      return await this.#ask(req, res, facts, abort.signal);
    } catch (err) {
      if (abort.signal.aborted || res.destroyed) return 'answered';
      sendAuthError(req, res, TIMEOUT_CODES.has(errorCode(err) ?? '') ? 'MIDDLEWARE_AUTH_TIMEOUT' : 'MIDDLEWARE_AUTH_UNREACHABLE');
      return 'answered';
    } finally {
      res.off('close', onClose);
    }
  }

  async #ask(req: IncomingMessage, res: ServerResponse, facts: RequestFacts, signal: AbortSignal): Promise<MiddlewareVerdict> {
    const proto = facts.secure ? 'https' : 'http';
    // The authority as the client wrote it (with a port on a non-default one), so the login
    // page's redirect back lands where the client was.
    const authority = req.headers.host ?? req.headers[':authority'];
    const host = typeof authority === 'string' && authority !== '' ? authority : facts.host;
    const method = req.method ?? 'GET';
    const headers: Record<string, string> = {
      'x-forwarded-method': method,
      'x-forwarded-proto': proto,
      'x-forwarded-host': host,
      'x-forwarded-uri': facts.path,
      'x-forwarded-for': facts.clientIp,
      // nginx auth_request style (Authelia /api/authz/auth-request, TinyAuth /api/auth/nginx).
      'x-original-method': method,
      'x-original-url': `${proto}://${host}${facts.path}`,
    };
    for (const name of PASSED_HEADERS) {
      const v = req.headers[name];
      if (typeof v === 'string') headers[name] = v;
    }
    const pool = this.#pool();
    if (pool === undefined) {
      // `route` names no route with a usable member (asleep, unhealthy, gone): fail closed
      sendAuthError(req, res, 'MIDDLEWARE_AUTH_UNREACHABLE');
      return 'answered';
    }
    const answer = await pool.request({ path: this.#path, method: 'GET', headers, signal });
    // The whole answer is read before it counts: a yes cut off mid-body is no yes (fail closed).
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of answer.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_ANSWER_BODY) {
        answer.body.destroy();
        sendAuthError(req, res, 'MIDDLEWARE_AUTH_BAD_ANSWER');
        return 'answered';
      }
      chunks.push(chunk);
    }
    const status = answer.statusCode;
    if (status >= 200 && status < 300) {
      const up = facts.upstreamHeaders;
      removeHeaders(up, this.#stripped);
      for (const name of this.#copied) {
        for (const v of headerValues(answer.headers[name.toLowerCase()])) up.push(name, v);
      }
      return 'continue';
    }
    if (res.destroyed) return 'answered';
    const body = Buffer.concat(chunks);
    const out = stripHopByHopObject(answer.headers);
    delete out['content-length'];
    out['content-length'] = String(body.length);
    res.writeHead(status, out);
    res.end(method === 'HEAD' ? undefined : body);
    return 'answered';
  }

  close(): void {
    for (const pool of this.#pools.values()) pool.close().catch(() => undefined);
    this.#pools.clear();
  }
}

/** forward_auth: ask an Authelia/Authentik/TinyAuth endpoint about every request. */
export const forwardAuth: MiddlewareFactory = {
  name: 'forward_auth',
  options: ['address', 'route', 'auth_endpoint', 'headers'],
  restrictsAccess: true,
  create(spec, deps) {
    const problems: MiddlewareProblem[] = [];
    const target = parseTarget(spec, problems);
    let copied: string[] = [...IDENTITY_HEADERS];
    if (spec.options['headers'] !== undefined) {
      const list = stringList(spec.options['headers']);
      if (list === undefined) {
        problems.push(problem(spec, 'headers', 'headers must be a list of header names, e.g. [Remote-User, Remote-Groups]'));
      } else {
        const bad = list.filter((n) => !isToken(n) || NEVER_COPIED.has(foldName(n)));
        if (bad.length > 0) problems.push(problem(spec, 'headers', `not header names an auth server may set: ${bad.map((n) => JSON.stringify(n)).join(', ')}`));
        copied = list;
      }
    }
    if (problems.length > 0 || target === undefined) return problems;
    // Labels are parsed on every Docker change: checking them opens no connection pool.
    if (deps.checkOnly === true) return { name: 'forward_auth', handle: () => { throw new Error('forward_auth was only checked, not built'); } };
    const routeOrigin = deps.routeOrigin === undefined ? undefined : (route: string): string | undefined => deps.routeOrigin?.(route);
    return new ForwardAuth(target, copied, routeOrigin);
  },
};
