import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jitterFraction } from './jitter.ts';
import { DEFAULT_PASSIVE_POLICY, isMemberFailure, PassiveState } from './passive-ejection.ts';

test('what counts as a member failure', () => {
  assert.equal(isMemberFailure({ ok: false, error: 'ECONNREFUSED' }), true);
  assert.equal(isMemberFailure({ ok: false, status: 502 }), true);
  assert.equal(isMemberFailure({ ok: false, status: 503 }), true);
  assert.equal(isMemberFailure({ ok: true, status: 504 }), true);
  assert.equal(isMemberFailure({ ok: false }), true);
  assert.equal(isMemberFailure({ ok: false, status: 500 }), false, "the application's own error");
  assert.equal(isMemberFailure({ ok: true, status: 404 }), false);
  assert.equal(isMemberFailure({ ok: true }), false);
});

test('failures outside the window do not add up', () => {
  const p = new PassiveState({ ...DEFAULT_PASSIVE_POLICY });
  assert.equal(p.fail(0, 'x', true), false);
  assert.equal(p.fail(5_000, 'x', true), false);
  assert.equal(p.fail(10_001, 'x', true), false, 'the first failure fell out of the 10 s window');
  assert.equal(p.fail(10_002, 'x', true), true);
  assert.equal(p.ejectedUntil, 15_002);
  assert.equal(p.cause, '3 failures in 10s (last: x)');
});

test('cool-down doubles per ejection up to the cap, and resets after a good trial', () => {
  const p = new PassiveState({ ...DEFAULT_PASSIVE_POLICY });
  const cooldowns: number[] = [];
  let now = 0;
  for (let i = 0; i < 3; i++) p.fail(now, 'x', true);
  cooldowns.push(p.ejectedUntil! - now);
  for (let round = 0; round < 6; round++) {
    p.expire();
    assert.equal(p.phase, 'half-open');
    now += 1000;
    assert.equal(p.fail(now, 'y', true), true);
    cooldowns.push(p.ejectedUntil! - now);
  }
  assert.deepEqual(cooldowns, [5_000, 10_000, 20_000, 40_000, 80_000, 120_000, 120_000]);
  p.expire();
  assert.equal(p.fail(now, 'z', false), false, 'a half-open last member stays on trial');
  assert.equal(p.succeed(), true);
  assert.equal(p.phase, 'closed');
  assert.equal(p.nextCooldownMs(), 5_000);
  p.expire(); // no-op when closed
  assert.equal(p.phase, 'closed');
});

test('jitter is deterministic and spreads similar ids over [0, 1)', () => {
  assert.equal(jitterFraction('abc'), jitterFraction('abc'));
  const tenths = new Array<number>(10).fill(0);
  for (let i = 0; i < 1000; i++) {
    const f = jitterFraction(`file:web/web-${i}`);
    assert.ok(f >= 0 && f < 1);
    tenths[Math.floor(f * 10)]! += 1;
  }
  for (const n of tenths) assert.ok(n > 60 && n < 140, `tenths: ${tenths.join(',')}`);
});
