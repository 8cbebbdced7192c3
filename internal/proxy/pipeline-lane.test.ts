import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEPTH, HOL_MS, KEEPALIVE_PROOF, OFF_MS, PipelineLane } from './pipeline-lane.ts';

function lane(): { l: PipelineLane; clock: { t: number } } {
  const clock = { t: 1000 };
  return { l: new PipelineLane(() => clock.t), clock };
}

function proven(l: PipelineLane): void {
  for (let i = 0; i < KEEPALIVE_PROOF; i++) l.answered(true);
}

test('closed until the member has answered with keep-alive KEEPALIVE_PROOF times in a row', () => {
  const { l } = lane();
  for (let i = 0; i < KEEPALIVE_PROOF - 1; i++) {
    l.answered(true);
    assert.equal(l.open(), false);
  }
  l.answered(true);
  assert.equal(l.open(), true);
});

test('one Connection: close takes the member off for OFF_MS, then it must prove keep-alive again', () => {
  const { l, clock } = lane();
  proven(l);
  l.answered(false);
  assert.equal(l.open(), false);
  clock.t += OFF_MS + 1;
  assert.equal(l.open(), false, 'the streak starts over');
  proven(l);
  assert.equal(l.open(), true);
});

test('never behind a slow request: closed once the oldest in the lane waited HOL_MS; open again when it leaves', () => {
  const { l, clock } = lane();
  proven(l);
  const slow = l.enter();
  clock.t += HOL_MS - 1;
  assert.equal(l.open(), true, 'the head is still young');
  const fast = l.enter();
  clock.t += 1;
  assert.equal(l.open(), false, 'the head has waited HOL_MS');
  l.leave(slow);
  assert.equal(l.open(), true, 'the next oldest is young');
  l.leave(fast);
  assert.equal(l.inFlight, 0);
});

test('at most DEPTH requests in the lane', () => {
  const { l } = lane();
  proven(l);
  for (let i = 0; i < DEPTH; i++) {
    assert.equal(l.open(), true);
    l.enter();
  }
  assert.equal(l.open(), false);
});

test('a broken pipelined connection takes the member off the lane', () => {
  const { l } = lane();
  proven(l);
  const t = l.enter();
  l.leave(t, true);
  assert.equal(l.open(), false);
});

test('a path once slower than SLOW_MS stays off the lane; at most SLOW_PATHS are remembered', async () => {
  const { SLOW_MS, SLOW_PATHS } = await import('./pipeline-lane.ts');
  const { l } = lane();
  l.took('/fast', SLOW_MS);
  assert.equal(l.isSlow('/fast'), false);
  l.took('/report', SLOW_MS + 1);
  assert.equal(l.isSlow('/report'), true);
  for (let i = 0; i < SLOW_PATHS; i++) l.took(`/p${String(i)}`, SLOW_MS + 1);
  assert.equal(l.isSlow('/report'), false, 'the oldest is forgotten first');
  assert.equal(l.isSlow(`/p${String(SLOW_PATHS - 1)}`), true);
});
