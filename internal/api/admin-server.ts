// The admin API (README "Admin API and metrics"): /healthz, /api/routes, /api/explain, /api/certs, /metrics.
// Read-only; it renders the views of admin-views.ts, assembled from the modules owning the
// state. Its errors are in Bellhop's one error shape (docs/errors.md#admin-api).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ListenAddress } from '../config/index.ts';
import type { Metrics } from './metrics.ts';
import { ErrorWriter } from '../../pkg/errors/index.ts';
import { API_ERRORS } from './api-errors.ts';

const ENDPOINTS = ['/healthz', '/api/routes', '/api/explain?host=', '/api/certs', '/metrics'];
const errors = new ErrorWriter(API_ERRORS);

/** What the admin API shows; each call returns a fresh, JSON-serialisable view. */
export interface AdminSource {
  serving(): boolean;
  routes(): unknown;
  explain(host: string): unknown;
  /** The certificates (docs/https.md); absent without HTTPS: an empty list. */
  certs?(): unknown[];
}

export interface AdminServer {
  server: Server;
  /** Listens on a parsed address (config's `api.listen`; port 0 picks a free port). */
  listen(addr: ListenAddress): Promise<AddressInfo>;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: string, type: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function json(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, `${JSON.stringify(value, null, 2)}\n`, 'application/json; charset=utf-8');
}

export function createAdminServer(source: AdminSource, metrics: Metrics): AdminServer {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://admin.invalid');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      errors.send(res, 'API_METHOD_NOT_ALLOWED', { format: 'json', headers: ['allow', 'GET, HEAD'] });
      return;
    }
    switch (url.pathname) {
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
      default:
        errors.send(res, 'API_NOT_FOUND', { format: 'json', fields: { endpoints: ENDPOINTS } });
    }
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // the local, unauthenticated operator API: the cause helps more than it reveals
      errors.send(res, 'API_INTERNAL', { format: 'json', fields: { detail: String(err) } });
    });
  });
  return {
    server,
    listen(addr) {
      const { host, port } = addr;
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
