import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isConfiguredWeight, normaliseWeights } from './normalise-weights.ts';
import type { WeightedMember } from './normalise-weights.ts';

const m = (name: string, weight?: number): WeightedMember => (weight === undefined ? { name } : { name, weight });

test('docs/balancing.md worked examples', () => {
  assert.deepEqual(normaliseWeights([m('a', 30), m('b')]), [30, 70]);
  assert.deepEqual(normaliseWeights([m('a', 10), m('b', 20)]), [33, 67]);
  assert.deepEqual(normaliseWeights([m('a', 50), m('b', 50), m('c')]), [34, 33, 33]);
});

test('the tie goes to the name that sorts first, whatever the input order', () => {
  assert.deepEqual(normaliseWeights([m('c'), m('b', 50), m('a', 50)]), [33, 33, 34]);
  assert.deepEqual(normaliseWeights([m('b'), m('a'), m('c')]), [33, 34, 33]);
});

test('all unset share equally; one member gets 100; empty gives empty', () => {
  assert.deepEqual(normaliseWeights([m('a'), m('b'), m('c'), m('d')]), [25, 25, 25, 25]);
  assert.deepEqual(normaliseWeights([m('x'), m('y'), m('z')]), [34, 33, 33]);
  assert.deepEqual(normaliseWeights([m('only')]), [100]);
  assert.deepEqual(normaliseWeights([m('only', 7)]), [100]);
  assert.deepEqual(normaliseWeights([]), []);
});

test('set weights leaving something: unset members share the rest', () => {
  // 20 + 20 set, 60 left for three unset → 20 each.
  assert.deepEqual(normaliseWeights([m('a', 20), m('b', 20), m('c'), m('d'), m('e')]), [20, 20, 20, 20, 20]);
  // 90 set, 10 left for two → 5 each.
  assert.deepEqual(normaliseWeights([m('a', 90), m('b'), m('c')]), [90, 5, 5]);
});

test('set weights leaving nothing: unset count as the mean of the set ones', () => {
  // 60 + 60 = 120 ≥ 100 → unset counts as 60 → 60:60:60.
  assert.deepEqual(normaliseWeights([m('a', 60), m('b', 60), m('c')]), [34, 33, 33]);
  // 100 + 300 → mean 200 → 100:300:200 of 600.
  assert.deepEqual(normaliseWeights([m('a', 100), m('b', 300), m('c')]), [17, 50, 33]);
});

test('invalid weights (0, negative, NaN, Infinity) count as unset', () => {
  assert.equal(isConfiguredWeight(0), false);
  assert.equal(isConfiguredWeight(-3), false);
  assert.equal(isConfiguredWeight(Number.NaN), false);
  assert.equal(isConfiguredWeight(Number.POSITIVE_INFINITY), false);
  assert.equal(isConfiguredWeight(undefined), false);
  assert.equal(isConfiguredWeight(0.5), true);
  assert.deepEqual(normaliseWeights([m('a', 30), m('b', 0)]), [30, 70]);
  assert.deepEqual(normaliseWeights([m('a', 30), m('b', Number.NaN)]), [30, 70]);
});

test('a positive weight never rounds to 0 with up to 100 members', () => {
  assert.deepEqual(normaliseWeights([m('a', 1), m('b', 1000)]), [1, 99]);
  assert.deepEqual(normaliseWeights([m('a', 1), m('b', 1), m('c', 10_000)]), [1, 1, 98]);
  const hundred = Array.from({ length: 100 }, (_, i) => m(`n${String(i).padStart(3, '0')}`, i === 0 ? 1_000_000 : 1));
  const w = normaliseWeights(hundred);
  assert.equal(w.reduce((a, b) => a + b, 0), 100);
  assert.ok(w.every((x) => x === 1), 'with exactly 100 members each gets 1');
});

test('more than 100 members: still sums to 100 (some must be 0)', () => {
  const many = Array.from({ length: 150 }, (_, i) => m(`n${i}`));
  const w = normaliseWeights(many);
  assert.equal(w.reduce((a, b) => a + b, 0), 100);
  assert.equal(w.filter((x) => x === 1).length, 100);
});

test('fractional and huge weights keep proportions', () => {
  assert.deepEqual(normaliseWeights([m('a', 0.3), m('b', 0.7)]), [30, 70]);
  assert.deepEqual(normaliseWeights([m('a', 3e12), m('b', 7e12)]), [30, 70]);
  assert.deepEqual(normaliseWeights([m('a', Number.MAX_VALUE), m('b', Number.MAX_VALUE)]), [50, 50]);
});

test('no drift: 10/20/30/20/10 stays the same after repeated remove and re-add (GoDoxy bug)', () => {
  const all = [m('a', 10), m('b', 20), m('c', 30), m('d', 20), m('e', 10)];
  const first = normaliseWeights(all);
  assert.deepEqual(first, [11, 22, 34, 22, 11]);
  let current = all.slice();
  for (let round = 0; round < 50; round++) {
    const gone = current[round % current.length]!;
    current = current.filter((x) => x !== gone);
    const without = normaliseWeights(current);
    assert.equal(without.reduce((a, b) => a + b, 0), 100);
    current = [...current, gone];
    const back = normaliseWeights(current);
    const byName = new Map(current.map((x, i) => [x.name, back[i]]));
    assert.deepEqual(all.map((x) => byName.get(x.name)), first, `round ${round}`);
  }
  // Proportions: each share within one point of the exact 100·w/90.
  first.forEach((share, i) => assert.ok(Math.abs(share - (100 * all[i]!.weight!) / 90) < 1));
});

const memberArb = fc.record(
  {
    name: fc.string({ maxLength: 6 }),
    weight: fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.double(), fc.constantFrom(0, -1, Number.NaN)),
  },
  { requiredKeys: ['name'] },
);

test('property: never throws; sums to 100; each share >= 0; positive weights >= 1 up to 100 members', () => {
  fc.assert(
    fc.property(fc.array(memberArb, { minLength: 1, maxLength: 120 }), (members) => {
      const w = normaliseWeights(members);
      assert.equal(w.length, members.length);
      assert.equal(w.reduce((a, b) => a + b, 0), 100);
      for (const x of w) assert.ok(Number.isInteger(x) && x >= 0);
      if (members.length <= 100) for (const x of w) assert.ok(x >= 1);
    }),
  );
});

test('property: order-independent (unique names)', () => {
  const uniqueMembers = fc.uniqueArray(memberArb, { minLength: 1, maxLength: 30, selector: (x) => x.name });
  fc.assert(
    fc.property(uniqueMembers, fc.integer(), (members, seed) => {
      const shuffled = members
        .map((x, i) => ({ x, k: Math.imul(i + 1, seed | 1) ^ seed }))
        .sort((a, b) => a.k - b.k)
        .map((p) => p.x);
      const a = normaliseWeights(members);
      const b = normaliseWeights(shuffled);
      const byName = new Map(shuffled.map((x, i) => [x.name, b[i]]));
      assert.deepEqual(members.map((x) => byName.get(x.name)), a);
    }),
  );
});

test('property: integer weights summing to 100 are kept exactly', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 10 }), (parts) => {
      const sum = parts.reduce((a, b) => a + b, 0);
      if (sum > 100) return;
      const members = [...parts.map((w, i) => m(`m${i}`, w)), ...(sum < 100 ? [m('rest', 100 - sum)] : [])];
      assert.deepEqual(normaliseWeights(members), members.map((x) => x.weight));
    }),
  );
});
