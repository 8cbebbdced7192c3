// AccessLogs: one queue for every log, files shared by path, stdout, Bellhop's own answers'
// sizes, the client IP of requests that ended before the proxy worked it out, and closing.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { silentLogger } from '../../pkg/log/index.ts';
import { parseTrustedProxies } from '../../pkg/realip/index.ts';
import type { LoggedRequest } from '../proxy/index.ts';
import { AccessLogs } from './access-logs.ts';
import { parseAccessLog } from './parse-access-log.ts';
import type { AccessLogSpec } from './access-log-spec.ts';

const dir = mkdtempSync(join(tmpdir(), 'bellhop-alogs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function spec(raw: Record<string, unknown>): AccessLogSpec {
  const r = parseAccessLog(raw, 'access_log');
  assert.ok(r.ok);
  return r.spec;
}

/** A finished exchange as the proxy hands it over (only what the log reads). */
function done(over: { url?: string; method?: string; clientIp?: string; bytes?: number; responded?: boolean; head?: string; headers?: Record<string, string>; raw?: string[]; peer?: string }): LoggedRequest {
  const raw = over.raw ?? ['Host', 'app'];
  return {
    req: { method: over.method ?? 'GET', url: over.url ?? '/', httpVersion: '1.1', headers: { host: 'app', ...over.headers }, rawHeaders: raw },
    res: { _header: over.head ?? 'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 11\r\n\r\n' },
    socket: { remoteAddress: over.peer ?? '127.0.0.1' },
    start: performance.now(),
    clientIp: over.clientIp ?? '',
    host: 'app',
    bytes: over.bytes ?? 0,
    responded: over.responded ?? false,
  } as unknown as LoggedRequest;
}

test('two logs on one path share the file; stdout gets its lines; Bellhop\'s own answers log their size; XFF from a trusted peer names the client', async () => {
  const out: string[] = [];
  const logs = new AccessLogs({ log: silentLogger, trusted: () => parseTrustedProxies(['127.0.0.1']), stdout: { write: (s: string) => out.push(s) } });
  const path = join(dir, 'shared.log');
  const a = logs.open(spec({ path, format: 'common' }));
  const b = logs.open(spec({ path, format: 'common', stdout: true }));
  assert.equal(a.path, b.path);
  a.hook(done({ url: '/a', clientIp: '10.0.0.1', bytes: 5, responded: true }), 200);
  b.hook(done({ url: '/nope', headers: { 'x-forwarded-for': '203.0.113.5' }, head: 'HTTP/1.1 404 Not Found\r\ncontent-length: 42\r\n\r\n' }), 404);
  b.hook(done({ url: '/h', method: 'HEAD', head: 'HTTP/1.1 404 Not Found\r\ncontent-length: 42\r\n\r\n' }), 404);
  await logs.flush();
  const text = readFileSync(path, 'utf8').replace(/\[[^\]]+\]/g, '[T]');
  assert.equal(text, '10.0.0.1 - - [T] "GET /a HTTP/1.1" 200 5\n203.0.113.5 - - [T] "GET /nope HTTP/1.1" 404 42\n127.0.0.1 - - [T] "HEAD /h HTTP/1.1" 404 -\n');
  assert.equal(out.join('').replace(/\[[^\]]+\]/g, '[T]'), '203.0.113.5 - - [T] "GET /nope HTTP/1.1" 404 42\n127.0.0.1 - - [T] "HEAD /h HTTP/1.1" 404 -\n');
  // closing one keeps the file for the other
  await a.close();
  b.hook(done({ url: '/b', clientIp: '10.0.0.2', bytes: 1, responded: true }), 200);
  await logs.flush();
  assert.match(readFileSync(path, 'utf8'), /"GET \/b HTTP\/1\.1" 200 1\n$/);
  // closing writes what was queued before it; a hook called after the close writes nothing
  b.hook(done({ url: '/queued', clientIp: '10.0.0.3', bytes: 1, responded: true }), 200);
  await b.close();
  b.hook(done({ url: '/late', clientIp: '10.0.0.4' }), 200);
  await logs.close();
  const final = readFileSync(path, 'utf8');
  assert.match(final, /GET \/queued/);
  assert.doesNotMatch(final, /late/);
});

test('the JSON type comes from the response as written; HTTP/2 pseudo-headers are left out of headers', async () => {
  const logs = new AccessLogs({ log: silentLogger, trusted: () => parseTrustedProxies([]) });
  const path = join(dir, 'h2.json');
  const h = logs.open(spec({ path, format: 'json', fields: { headers: { default: 'keep' } } }));
  const d = done({ raw: [':method', 'GET', ':path', '/x', 'accept', '*/*'], clientIp: '10.0.0.9', bytes: 3, responded: true }) as unknown as { req: { httpVersion: string }; res: unknown };
  d.req.httpVersion = '2.0';
  d.res = { getHeader: (n: string) => (n === 'content-type' ? 'application/json' : undefined) };
  h.hook(d as unknown as LoggedRequest, 200);
  await logs.close();
  const o = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  assert.equal(o['protocol'], 'HTTP/2.0');
  assert.equal(o['type'], 'application/json');
  assert.deepEqual(o['headers'], { Accept: ['*/*'] });
});
