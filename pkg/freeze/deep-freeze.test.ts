import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deepFreeze } from './index.ts';

test('deepFreeze freezes nested objects and arrays and returns the same value', () => {
  const v = { a: { b: [1, { c: 2 }] }, d: 'x' };
  assert.equal(deepFreeze(v), v);
  assert.ok(Object.isFrozen(v));
  assert.ok(Object.isFrozen(v.a));
  assert.ok(Object.isFrozen(v.a.b));
  assert.ok(Object.isFrozen(v.a.b[1]));
});

test('deepFreeze leaves primitives and null alone', () => {
  assert.equal(deepFreeze(null), null);
  assert.equal(deepFreeze(3), 3);
  assert.equal(deepFreeze('s'), 's');
});

test('deepFreeze does not descend into an object that is already frozen', () => {
  const inner = { x: 1 };
  const outer = Object.freeze({ inner });
  deepFreeze(outer);
  assert.ok(!Object.isFrozen(inner));
});

test('deepFreeze handles cycles', () => {
  const a: { self?: unknown } = {};
  a.self = a;
  deepFreeze(a);
  assert.ok(Object.isFrozen(a));
});
