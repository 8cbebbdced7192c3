// A minimal proxy for the auth middlewares' tests: a node:http server that builds RequestFacts,
// runs one middleware, and on 'continue' forwards the request with the middleware's
// upstreamHeaders to a real upstream over undici. The framework's chain and proxy hook are
// tested on their own; this keeps forward_auth and basic_auth testable over real sockets now.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import type { Middleware, RequestFacts } from './middleware.ts';

export interface HarnessOptions {
  /** facts.secure (TLS or a trusted proxy said https). */
  secure?: boolean;
}

export interface Harness {
  origin: string;
  /** Requests answered by the middleware itself. */
  answered: number;
  close(): Promise<void>;
}

/** Client IP the harness puts in facts (as trusted-proxy resolution would); a header only the test sends. */
export const CLIENT_IP_HEADER = 'x-test-client-ip';

export async function startAuthHarness(mw: Middleware, upstreamOrigin: string, opts: HarnessOptions = {}): Promise<Harness> {
  const harness: Harness = { origin: '', answered: 0, close: () => Promise.resolve() };
  const server = http.createServer((req, res) => {
    void (async () => {
      const upstreamHeaders: string[] = [];
      for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i]!.toLowerCase();
        if (name === 'host' || name === 'connection' || name === 'content-length' || name === CLIENT_IP_HEADER) continue;
        upstreamHeaders.push(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
      }
      const ip = req.headers[CLIENT_IP_HEADER];
      const facts: RequestFacts = {
        clientIp: typeof ip === 'string' ? ip : '127.0.0.1',
        secure: opts.secure ?? false,
        host: (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase(),
        path: req.url ?? '/',
        upstreamHeaders,
        onResponseHead: () => undefined,
      };
      const verdict = await mw.handle(req, res, facts);
      if (verdict === 'answered') {
        harness.answered++;
        return;
      }
      const body = await new Promise<Buffer>((resolve) => {
        const parts: Buffer[] = [];
        req.on('data', (c: Buffer) => parts.push(c));
        req.on('end', () => resolve(Buffer.concat(parts)));
      });
      const answer = await request(`${upstreamOrigin}${facts.path}`, {
        method: req.method as 'GET',
        headers: ['host', req.headers.host ?? '', ...upstreamHeaders],
        body: body.length > 0 ? body : null,
      });
      const text = Buffer.from(await answer.body.arrayBuffer());
      res.writeHead(answer.statusCode, { 'content-type': 'text/plain', 'content-length': String(text.length) });
      res.end(text);
    })().catch((err: unknown) => {
      res.destroy(err instanceof Error ? err : new Error(String(err)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  harness.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  harness.close = () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return harness;
}
