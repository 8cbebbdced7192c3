import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InspectOrder } from './inspect-order.ts';

test('per container the latest inspect sent wins; other containers are independent', () => {
  const o = new InspectOrder();
  const a1 = o.issue('a');
  const b1 = o.issue('b');
  const a2 = o.issue('a');
  assert.equal(o.accept('b', b1), true, 'b does not wait for a');
  assert.equal(o.accept('a', a2), true, 'the newer answer about a came first: applied');
  assert.equal(o.accept('a', a1), false, 'the older one, late: dropped');
  const a3 = o.issue('a');
  assert.equal(o.accept('a', a3), true);
});

test('a removed container is forgotten once no older answer can arrive, so memory does not grow', () => {
  const o = new InspectOrder();
  for (let i = 0; i < 1000; i++) {
    const id = `c${String(i)}`;
    const old = o.issue(id);
    const gone = o.issue(id);
    assert.equal(o.accept(id, gone), true);
    o.forget(id); // the older answer is still out: remembered
    assert.equal(o.accept(id, old), false, 'the late answer from before the removal is still dropped');
    o.forget(id);
  }
  assert.equal(o.size, 0);
});
