// The admin API (README "Admin API and metrics"): /healthz, /api/routes, /api/explain, /api/certs,
// /metrics, the dashboard (`/` and its event stream `/api/events`) and the two actions
// (`POST /api/containers/<name>/wake|sleep`). It renders the views of admin-views.ts, assembled
// from the modules owning the state. With `api.auth` every path but /healthz needs credentials;
// without it, actions are refused unless the listener is loopback-only (README "Dashboard").
// Its errors are in Bellhop's one error shape (docs/errors.md#admin-api).
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ListenAddress } from '../config/index.ts';
import type { Metrics } from './metrics.ts';
import { ErrorWriter } from '../../pkg/errors/index.ts';
import { API_ERRORS } from './api-errors.ts';
import { isLoopbackListen, type AdminAuth } from './admin-auth.ts';
import type { DashboardFeed } from './dashboard-feed.ts';
import { DASHBOARD_HTML } from './dashboard-page.ts';

const { createServer } = process.getBuiltinModule('node:http');

const ENDPOINTS = ['/', '/healthz', '/api/routes', '/api/explain?host=', '/api/certs', '/api/events', '/metrics', 'POST /api/containers/<name>/wake', 'POST /api/containers/<name>/sleep'];
const ACTION = /^\/api\/containers\/([^/]+)\/(wake|sleep)$/;
const errors = new ErrorWriter(API_ERRORS);

/** What the admin API shows; each call returns a fresh, JSON-serialisable view. */
export interface AdminSource {
  serving(): boolean;
  routes(): unknown;
  explain(host: string): unknown;
  /** The certificates (docs/https.md); absent without HTTPS: an empty list. */
  certs?(): unknown[];
  /** "wake now": resolves when the container is ready or failed; undefined: no such container. */
  wakeNow?(name: string): Promise<{ ok: true } | { ok: false; error: { code: string; message: string } }> | undefined;
  /** "sleep now": false when it cannot sleep now; undefined: no such container. */
  sleepNow?(name: string): boolean | undefined;
}

export interface AdminServerOptions {
  /** `api.auth`; undefined: no credentials asked (actions only on a loopback listener). */
  auth?: AdminAuth | undefined;
  /** The dashboard's live feed; undefined: `/api/events` answers 404. */
  feed?: DashboardFeed | undefined;
}

export interface AdminServer {
  server: Server;
  /** Listens on a parsed address (config's `api.listen`; port 0 picks a free port). */
  listen(addr: ListenAddress): Promise<AddressInfo>;
  /** Whether POST actions are allowed: with `api.auth`, or on a loopback-only listener. */
  actionsAllowed(): boolean;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: string, type: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function json(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, `${JSON.stringify(value, null, 2)}\n`, 'application/json; charset=utf-8');
}

/** Another site's page must not drive the actions through the operator's browser. */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true; // curl, scripts: no browser to abuse
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

export function createAdminServer(source: AdminSource, metrics: Metrics, opts: AdminServerOptions = {}): AdminServer {
  const { auth, feed } = opts;
  let loopback = true;
  const actionsAllowed = (): boolean => auth !== undefined || loopback;

  const action = async (req: IncomingMessage, res: ServerResponse, name: string, verb: string): Promise<void> => {
    if (!actionsAllowed()) {
      errors.send(res, 'API_ACTIONS_FORBIDDEN', { format: 'json' });
      return;
    }
    if (!sameOrigin(req)) {
      errors.send(res, 'API_CROSS_ORIGIN', { format: 'json' });
      return;
    }
    if (verb === 'sleep') {
      const ok = source.sleepNow?.(name);
      if (ok === undefined) errors.send(res, 'API_NO_CONTAINER', { format: 'json', fields: { container: name } });
      else if (!ok) errors.send(res, 'API_CANNOT_SLEEP', { format: 'json', fields: { container: name } });
      else {
        feed?.record('container', 'info', `${name}: sleep now (dashboard)`);
        json(res, 202, { container: name, state: 'draining' });
      }
      return;
    }
    const wait = source.wakeNow?.(name);
    if (wait === undefined) {
      errors.send(res, 'API_NO_CONTAINER', { format: 'json', fields: { container: name } });
      return;
    }
    feed?.record('container', 'info', `${name}: wake now (dashboard)`);
    const outcome = await wait;
    if (outcome.ok) json(res, 200, { container: name, state: 'awake' });
    else errors.send(res, 'API_WAKE_FAILED', { format: 'json', message: `${name} did not wake: ${outcome.error.message}`, fields: { container: name, cause: outcome.error.code } });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://admin.invalid');
    if (url.pathname !== '/healthz' && auth !== undefined && !(await auth.check(req.headers.authorization))) {
      errors.send(res, 'API_UNAUTHORIZED', { format: 'json', headers: auth.challenges.flatMap((c) => ['www-authenticate', c]) });
      return;
    }
    const act = ACTION.exec(url.pathname);
    if (act !== null && req.method === 'POST') {
      let name: string;
      try {
        name = decodeURIComponent(act[1]!);
      } catch {
        name = act[1]!;
      }
      await action(req, res, name, act[2]!);
      return;
    }
    if (act !== null || (req.method !== 'GET' && req.method !== 'HEAD')) {
      errors.send(res, 'API_METHOD_NOT_ALLOWED', { format: 'json', headers: ['allow', act !== null ? 'POST' : 'GET, HEAD'] });
      return;
    }
    switch (url.pathname) {
      case '/':
        send(res, 200, DASHBOARD_HTML, 'text/html; charset=utf-8');
        return;
      case '/api/events':
        if (feed === undefined) break;
        feed.attach(res);
        return;
      case '/healthz':
        if (source.serving()) send(res, 200, 'ok\n', 'text/plain; charset=utf-8');
        else send(res, 503, 'not serving\n', 'text/plain; charset=utf-8');
        return;
      case '/api/routes':
        json(res, 200, source.routes());
        return;
      case '/api/explain': {
        const host = url.searchParams.get('host');
        if (!host) {
          errors.send(res, 'API_MISSING_HOST', { format: 'json' });
          return;
        }
        json(res, 200, source.explain(host));
        return;
      }
      case '/api/certs':
        json(res, 200, source.certs?.() ?? []);
        return;
      case '/metrics':
        send(res, 200, await metrics.text(), metrics.contentType);
        return;
    }
    errors.send(res, 'API_NOT_FOUND', { format: 'json', fields: { endpoints: ENDPOINTS } });
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // the local, unauthenticated operator API: the cause helps more than it reveals
      errors.send(res, 'API_INTERNAL', { format: 'json', fields: { detail: String(err) } });
    });
  });
  return {
    server,
    actionsAllowed,
    listen(addr) {
      const { host, port } = addr;
      loopback = isLoopbackListen(addr);
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
