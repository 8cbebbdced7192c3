import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProxyError } from './proxy-error.ts';
import { rejectionCode } from './forwarding.ts';

test('ProxyError carries the catalogue status and a stable code', () => {
  const e = new ProxyError('PROXY_NO_MEMBER', 'pool empty', { cause: new Error('x') });
  assert.equal(e.status, 503);
  assert.equal(e.code, 'PROXY_NO_MEMBER');
  assert.match(e.message, /pool empty/);
  assert.equal(new ProxyError('PROXY_VERSION_NOT_SUPPORTED').status, 505);
});

test('pkg/http rejections map onto the proxy catalogue with the same status', () => {
  for (const s of [400, 405, 431, 505] as const) assert.equal(new ProxyError(rejectionCode(s)).status, s);
});
