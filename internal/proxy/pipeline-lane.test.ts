import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONNECTIONS, DEPTH, HOL_MS, KEEPALIVE_PROOF, LIFETIME_ANSWERS, OFF_MS, PipelineLane } from './pipeline-lane.ts';

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

test('never behind a slow request: a connection whose oldest request waited HOL_MS takes no more; open again when it leaves', () => {
  const { l, clock } = lane();
  proven(l);
  const slow = l.enter();
  clock.t += HOL_MS - 1;
  assert.equal(l.pick(), PipelineLane.slotOf(slow), 'the head is still young: join it');
  const fast = l.enter();
  assert.equal(PipelineLane.slotOf(fast), PipelineLane.slotOf(slow));
  clock.t += 1;
  assert.notEqual(l.pick(), PipelineLane.slotOf(slow), 'the head has waited HOL_MS: another connection');
  l.leave(slow);
  assert.equal(l.pick(), PipelineLane.slotOf(slow), 'the next oldest is young');
  l.leave(fast);
  assert.equal(l.inFlight, 0);
});

test('requests are packed: the fullest connection with room and a young head; a new one only when needed', () => {
  const { l, clock } = lane();
  proven(l);
  const first = Array.from({ length: DEPTH }, () => l.enter());
  assert.equal(new Set(first.map((t) => PipelineLane.slotOf(t))).size, 1, 'DEPTH requests share one connection');
  const next = l.enter();
  assert.notEqual(PipelineLane.slotOf(next), PipelineLane.slotOf(first[0]!), 'a full connection sends the next to another');
  assert.equal(l.onConnection(PipelineLane.slotOf(next)), 1);
  clock.t += 1;
  l.leave(first[3]!);
  assert.equal(l.pick(), PipelineLane.slotOf(first[0]!), 'room again on the fuller one');
  for (const t of [...first, next]) l.leave(t);
  assert.equal(l.inFlight, 0);
});

test('at most CONNECTIONS × DEPTH requests in the lane; leaving twice, or a stale ticket, changes nothing', () => {
  const { l } = lane();
  proven(l);
  const tickets: number[] = [];
  for (let i = 0; i < CONNECTIONS * DEPTH; i++) {
    assert.notEqual(l.pick(), -1);
    tickets.push(l.enter());
  }
  assert.equal(l.open(), false);
  assert.equal(l.inFlight, CONNECTIONS * DEPTH);
  l.leave(tickets[5]!);
  l.leave(tickets[5]!);
  assert.equal(l.inFlight, CONNECTIONS * DEPTH - 1);
  assert.equal(l.pick(), PipelineLane.slotOf(tickets[5]!));
  for (const t of tickets) l.leave(t);
  assert.equal(l.inFlight, 0);
  const again = l.enter();
  l.leave(tickets[0]!);
  assert.equal(l.inFlight, 1, 'an old ticket does not remove a newer request');
  l.leave(again);
});

test('gaps left by requests that leave out of order never let a connection take more than its ring holds', () => {
  const { l } = lane();
  proven(l);
  const head = l.enter();
  // the head stays; many later ones join and leave (aborted) while it is young
  for (let i = 0; i < 1000; i++) l.leave(l.enter(l.pick()));
  assert.equal(l.onConnection(PipelineLane.slotOf(head)), 1);
  l.leave(head);
  assert.equal(l.inFlight, 0);
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

test('a slow path answered fast again is pipelined again; one that stays slow stays off', async () => {
  const { SLOW_MS } = await import('./pipeline-lane.ts');
  const { l } = lane();
  l.took('/', SLOW_MS + 1);
  l.took('/report', SLOW_MS * 4);
  assert.equal(l.isSlow('/'), true);
  l.took('/', SLOW_MS - 1);
  assert.equal(l.isSlow('/'), false, 'a hiccup is forgotten after the next fast answer');
  l.took('/report', SLOW_MS * 4);
  assert.equal(l.isSlow('/report'), true);
});

test('a member whose connections live long: a close after many keep-alive answers is forgiven, a close every few answers is not', () => {
  const { l } = lane();
  for (let i = 0; i < 3 * LIFETIME_ANSWERS; i++) l.answered(true);
  // a requests-per-connection limit on three connections
  for (let i = 0; i < 3; i++) l.answered(false);
  assert.equal(l.open(), true, 'three ends earned by 3 × LIFETIME_ANSWERS answers');
  for (let i = 0; i < LIFETIME_ANSWERS / 4; i++) l.answered(true);
  l.answered(false);
  assert.equal(l.open(), false, 'an end not earned takes the member off');
});

test('a pipelined connection that ends takes one forgiven end, however many requests were on it', () => {
  const { l } = lane();
  for (let i = 0; i < LIFETIME_ANSWERS; i++) l.answered(true);
  const on = Array.from({ length: 5 }, () => l.enter());
  // the head's answer says close; the four behind it break with the connection
  l.answered(false, on[0]);
  l.leave(on[0]!);
  for (const t of on.slice(1)) l.leave(t, true);
  assert.equal(l.open(), true, 'one connection, one end');
  const next = l.enter();
  l.leave(next, true);
  assert.equal(l.open(), false, 'the next end is not earned');
});
