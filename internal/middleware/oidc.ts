// oidc (docs/middlewares.md#oidc): Bellhop signs visitors in at an OpenID Connect provider
// (Authentik, Keycloak, Pocket ID, Authelia, …) itself, with the authorization code flow,
// PKCE (S256), state and nonce, through openid-client. A request without a valid session
// cookie is sent to the provider's login (GET/HEAD for a page) or refused with 401 (anything
// else); the provider sends the browser back to the reserved callback path, where Bellhop
// exchanges the code, checks the ID token and the allow lists, sets a sealed session cookie
// that expires with the ID token, and redirects to the page first asked for. Signed-in
// requests go on with the identity in Remote-User/-Email/-Name/-Groups and X-Forwarded-User/
// -Email (client-sent copies removed) and without Bellhop's cookies.
//
// Options as GoDoxy's (research/godoxy.md; internal/net/gphttp/middleware/oidc.go):
// issuer_url, client_id, client_secret, scopes (default openid, profile, email, groups),
// allowed_users (matched against preferred_username), allowed_groups (the `groups` claim); at
// least one allow list. GoDoxy falls back to its global OIDC_* environment; Bellhop has no
// global OIDC settings, so issuer_url, client_id and client_secret are required here.
// Differences: the callback and logout paths are /.bellhop/oidc/callback and
// /.bellhop/oidc/logout (GoDoxy's /auth/callback and /auth/logout are common application
// paths), and the session cookie holds Bellhop's sealed summary of the ID token, not the token.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type * as OpenIdClient from 'openid-client';
import { sendOidcError } from './oidc-errors.ts';
import type { OidcErrorCode } from './oidc-errors.ts';
import { CookieSealer, cookieTag, fallbackSecret, readCookies, setCookie, stripCookies } from './oidc-session.ts';
import type { Middleware, MiddlewareDeps, MiddlewareFactory, MiddlewareProblem, MiddlewareSpec, MiddlewareVerdict, RequestFacts } from './middleware.ts';

/**
 * openid-client (with oauth4webapi and jose: 14 files, ~200 KB of JavaScript) is loaded by the
 * first discovery, so a Bellhop without an oidc middleware never loads it.
 */
let loading: Promise<typeof OpenIdClient> | undefined;
/** Set once loaded: only its calls throw its error classes, so errorReason() needs no wait. */
let loaded: typeof OpenIdClient | undefined;
function openidClient(): Promise<typeof OpenIdClient> {
  return (loading ??= import('openid-client').then((m) => (loaded = m)));
}

/** Where the provider sends the browser back: register `<scheme>://<host>/.bellhop/oidc/callback`. */
export const OIDC_CALLBACK_PATH = '/.bellhop/oidc/callback';
/** Clears the session, then goes to the provider's end-session page when it has one. */
export const OIDC_LOGOUT_PATH = '/.bellhop/oidc/logout';
/** Every cookie this middleware sets starts with this; none of them reaches a member. */
export const OIDC_COOKIE_PREFIX = 'bellhop_oidc_';

const DEFAULT_SCOPES: readonly string[] = ['openid', 'profile', 'email', 'groups'];
/** Identity headers set for the member; a client's copies (also `_` spellings) are always removed. */
const IDENTITY_HEADERS: readonly string[] = ['Remote-User', 'Remote-Email', 'Remote-Name', 'Remote-Groups', 'X-Forwarded-User', 'X-Forwarded-Email'];
/** A login started must come back within this (GoDoxy: 5 minutes; providers' MFA can take longer). */
const FLOW_TTL_S = 600;
/** After a failed discovery, requests fail closed at once for this long, then discovery is tried again. */
const DISCOVERY_RETRY_MS = 5_000;
/** Each call to the provider (discovery, token, JWKS, userinfo). */
const PROVIDER_TIMEOUT_S = 10;
/** A browser keeps about 4 KiB a cookie. */
const MAX_COOKIE_VALUE = 3_800;
const STATE = /^[A-Za-z0-9_-]{16,128}$/;
/** Logins under way in one browser (tabs); past this the older ones are dropped, so the Cookie header stays small. */
const MAX_FLOWS = 4;

interface Options {
  readonly issuer: URL;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly scopes: readonly string[];
  readonly allowedUsers: readonly string[];
  readonly allowedGroups: readonly string[];
}

/** What the session cookie holds. */
interface Session {
  /** preferred_username ('' when the provider sent none). */
  readonly u: string;
  readonly s: string;
  readonly e?: string;
  readonly n?: string;
  readonly g: readonly string[];
  /** Expiry, seconds since epoch (the ID token's). */
  readonly x: number;
}

/** What a login-flow cookie holds (one cookie per state, so parallel logins in tabs do not clash). */
interface Flow {
  readonly st: string;
  readonly no: string;
  readonly v: string;
  /** Where to go after the login: an origin-form path on this host. */
  readonly r: string;
  readonly x: number;
}

function problem(spec: MiddlewareSpec, option: string, message: string): MiddlewareProblem {
  return { code: 'MIDDLEWARE_BAD_OPTION', key: `${spec.key}.${option}`, message };
}

/** A list option: a YAML list of strings, or one string separated by commas or spaces (a label value). */
function stringList(value: unknown): string[] | undefined {
  if (typeof value === 'string') return value.split(/[\s,]+/).filter((s) => s !== '');
  if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number')) {
    return value.map((s) => String(s).trim()).filter((s) => s !== '');
  }
  return undefined;
}

function requiredString(spec: MiddlewareSpec, option: string, problems: MiddlewareProblem[]): string {
  const value = spec.options[option];
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string' || value.trim() === '') {
    problems.push(problem(spec, option, `oidc needs ${option}`));
    return '';
  }
  return value.trim();
}

function parseOptions(spec: MiddlewareSpec): Options | MiddlewareProblem[] {
  const problems: MiddlewareProblem[] = [];
  const issuerText = requiredString(spec, 'issuer_url', problems);
  let issuer: URL | undefined;
  if (issuerText !== '') {
    try {
      issuer = new URL(issuerText);
      if ((issuer.protocol !== 'https:' && issuer.protocol !== 'http:') || issuer.search !== '' || issuer.hash !== '' || issuer.username !== '') throw new Error('not an issuer');
    } catch {
      problems.push(problem(spec, 'issuer_url', 'issuer_url must be the provider\'s issuer URL, e.g. https://auth.example.com/application/o/<app>/ (Authentik) or https://kc.example.com/realms/<realm> (Keycloak)'));
    }
  }
  const clientId = requiredString(spec, 'client_id', problems);
  const clientSecret = requiredString(spec, 'client_secret', problems);
  const lists: Record<string, string[]> = {};
  for (const option of ['scopes', 'allowed_users', 'allowed_groups']) {
    const raw = spec.options[option];
    if (raw === undefined || raw === null) {
      lists[option] = [];
      continue;
    }
    const list = stringList(raw);
    if (list === undefined) problems.push(problem(spec, option, `${option} must be a list of names`));
    lists[option] = list ?? [];
  }
  const scopes = lists['scopes']!.length > 0 ? lists['scopes']! : DEFAULT_SCOPES;
  if (!scopes.includes('openid')) problems.push(problem(spec, 'scopes', 'scopes must include openid'));
  const allowedUsers = lists['allowed_users']!;
  const allowedGroups = lists['allowed_groups']!;
  if (allowedUsers.length === 0 && allowedGroups.length === 0 && !problems.some((p) => p.key.endsWith('allowed_users') || p.key.endsWith('allowed_groups'))) {
    problems.push(problem(spec, 'allowed_users', 'oidc needs allowed_users or allowed_groups: without one nobody could be let in'));
  }
  if (problems.length > 0 || issuer === undefined) return problems;
  return { issuer, clientId, clientSecret, scopes, allowedUsers, allowedGroups };
}

/** client_secret_basic (OpenID's default) unless the provider says it only takes client_secret_post. */
function clientAuth(client: typeof OpenIdClient, secret: string): OpenIdClient.ClientAuth {
  const basic = client.ClientSecretBasic(secret);
  const post = client.ClientSecretPost(secret);
  return (as, c, body, headers) => {
    const methods = as.token_endpoint_auth_methods_supported;
    const usePost = Array.isArray(methods) && !methods.includes('client_secret_basic') && methods.includes('client_secret_post');
    (usePost ? post : basic)(as, c, body, headers);
  };
}

function foldName(name: string): string {
  return name.toLowerCase().replaceAll('_', '-');
}

/** A claim value as a header value: UTF-8 bytes as latin1 characters, no control characters. */
function headerValue(text: string): string {
  let out = '';
  for (const ch of Buffer.from(text, 'utf8').toString('latin1')) if (!isControl(ch)) out += ch;
  return out;
}

function isControl(ch: string): boolean {
  const c = ch.charCodeAt(0);
  return c < 0x20 || c === 0x7f;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

function asSession(value: unknown): Session | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v['u'] !== 'string' || typeof v['s'] !== 'string' || typeof v['x'] !== 'number' || !isStringArray(v['g'])) return undefined;
  if (v['e'] !== undefined && typeof v['e'] !== 'string') return undefined;
  if (v['n'] !== undefined && typeof v['n'] !== 'string') return undefined;
  return v as unknown as Session;
}

function asFlow(value: unknown): Flow | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  for (const k of ['st', 'no', 'v', 'r']) if (typeof v[k] !== 'string') return undefined;
  if (typeof v['x'] !== 'number') return undefined;
  return v as unknown as Flow;
}

/**
 * Where a login may return to: an origin-form path on this host. Anything that a browser could
 * read as another origin (`//evil`, `/\evil`, a scheme, control characters) becomes `/`.
 */
export function safeReturnPath(path: string): string {
  if (!path.startsWith('/') || path.startsWith('//') || path.startsWith('/\\')) return '/';
  if (path.split('?')[0]!.includes('\\') || path.includes(' ') || [...path].some(isControl)) return '/';
  try {
    const probe = new URL(path, 'http://bellhop.invalid');
    if (probe.origin !== 'http://bellhop.invalid') return '/';
  } catch {
    return '/';
  }
  return path;
}

function claimString(claims: Record<string, unknown>, name: string): string | undefined {
  const v = claims[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function claimGroups(claims: Record<string, unknown>): string[] | undefined {
  const v = claims['groups'];
  if (isStringArray(v)) return v;
  if (typeof v === 'string' && v !== '') return [v];
  return undefined;
}

function errorReason(err: unknown): string {
  if (loaded !== undefined && (err instanceof loaded.ResponseBodyError || err instanceof loaded.AuthorizationResponseError)) {
    return err.error_description !== undefined ? `${err.error}: ${err.error_description}` : err.error;
  }
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
  }
  return String(err);
}

class OidcMiddleware implements Middleware {
  readonly name = 'oidc';
  readonly #opts: Options;
  readonly #deps: MiddlewareDeps;
  readonly #sealer: CookieSealer;
  readonly #sessionCookie: string;
  readonly #flowCookiePrefix: string;
  #config: OpenIdClient.Configuration | undefined;
  #pending: Promise<OpenIdClient.Configuration | undefined> | undefined;
  #failedAt = Number.NEGATIVE_INFINITY;
  #failure = '';

  constructor(opts: Options, deps: MiddlewareDeps) {
    this.#opts = opts;
    this.#deps = deps;
    const context = `${opts.issuer.href}\n${opts.clientId}`;
    this.#sealer = new CookieSealer(deps.secret ?? fallbackSecret(), context);
    const tag = cookieTag(context);
    this.#sessionCookie = `${OIDC_COOKIE_PREFIX}${tag}`;
    this.#flowCookiePrefix = `${OIDC_COOKIE_PREFIX}${tag}_flow_`;
  }

  async handle(req: IncomingMessage, res: ServerResponse, facts: RequestFacts): Promise<MiddlewareVerdict> {
    try {
      return await this.#handle(req, res, facts);
    } catch (err) {
      // Never a yes by accident: an unexpected failure answers, and nothing behind runs.
      sendOidcError(req, res, 'MIDDLEWARE_OIDC_LOGIN_FAILED', undefined, { reason: errorReason(err) });
      return 'answered';
    }
  }

  async #handle(req: IncomingMessage, res: ServerResponse, facts: RequestFacts): Promise<MiddlewareVerdict> {
    const q = facts.path.indexOf('?');
    const pathname = q === -1 ? facts.path : facts.path.slice(0, q);
    const cookies = readCookies(req.headers.cookie);
    if (pathname === OIDC_CALLBACK_PATH) {
      await this.#callback(req, res, facts, cookies, q === -1 ? '' : facts.path.slice(q + 1));
      return 'answered';
    }
    if (pathname === OIDC_LOGOUT_PATH) {
      await this.#logout(req, res, facts);
      return 'answered';
    }
    const raw = cookies.get(this.#sessionCookie);
    const session = raw === undefined ? undefined : asSession(this.#sealer.open(this.#sessionCookie, facts.host, raw));
    if (session !== undefined && session.x * 1000 > this.#deps.now()) {
      if (!this.#allowed(session.u, session.g)) {
        sendOidcError(req, res, 'MIDDLEWARE_OIDC_FORBIDDEN', undefined, { user: session.u || session.s, logout: OIDC_LOGOUT_PATH });
        return 'answered';
      }
      this.#passIdentity(facts, session);
      return 'continue';
    }
    // No session, an expired one, or a cookie that does not open (tampered, another key): sign in again.
    const clear = raw === undefined ? [] : ['set-cookie', setCookie(this.#sessionCookie, '', { maxAge: 0, secure: facts.secure })];
    const method = req.method ?? 'GET';
    const upgrade = req.headers.upgrade !== undefined || method === 'CONNECT';
    if ((method !== 'GET' && method !== 'HEAD') || upgrade || !wantsPage(req)) {
      sendOidcError(req, res, 'MIDDLEWARE_OIDC_LOGIN_REQUIRED', clear);
      return 'answered';
    }
    const flows = [...cookies.keys()].filter((name) => name.startsWith(this.#flowCookiePrefix));
    if (flows.length >= MAX_FLOWS) {
      for (const name of flows) clear.push('set-cookie', setCookie(name, '', { maxAge: 0, secure: facts.secure }));
    }
    await this.#startLogin(req, res, facts, clear);
    return 'answered';
  }

  #allowed(user: string, groups: readonly string[]): boolean {
    if (user !== '' && this.#opts.allowedUsers.includes(user)) return true;
    return groups.some((g) => this.#opts.allowedGroups.includes(g));
  }

  /** A bypassed request (docs/middlewares.md#bypass) reaches the member without a forged identity or Bellhop's cookies. */
  onBypass(facts: RequestFacts): void {
    stripIdentity(facts.upstreamHeaders);
  }

  /** The callback and logout paths are never bypassed: they are Bellhop's, not the member's. */
  owns(pathname: string): boolean {
    return pathname === OIDC_CALLBACK_PATH || pathname === OIDC_LOGOUT_PATH;
  }

  /** The member sees who is signed in, never the client's own identity headers nor Bellhop's cookies. */
  #passIdentity(facts: RequestFacts, session: Session): void {
    const up = facts.upstreamHeaders;
    stripIdentity(up);
    const user = session.u !== '' ? session.u : session.s;
    up.push('Remote-User', headerValue(user), 'X-Forwarded-User', headerValue(user));
    if (session.e !== undefined) up.push('Remote-Email', headerValue(session.e), 'X-Forwarded-Email', headerValue(session.e));
    if (session.n !== undefined) up.push('Remote-Name', headerValue(session.n));
    if (session.g.length > 0) up.push('Remote-Groups', headerValue(session.g.join(',')));
  }

  /** The provider's metadata: discovered on first use, shared by concurrent requests, retried after a failure. */
  async #discover(): Promise<OpenIdClient.Configuration | undefined> {
    if (this.#config !== undefined) return this.#config;
    if (this.#pending !== undefined) return this.#pending;
    if (this.#deps.now() - this.#failedAt < DISCOVERY_RETRY_MS) return undefined;
    const { issuer, clientId, clientSecret } = this.#opts;
    this.#pending = openidClient()
      .then((client) => {
        const execute = issuer.protocol === 'http:' ? [client.allowInsecureRequests, client.enableNonRepudiationChecks] : [client.enableNonRepudiationChecks];
        return client.discovery(issuer, clientId, { client_secret: clientSecret }, clientAuth(client, clientSecret), { execute, timeout: PROVIDER_TIMEOUT_S });
      })
      .then((config) => {
        this.#config = config;
        return config;
      }, (err: unknown) => {
        this.#failedAt = this.#deps.now();
        this.#failure = errorReason(err);
        return undefined;
      })
      .finally(() => {
        this.#pending = undefined;
      });
    return this.#pending;
  }

  #unreachable(req: IncomingMessage, res: ServerResponse, headers: readonly string[]): void {
    sendOidcError(req, res, 'MIDDLEWARE_OIDC_PROVIDER_UNREACHABLE', headers, { issuer: this.#opts.issuer.href, reason: this.#failure });
  }

  #redirectUri(req: IncomingMessage, facts: RequestFacts): string {
    // The authority as the client wrote it (with its port), when it names the routed host.
    const authority = req.headers.host ?? req.headers[':authority'];
    let host = facts.host;
    if (typeof authority === 'string' && /^[A-Za-z0-9.\-[\]:]+$/.test(authority)) {
      const name = authority.startsWith('[') ? authority.slice(0, authority.indexOf(']') + 1) : authority.split(':')[0]!;
      if (name.toLowerCase() === facts.host || name.toLowerCase() === `[${facts.host}]`) host = authority.toLowerCase();
    }
    return `${facts.secure ? 'https' : 'http'}://${host}${OIDC_CALLBACK_PATH}`;
  }

  async #startLogin(req: IncomingMessage, res: ServerResponse, facts: RequestFacts, headers: string[]): Promise<void> {
    const config = await this.#discover();
    if (config === undefined) {
      this.#unreachable(req, res, headers);
      return;
    }
    const client = await openidClient(); // loaded by the discovery
    const state = client.randomState();
    const nonce = client.randomNonce();
    const verifier = client.randomPKCECodeVerifier();
    const flow: Flow = { st: state, no: nonce, v: verifier, r: safeReturnPath(facts.path), x: Math.floor(this.#deps.now() / 1000) + FLOW_TTL_S };
    const name = this.#flowCookiePrefix + state;
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.#redirectUri(req, facts),
      scope: this.#opts.scopes.join(' '),
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    res.writeHead(302, [
      ...headers,
      'set-cookie', setCookie(name, this.#sealer.seal(name, facts.host, flow), { maxAge: FLOW_TTL_S, secure: facts.secure }),
      'location', url.href,
      'cache-control', 'no-store',
      'content-length', '0',
    ]);
    res.end();
  }

  async #callback(req: IncomingMessage, res: ServerResponse, facts: RequestFacts, cookies: Map<string, string>, query: string): Promise<void> {
    const params = new URLSearchParams(query);
    const state = params.get('state') ?? '';
    const name = this.#flowCookiePrefix + state;
    const raw = STATE.test(state) ? cookies.get(name) : undefined;
    const flow = raw === undefined ? undefined : asFlow(this.#sealer.open(name, facts.host, raw));
    // The flow cookie is single-use: cleared on every callback answer.
    const clear = raw === undefined ? [] : ['set-cookie', setCookie(name, '', { maxAge: 0, secure: facts.secure })];
    if (flow === undefined || flow.st !== state || flow.x * 1000 <= this.#deps.now()) {
      sendOidcError(req, res, 'MIDDLEWARE_OIDC_BAD_STATE', clear);
      return;
    }
    const providerError = params.get('error');
    if (providerError !== null) {
      const code: OidcErrorCode = providerError === 'access_denied' ? 'MIDDLEWARE_OIDC_DENIED' : 'MIDDLEWARE_OIDC_LOGIN_FAILED';
      sendOidcError(req, res, code, clear, { reason: params.get('error_description') ?? providerError });
      return;
    }
    const config = await this.#discover();
    if (config === undefined) {
      this.#unreachable(req, res, clear);
      return;
    }
    const client = await openidClient();
    let claims: Record<string, unknown>;
    let accessToken: string;
    try {
      const tokens = await client.authorizationCodeGrant(config, new URL(`${this.#redirectUri(req, facts)}?${query}`), {
        pkceCodeVerifier: flow.v,
        expectedState: state,
        expectedNonce: flow.no,
        idTokenExpected: true,
      });
      const idClaims = tokens.claims();
      if (idClaims === undefined) throw new Error('the token answer has no ID token');
      claims = { ...idClaims };
      accessToken = tokens.access_token;
    } catch (err) {
      sendOidcError(req, res, 'MIDDLEWARE_OIDC_LOGIN_FAILED', clear, { reason: errorReason(err) });
      return;
    }
    const sub = claimString(claims, 'sub') ?? '';
    // Providers that keep profile claims out of the ID token (oidc-provider's default, some
    // Keycloak setups) give them at the userinfo endpoint.
    if (claimString(claims, 'preferred_username') === undefined || claimGroups(claims) === undefined || claimString(claims, 'email') === undefined) {
      if (config.serverMetadata().userinfo_endpoint !== undefined) {
        try {
          const info = await client.fetchUserInfo(config, accessToken, sub);
          for (const [k, v] of Object.entries(info)) if (!(k in claims)) claims[k] = v;
        } catch {
          // The ID token's claims decide alone.
        }
      }
    }
    const user = claimString(claims, 'preferred_username') ?? '';
    const groups = claimGroups(claims) ?? [];
    const exp = typeof claims['exp'] === 'number' ? claims['exp'] : 0;
    if (!this.#allowed(user, groups)) {
      sendOidcError(req, res, 'MIDDLEWARE_OIDC_FORBIDDEN', clear, { user: user || sub, logout: OIDC_LOGOUT_PATH });
      return;
    }
    const email = claimString(claims, 'email');
    const fullName = claimString(claims, 'name');
    let session: Session = { u: user, s: sub, g: groups, x: exp, ...(email !== undefined ? { e: email } : {}), ...(fullName !== undefined ? { n: fullName } : {}) };
    let value = this.#sealer.seal(this.#sessionCookie, facts.host, session);
    if (value.length > MAX_COOKIE_VALUE) {
      // Too many groups for one cookie: keep those the allow list looks at.
      session = { ...session, g: groups.filter((g) => this.#opts.allowedGroups.includes(g)) };
      value = this.#sealer.seal(this.#sessionCookie, facts.host, session);
    }
    const maxAge = exp - Math.floor(this.#deps.now() / 1000);
    if (maxAge <= 0) {
      sendOidcError(req, res, 'MIDDLEWARE_OIDC_LOGIN_FAILED', clear, { reason: 'the ID token is already expired' });
      return;
    }
    res.writeHead(302, [
      ...clear,
      'set-cookie', setCookie(this.#sessionCookie, value, { maxAge, secure: facts.secure }),
      'location', safeReturnPath(flow.r),
      'cache-control', 'no-store',
      'content-length', '0',
    ]);
    res.end();
  }

  async #logout(req: IncomingMessage, res: ServerResponse, facts: RequestFacts): Promise<void> {
    const clear = ['set-cookie', setCookie(this.#sessionCookie, '', { maxAge: 0, secure: facts.secure }), 'cache-control', 'no-store'];
    const config = await this.#discover();
    if (config?.serverMetadata().end_session_endpoint !== undefined) {
      // Also end the provider's session, or the next visit signs straight back in.
      const client = await openidClient();
      const url = client.buildEndSessionUrl(config, { client_id: this.#opts.clientId });
      res.writeHead(302, [...clear, 'location', url.href, 'content-length', '0']);
      res.end();
      return;
    }
    const body = Buffer.from('<!doctype html><meta charset="utf-8"><title>Signed out</title><p>You are signed out of this service.</p>\n');
    res.writeHead(200, [...clear, 'content-type', 'text/html; charset=utf-8', 'content-length', String(body.length)]);
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}

/** Removes the identity headers (also `_` spellings) and every cookie of this middleware, in place. */
function stripIdentity(up: string[]): void {
  const names = new Set(IDENTITY_HEADERS.map(foldName));
  for (let i = up.length - 2; i >= 0; i -= 2) {
    if (names.has(foldName(up[i]!))) up.splice(i, 2);
  }
  stripCookies(up, OIDC_COOKIE_PREFIX);
}

/** A page load (not an API call): a login redirect makes sense only there, as in GoDoxy. */
function wantsPage(req: IncomingMessage): boolean {
  if (req.headers['x-requested-with'] !== undefined) return false;
  const accept = req.headers.accept;
  return accept === undefined || accept === '' || accept.includes('text/html') || accept.includes('*/*');
}

export const oidc: MiddlewareFactory = {
  name: 'oidc',
  options: ['issuer_url', 'client_id', 'client_secret', 'scopes', 'allowed_users', 'allowed_groups'],
  restrictsAccess: true,
  create(spec, deps) {
    const opts = parseOptions(spec);
    if (Array.isArray(opts)) return opts;
    return new OidcMiddleware(opts, deps);
  },
};
