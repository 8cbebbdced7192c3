import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PROXY_ERRORS } from './proxy-errors.ts';
import { proxyErrorStatus, rawProxyError } from './error-response.ts';
import { rejectionCode } from './forwarding.ts';

test('pkg/http rejections map onto the proxy catalogue with the same status', () => {
  for (const s of [400, 405, 431, 505] as const) assert.equal(proxyErrorStatus(rejectionCode(s)), s);
});

test('the codes that only name an ending in the access log are marked so; the rest are answers', () => {
  const logOnly = Object.entries(PROXY_ERRORS).filter(([, e]) => e.logOnly === true).map(([c]) => c).sort();
  assert.deepEqual(logOnly, ['PROXY_BAD_ORIGIN', 'PROXY_CLIENT_GONE', 'PROXY_MEMBER_GONE', 'PROXY_PIPELINE_BROKEN', 'PROXY_PIPELINE_STALLED']);
  assert.equal(PROXY_ERRORS.PROXY_CLIENT_GONE.status, 499);
});

test('a raw CONNECT refusal is a complete HTTP/1.1 answer in the one error shape', () => {
  const raw = rawProxyError('PROXY_METHOD_NOT_ALLOWED');
  const [head, body] = raw.split('\r\n\r\n') as [string, string];
  assert.match(head, /^HTTP\/1\.1 405 Method Not Allowed\r\n/);
  assert.match(head, /\r\nConnection: close$/);
  assert.equal(Number(/Content-Length: (\d+)/.exec(head)?.[1]), Buffer.byteLength(body));
  assert.deepEqual(JSON.parse(body), { error: { code: 'PROXY_METHOD_NOT_ALLOWED', status: 405, message: 'Method not allowed' } });
});
