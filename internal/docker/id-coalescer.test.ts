import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdCoalescer } from './id-coalescer.ts';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitUntil(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !ok(); i++) await tick(5);
  assert.ok(ok(), 'condition never held (10 s)');
}

test('a burst within the window becomes one batch, deduplicated', async () => {
  const batches: string[][] = [];
  const c = new IdCoalescer<string[]>({ windowMs: 20, fetch: (ids) => Promise.resolve(ids), apply: (ids) => void batches.push(ids), onError: (e) => assert.fail(String(e)) });
  for (let i = 0; i < 50; i++) c.add(`c${i % 10}`);
  assert.equal(c.size, 10);
  await tick(40);
  await c.idle();
  assert.equal(batches.length, 1);
  assert.deepEqual([...batches[0]!].sort(), Array.from({ length: 10 }, (_, i) => `c${i}`).sort());
});

test('a batch is fetched and applied while an earlier one is still being fetched', async () => {
  const fetched: string[][] = [];
  const applied: string[][] = [];
  let release: () => void = () => undefined;
  const c = new IdCoalescer<string[]>({
    windowMs: 5,
    fetch: async (ids) => {
      fetched.push(ids);
      if (fetched.length === 1) await new Promise<void>((r) => (release = r));
      return ids;
    },
    apply: (ids) => void applied.push(ids),
    onError: (e) => assert.fail(String(e)),
  });
  c.add('a');
  await waitUntil(() => fetched.length === 1);
  c.add('b');
  c.add('c');
  await waitUntil(() => applied.length === 1);
  assert.deepEqual(fetched, [['a'], ['b', 'c']], 'the second batch did not wait for the first');
  assert.deepEqual(applied, [['b', 'c']], 'nor for its result');
  assert.equal(c.running, 1);
  release();
  await c.idle();
  assert.deepEqual(applied, [['b', 'c'], ['a']]);
  assert.equal(c.running, 0);
});

test('a failing fetch or apply is reported, and later batches still apply in order', async () => {
  const errors: unknown[] = [];
  const applied: string[][] = [];
  let calls = 0;
  const c = new IdCoalescer<string[]>({
    windowMs: 1,
    fetch: (ids) => {
      calls++;
      if (calls === 1) return Promise.reject(new Error('boom'));
      if (calls === 2) throw new Error('sync boom');
      return Promise.resolve(ids);
    },
    apply: (ids) => {
      if (ids.includes('x')) throw new Error('apply boom');
      applied.push(ids);
    },
    onError: (e) => errors.push(e),
  });
  for (const id of ['a', 'b', 'x', 'd']) {
    c.add(id);
    await waitUntil(() => c.size === 0);
  }
  await c.idle();
  assert.equal(calls, 4);
  assert.deepEqual(errors.map((e) => (e as Error).message), ['boom', 'sync boom', 'apply boom']);
  assert.deepEqual(applied, [['d']]);
});

test('close drops the queue and ignores later adds', async () => {
  let calls = 0;
  const c = new IdCoalescer<void>({ windowMs: 5, fetch: () => Promise.resolve(void calls++), apply: () => undefined, onError: (e) => assert.fail(String(e)) });
  c.add('a');
  c.close();
  c.add('b');
  await tick(20);
  assert.equal(calls, 0);
  assert.equal(c.size, 0);
});
