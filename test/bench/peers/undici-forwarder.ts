// The bench's reference Node forwarder (issue 18's "minimal undici forwarder"): node:http
// server, one undici Pool per backend (pipelining 1, as a plain forwarder would set it), round
// robin, request and response headers as objects with the hop-by-hop fields dropped, the body
// streamed with pool.stream() into the ServerResponse. No routing, hygiene, retries or metrics:
// what node:http + undici cost by themselves, to set Bellhop's figure beside.
// Env as proxy-bench.sh sets it: PORT, HOST (default 127.0.0.1), BACKENDS=host:port,host:port.
import { createServer, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Pool } from 'undici';

const port = Number(process.env['PORT']);
const backends = (process.env['BACKENDS'] ?? '').split(',').filter(Boolean);
if (!Number.isInteger(port) || port <= 0 || backends.length === 0) {
  process.stderr.write('need PORT and BACKENDS=host:port,host:port\n');
  process.exit(2);
}
if (backends.some((b) => !b.startsWith('127.0.0.1:') && !b.startsWith('localhost:'))) {
  process.stderr.write('the bench forwarder only forwards to loopback backends\n');
  process.exit(2);
}

const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-authenticate']);

function withoutHopByHop(h: IncomingHttpHeaders | Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const conn = h['connection'];
  const named = typeof conn === 'string' && conn !== 'keep-alive' && conn !== 'close' ? conn.toLowerCase().split(',').map((s) => s.trim()) : [];
  for (const k in h) {
    const v = h[k];
    if (v === undefined || HOP.has(k) || named.includes(k)) continue;
    out[k] = v;
  }
  return out;
}

const hasBody = (req: IncomingMessage): boolean => req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';

const pools = backends.map((b) => new Pool(`http://${b}`, { pipelining: 1, keepAliveTimeout: 300_000, keepAliveMaxTimeout: 600_000 }));
let next = 0;

createServer((req, res) => {
  const pool = pools[next]!;
  next = (next + 1) % pools.length;
  pool.stream({
    path: req.url ?? '/',
    method: req.method as 'GET',
    headers: withoutHopByHop(req.headers),
    body: hasBody(req) ? req : null,
  }, ({ statusCode, headers }) => {
    res.writeHead(statusCode, withoutHopByHop(headers));
    return res;
  }, (err) => {
    if (err === null) return;
    if (!res.headersSent) {
      res.statusCode = 502;
      res.end();
    } else res.destroy(err);
  });
}).listen(port, process.env['HOST'] ?? '127.0.0.1');
