import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyFailure, isBrokenConnection, MEMBER_GONE, PIPELINE_BROKEN, PIPELINE_STALLED, retryVerdict, type AttemptFailure } from './retry-policy.ts';

const get = (over: Partial<AttemptFailure>): AttemptFailure => ({ code: 'ECONNRESET', sent: true, answered: false, method: 'GET', hasBody: false, sentFailures: 1, ...over });

test('classifyFailure: timeouts 504, connect errors and a member gone before sending 502 connect, the rest 502 reset', () => {
  assert.equal(classifyFailure('UND_ERR_HEADERS_TIMEOUT', true), 'PROXY_UPSTREAM_TIMEOUT');
  assert.equal(classifyFailure('UND_ERR_CONNECT_TIMEOUT', false), 'PROXY_UPSTREAM_TIMEOUT');
  assert.equal(classifyFailure('ECONNREFUSED', false), 'PROXY_UPSTREAM_CONNECT');
  assert.equal(classifyFailure(MEMBER_GONE, false), 'PROXY_UPSTREAM_CONNECT');
  assert.equal(classifyFailure(MEMBER_GONE, true), 'PROXY_UPSTREAM_RESET');
  assert.equal(classifyFailure('UND_ERR_RES_CONTENT_LENGTH_MISMATCH', true), 'PROXY_UPSTREAM_RESET');
  assert.equal(classifyFailure('UND_ERR_REQ_CONTENT_LENGTH_MISMATCH', true), 'PROXY_BAD_REQUEST');
  assert.equal(classifyFailure('HPE_INVALID_CONSTANT', true), 'PROXY_UPSTREAM_RESET');
});

test('nothing reached the member: any method is sent again, never to the same member', () => {
  for (const code of ['ECONNREFUSED', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT', MEMBER_GONE, 'ECONNRESET']) {
    const v = retryVerdict(get({ code, sent: false, method: 'POST', hasBody: true, sentFailures: 0 }));
    assert.equal(v.retry, true, code);
    assert.equal(v.retry && v.sameMember, false, code);
  }
});

test('the member died before its body (Content-Length + close, then nothing): a GET is sent again elsewhere, a POST is not', () => {
  const v = retryVerdict(get({ code: 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH', answered: true }));
  assert.deepEqual(v, { retry: true, error: 'PROXY_UPSTREAM_RESET', reroute: false, sameMember: false });
  assert.deepEqual(retryVerdict(get({ code: 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH', method: 'POST' })), { retry: false, error: 'PROXY_UPSTREAM_RESET' });
});

test('a reset without any answer may go to the same member on a fresh connection (keep-alive close race)', () => {
  for (const code of ['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']) {
    assert.deepEqual(retryVerdict(get({ code })), { retry: true, error: 'PROXY_UPSTREAM_RESET', reroute: false, sameMember: true }, code);
    const answered = retryVerdict(get({ code, answered: true }));
    assert.equal(answered.retry && answered.sameMember, false, `${code} after a head: another member only`);
  }
});

test('after sending: only bodiless idempotent requests, only broken connections, only once', () => {
  assert.equal(retryVerdict(get({ method: 'POST' })).retry, false);
  assert.equal(retryVerdict(get({ method: 'PATCH' })).retry, false);
  assert.equal(retryVerdict(get({ method: 'PUT', hasBody: true })).retry, false);
  for (const m of ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']) assert.equal(retryVerdict(get({ method: m })).retry, true, m);
  assert.equal(retryVerdict(get({ code: 'UND_ERR_HEADERS_TIMEOUT' })).retry, false, 'a slow member is not dead');
  assert.equal(retryVerdict(get({ code: 'UND_ERR_BODY_TIMEOUT' })).retry, false);
  assert.equal(retryVerdict(get({ sentFailures: 2 })).retry, false, 'a request that broke two members is not replayed a third time');
  assert.deepEqual(retryVerdict(get({ code: 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH', sentFailures: 0 })), { retry: false, error: 'PROXY_BAD_REQUEST' });
});

test('broken twice: not sent again on the spot, but the route table gets its say (a dying member)', () => {
  assert.deepEqual(retryVerdict(get({ sentFailures: 2 })), { retry: false, error: 'PROXY_UPSTREAM_RESET', awaitTable: true });
  assert.deepEqual(retryVerdict(get({ code: 'UND_ERR_SOCKET', sentFailures: 3, answered: true })), { retry: false, error: 'PROXY_UPSTREAM_RESET', awaitTable: true });
  // not for what was never safe to resend, nor for a slow member
  assert.deepEqual(retryVerdict(get({ sentFailures: 2, method: 'POST' })), { retry: false, error: 'PROXY_UPSTREAM_RESET' });
  assert.deepEqual(retryVerdict(get({ sentFailures: 2, method: 'PUT', hasBody: true })), { retry: false, error: 'PROXY_UPSTREAM_RESET' });
  assert.deepEqual(retryVerdict(get({ sentFailures: 2, code: 'UND_ERR_HEADERS_TIMEOUT' })), { retry: false, error: 'PROXY_UPSTREAM_TIMEOUT' });
});

test('a member gone after sending: route afresh (never the same member)', () => {
  assert.deepEqual(retryVerdict(get({ code: MEMBER_GONE })), { retry: true, error: 'PROXY_UPSTREAM_RESET', reroute: true, sameMember: false });
  assert.equal(retryVerdict(get({ code: MEMBER_GONE, method: 'POST' })).retry, false);
});

test('written, then its connection broke and the reconnect failed (undici re-sends what was queued behind a broken pipeline): a broken connection', () => {
  for (const code of ['ECONNREFUSED', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT']) {
    const v = retryVerdict(get({ code }));
    assert.equal(v.retry, true, code);
    assert.equal(retryVerdict(get({ code, method: 'POST' })).retry, false, `${code}: a POST that may have arrived is not sent again`);
    assert.deepEqual(retryVerdict(get({ code, sentFailures: 2 })), { retry: false, error: classifyFailure(code, true), awaitTable: true }, `${code}: not a third time`);
  }
});

test('its pipelined connection broke: written, a reset (once); still queued, nothing reached the member, so the same member afresh is fine', () => {
  assert.deepEqual(retryVerdict(get({ code: PIPELINE_BROKEN })), { retry: true, error: 'PROXY_UPSTREAM_RESET', reroute: false, sameMember: true });
  assert.deepEqual(retryVerdict(get({ code: PIPELINE_BROKEN, sent: false, sentFailures: 0 })), { retry: true, error: 'PROXY_UPSTREAM_RESET', reroute: false, sameMember: true });
  assert.deepEqual(retryVerdict(get({ code: PIPELINE_BROKEN, sentFailures: 2 })), { retry: false, error: 'PROXY_UPSTREAM_RESET', awaitTable: true });
});

test('taken off a stalled pipeline: sent again once (the same member on its own connection will do), and not a broken connection', () => {
  assert.deepEqual(retryVerdict(get({ code: PIPELINE_STALLED })), { retry: true, error: 'PROXY_UPSTREAM_RESET', reroute: false, sameMember: true });
  assert.equal(retryVerdict(get({ code: PIPELINE_STALLED, sentFailures: 2 })).retry, false);
  assert.equal(isBrokenConnection(PIPELINE_STALLED), false, 'the lane does not count it as a connection end');
  assert.equal(isBrokenConnection(PIPELINE_BROKEN), true);
});
