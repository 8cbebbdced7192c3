// A real OpenID provider for tests (oidc-provider, the certified Node implementation) on loopback
// with one static client and users that carry groups, and a cookie-keeping "browser" that drives
// the whole login: redirects followed by hand, the provider's dev login and consent forms posted.
// Used by internal/middleware/oidc.test.ts (the middleware alone) and the integration tests that
// run oidc through a whole Bellhop.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export const CLIENT_ID = 'bellhop-app';
export const CLIENT_SECRET = 'a-long-client-secret-for-tests-0123456789';

export interface User { name: string; groups: string[] }
export const USERS: Record<string, User> = {
  alice: { name: 'Alice Liddell', groups: ['admins'] },
  bob: { name: 'Bob Ross', groups: ['family', 'painters'] },
  carol: { name: 'Carol Danvers', groups: ['guests'] },
};

export function listen(server: http.Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

export function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A real provider on loopback whose one client may come back to `redirectUri`. */
export async function startProvider(redirectUri: string, port = 0): Promise<{ server: http.Server; issuer: string }> {
  const server = http.createServer();
  const bound = await listen(server, port);
  const issuer = `http://127.0.0.1:${bound}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uris: [redirectUri],
      post_logout_redirect_uris: [],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    }],
    claims: { openid: ['sub'], profile: ['preferred_username', 'name'], email: ['email'], groups: ['groups'] },
    scopes: ['openid', 'profile', 'email', 'groups'],
    cookies: { keys: ['oidc-test-cookie-key'] },
    findAccount(_ctx: unknown, id: string) {
      const user = USERS[id];
      if (user === undefined) return undefined;
      return {
        accountId: id,
        claims: () => ({ sub: id, preferred_username: id, name: user.name, email: `${id}@example.test`, groups: user.groups }),
      };
    },
  });
  server.on('request', provider.callback());
  return { server, issuer };
}

export interface Answer { status: number; headers: http.IncomingHttpHeaders; body: string; url: URL }

/** A browser's cookie jar and requests: cookies per host:port, redirects followed by the caller. */
export class Browser {
  readonly jar = new Map<string, Map<string, string>>();
  readonly frontPort: number;
  readonly appHost: string;
  constructor(frontPort: number, appHost = 'app.test') {
    this.frontPort = frontPort;
    this.appHost = appHost;
  }

  cookies(host: string): Map<string, string> {
    let c = this.jar.get(host);
    if (c === undefined) this.jar.set(host, c = new Map<string, string>());
    return c;
  }

  request(url: URL, opts: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
    const jar = this.cookies(url.host);
    const headers: Record<string, string> = { accept: 'text/html,application/xhtml+xml', ...opts.headers };
    if (jar.size > 0) headers['cookie'] = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (opts.body !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers['content-length'] = String(Buffer.byteLength(opts.body));
    }
    headers['host'] = url.host;
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: url.port, method: opts.method ?? 'GET', path: url.pathname + url.search, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          for (const line of res.headers['set-cookie'] ?? []) {
            const [pair, ...attrs] = line.split(';');
            const eq = pair!.indexOf('=');
            const name = pair!.slice(0, eq).trim();
            const value = pair!.slice(eq + 1).trim();
            const cleared = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === '';
            if (cleared) jar.delete(name);
            else jar.set(name, value);
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString(), url });
        });
      });
      req.on('error', reject);
      req.end(opts.body);
    });
  }

  app(path: string): URL {
    return new URL(`http://${this.appHost}:${this.frontPort}${path}`);
  }

  /**
   * Goes to `url` and on through every redirect, signing in as `user` on the provider's login
   * page and granting its consent page. Returns every answer, the last one last.
   */
  async browse(url: URL, user: string): Promise<Answer[]> {
    const seen: Answer[] = [];
    let next: { url: URL; method?: string; body?: string } | undefined = { url };
    for (let step = 0; next !== undefined && step < 30; step++) {
      const answer = await this.request(next.url, next);
      seen.push(answer);
      next = undefined;
      if (answer.status >= 300 && answer.status < 400 && answer.headers.location !== undefined) {
        next = { url: new URL(answer.headers.location, answer.url) };
      } else if (answer.status === 200 && answer.url.pathname.startsWith('/interaction/')) {
        const prompt = /name="prompt" value="(\w+)"/.exec(answer.body)?.[1];
        const action = /<form[^>]*action="([^"]+)"[^>]*method="post"/.exec(answer.body)?.[1] ?? answer.url.pathname;
        const body = prompt === 'login' ? `prompt=login&login=${user}&password=x` : `prompt=${prompt ?? 'consent'}`;
        next = { url: new URL(action, answer.url), method: 'POST', body };
      }
    }
    return seen;
  }
}
