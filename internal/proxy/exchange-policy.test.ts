// The exchange's decisions without sockets: every path a failed attempt can take, the bounds,
// and what each ending tells the route. Candidates are stubs that record what was asked, since
// asking moves the balancer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { afterFailure, afterTableWait, endingOutcome, MAX_ATTEMPTS, MAX_REROUTES, nothingToPick, type ExchangeProgress } from './exchange-policy.ts';
import { MEMBER_GONE, PIPELINE_STALLED, type AttemptFailure } from './retry-policy.ts';

const failure = (over: Partial<AttemptFailure> = {}): AttemptFailure =>
  ({ code: 'ECONNRESET', sent: true, answered: false, method: 'GET', hasBody: false, sentFailures: 1, ...over });
const progress = (over: Partial<ExchangeProgress> = {}): ExchangeProgress =>
  ({ attempts: 1, reroutes: 0, canAwaitTable: true, clientGone: false, ...over });

/** A pool as the policy sees it: `another` and `any` answer from these lists; `asked` records the calls. */
function pool(another: string | undefined, any: string | undefined) {
  const asked: string[] = [];
  return {
    asked,
    candidates: {
      another: () => (asked.push('another'), another),
      any: () => (asked.push('any'), any),
    },
  };
}

test('member gone: route afresh, whatever the pool still has, and the member is judged failed', () => {
  for (const f of [failure({ code: MEMBER_GONE }), failure({ code: MEMBER_GONE, sent: false, method: 'POST', hasBody: true, sentFailures: 0 })]) {
    const p = pool('m2', 'm1');
    const d = afterFailure(f, progress(), p.candidates);
    assert.deepEqual(d.next, { step: 'reroute' });
    assert.deepEqual(d.outcome, { ok: false, error: MEMBER_GONE });
    assert.deepEqual(p.asked, [], 'no pick: the table is consulted afresh');
  }
  assert.equal(afterFailure(failure({ code: MEMBER_GONE }), progress(), pool(undefined, undefined).candidates).error, 'PROXY_UPSTREAM_RESET');
});

test('member gone with the reroutes used up: answer with the failure', () => {
  const d = afterFailure(failure({ code: MEMBER_GONE }), progress({ reroutes: MAX_REROUTES }), pool('m2', 'm1').candidates);
  assert.deepEqual(d.next, { step: 'answer', error: 'PROXY_UPSTREAM_RESET' });
});

test('sent twice, broken twice, no other member: wait for the route table instead of a 502', () => {
  const p = pool(undefined, 'm1');
  const d = afterFailure(failure({ sentFailures: 2 }), progress({ attempts: 2 }), p.candidates);
  assert.deepEqual(d.next, { step: 'await-table' });
  assert.equal(d.error, 'PROXY_UPSTREAM_RESET');
  assert.deepEqual(p.asked, ['another'], 'never the same member a third time');
});

test('sent twice, broken twice: with another member left, or no table to wait for, or no reroute left, answer', () => {
  const f = failure({ sentFailures: 2 });
  assert.deepEqual(afterFailure(f, progress(), pool('m2', 'm1').candidates).next, { step: 'answer', error: 'PROXY_UPSTREAM_RESET' });
  assert.deepEqual(afterFailure(f, progress({ canAwaitTable: false }), pool(undefined, 'm1').candidates).next, { step: 'answer', error: 'PROXY_UPSTREAM_RESET' });
  assert.deepEqual(afterFailure(f, progress({ reroutes: MAX_REROUTES }), pool(undefined, 'm1').candidates).next, { step: 'answer', error: 'PROXY_UPSTREAM_RESET' });
});

test('a timeout after sending is answered at once: no retry, no wait, nothing asked of the pool', () => {
  for (const code of ['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']) {
    for (const sentFailures of [1, 2]) {
      const p = pool('m2', 'm1');
      const d = afterFailure(failure({ code, sentFailures }), progress(), p.candidates);
      assert.deepEqual(d.next, { step: 'answer', error: 'PROXY_UPSTREAM_TIMEOUT' }, `${code} ×${sentFailures}`);
      assert.deepEqual(p.asked, []);
    }
  }
});

test('a POST (or a PUT with a body) that reached its member is never sent again', () => {
  for (const f of [failure({ method: 'POST', hasBody: true }), failure({ method: 'PUT', hasBody: true }), failure({ method: 'PATCH' })]) {
    const p = pool('m2', 'm1');
    assert.deepEqual(afterFailure(f, progress(), p.candidates).next, { step: 'answer', error: 'PROXY_UPSTREAM_RESET' }, f.method);
    assert.deepEqual(p.asked, []);
  }
});

test('nothing reached the member: the next member gets it, any method; never the same one', () => {
  let p = pool('m2', 'm1');
  assert.deepEqual(afterFailure(failure({ code: 'ECONNREFUSED', sent: false, method: 'POST', hasBody: true, sentFailures: 0 }), progress(), p.candidates).next, { step: 'dispatch', pick: 'm2' });
  p = pool(undefined, 'm1');
  assert.deepEqual(afterFailure(failure({ code: 'ECONNREFUSED', sent: false, sentFailures: 0 }), progress(), p.candidates).next, { step: 'await-table' });
  assert.deepEqual(p.asked, ['another'], 'a refusing member is not asked again');
  assert.deepEqual(afterFailure(failure({ code: 'ECONNREFUSED', sent: false, sentFailures: 0 }), progress({ canAwaitTable: false }), pool(undefined, 'm1').candidates).next,
    { step: 'answer', error: 'PROXY_UPSTREAM_CONNECT' });
});

test('a reset before any answer (keep-alive close race): another member first, else the same one on a fresh connection', () => {
  let p = pool('m2', 'm1');
  assert.deepEqual(afterFailure(failure(), progress(), p.candidates).next, { step: 'dispatch', pick: 'm2' });
  assert.deepEqual(p.asked, ['another']);
  p = pool(undefined, 'm1');
  assert.deepEqual(afterFailure(failure(), progress(), p.candidates).next, { step: 'dispatch', pick: 'm1' });
  assert.deepEqual(p.asked, ['another', 'any']);
  p = pool(undefined, 'm1');
  assert.deepEqual(afterFailure(failure({ answered: true }), progress(), p.candidates).next, { step: 'await-table' }, 'after a head: not the same member');
  assert.deepEqual(p.asked, ['another']);
});

test('the attempts of one routing are bounded: at the bound nothing is picked, the table or the failure decides', () => {
  const p = pool('m2', 'm1');
  assert.deepEqual(afterFailure(failure({ code: 'ECONNREFUSED', sent: false }), progress({ attempts: MAX_ATTEMPTS }), p.candidates).next, { step: 'await-table' });
  assert.deepEqual(p.asked, []);
  assert.deepEqual(afterFailure(failure({ code: 'ECONNREFUSED', sent: false }), progress({ attempts: MAX_ATTEMPTS, canAwaitTable: false }), p.candidates).next,
    { step: 'answer', error: 'PROXY_UPSTREAM_CONNECT' });
  assert.deepEqual(afterFailure(failure({ code: 'ECONNREFUSED', sent: false }), progress({ attempts: MAX_ATTEMPTS, reroutes: MAX_REROUTES }), p.candidates).next,
    { step: 'answer', error: 'PROXY_UPSTREAM_CONNECT' });
});

test('a client that left: the failure is answered (logged), nothing is retried', () => {
  const p = pool('m2', 'm1');
  const d = afterFailure(failure({ code: 'ECONNREFUSED', sent: false }), progress({ clientGone: true }), p.candidates);
  assert.deepEqual(d.next, { step: 'answer', error: 'PROXY_UPSTREAM_CONNECT' });
  assert.deepEqual(p.asked, []);
});

test('a request the member could not take (bad framing) says nothing about the member', () => {
  const d = afterFailure(failure({ code: 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH' }), progress(), pool('m2', 'm1').candidates);
  assert.deepEqual(d, { error: 'PROXY_BAD_REQUEST', outcome: { ok: true, error: 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH', noVerdict: true }, next: { step: 'answer', error: 'PROXY_BAD_REQUEST' } });
});

test('a request rescued from a stalled pipeline is sent again, and the member is not blamed for it', () => {
  const d = afterFailure(failure({ code: PIPELINE_STALLED }), progress(), pool('m1', 'm1').candidates);
  assert.deepEqual(d.outcome, { ok: false, error: PIPELINE_STALLED, noVerdict: true });
  assert.equal(d.next.step, 'dispatch');
});

test('after waiting for the table: changed → route afresh within the bound, else the last failure', () => {
  assert.deepEqual(afterTableWait(true, 0, 'PROXY_UPSTREAM_RESET'), { step: 'reroute' });
  assert.deepEqual(afterTableWait(false, 0, 'PROXY_UPSTREAM_RESET'), { step: 'answer', error: 'PROXY_UPSTREAM_RESET' });
  assert.deepEqual(afterTableWait(true, MAX_REROUTES, 'PROXY_UPSTREAM_CONNECT'), { step: 'answer', error: 'PROXY_UPSTREAM_CONNECT' });
});

test('no member to pick: the failure of this routing (502/504), else 503 with Retry-After', () => {
  assert.deepEqual(nothingToPick('PROXY_UPSTREAM_TIMEOUT'), { error: 'PROXY_UPSTREAM_TIMEOUT', retryAfter: false });
  assert.deepEqual(nothingToPick(undefined), { error: 'PROXY_NO_MEMBER', retryAfter: true });
});

test('endings reported to the route: the member is judged by 502/503/504, never by the client\'s own faults', () => {
  assert.deepEqual(endingOutcome(200, undefined), { ok: true, status: 200 });
  assert.deepEqual(endingOutcome(503, undefined), { ok: false, status: 503 }, 'the member itself answered 503');
  assert.deepEqual(endingOutcome(499, 'PROXY_CLIENT_GONE'), { ok: true, status: 499 });
  assert.deepEqual(endingOutcome(502, 'PROXY_CLIENT_GONE'), { ok: false, status: 502 });
  assert.deepEqual(endingOutcome(408, 'PROXY_REQUEST_TIMEOUT'), { ok: true, status: 408, error: 'PROXY_REQUEST_TIMEOUT', noVerdict: true });
  assert.deepEqual(endingOutcome(400, 'PROXY_BAD_REQUEST'), { ok: true, status: 400, error: 'PROXY_BAD_REQUEST', noVerdict: true });
  assert.deepEqual(endingOutcome(502, 'ECONNRESET'), { ok: false, status: 502, error: 'ECONNRESET' });
  assert.deepEqual(endingOutcome(200, 'UND_ERR_BODY_TIMEOUT'), { ok: false, status: 200, error: 'UND_ERR_BODY_TIMEOUT' }, 'cut mid-body');
});
