import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdCoalescer } from './id-coalescer.ts';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a burst within the window becomes one batch, deduplicated', async () => {
  const batches: string[][] = [];
  const c = new IdCoalescer({ windowMs: 20, flush: (ids) => Promise.resolve(void batches.push(ids)), onError: (e) => assert.fail(String(e)) });
  for (let i = 0; i < 50; i++) c.add(`c${i % 10}`);
  assert.equal(c.size, 10);
  await tick(40);
  await c.idle();
  assert.equal(batches.length, 1);
  assert.deepEqual([...batches[0]!].sort(), Array.from({ length: 10 }, (_, i) => `c${i}`).sort());
});

test('events during a running flush wait for it, then form the next batch (never two flushes at once)', async () => {
  const batches: string[][] = [];
  let running = 0;
  let maxRunning = 0;
  let release: () => void = () => undefined;
  const c = new IdCoalescer({
    windowMs: 5,
    flush: async (ids) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      batches.push(ids);
      if (batches.length === 1) await new Promise<void>((r) => (release = r));
      running--;
    },
    onError: (e) => assert.fail(String(e)),
  });
  c.add('a');
  await tick(20);
  c.add('b');
  c.add('c');
  await tick(20);
  assert.equal(batches.length, 1, 'second batch waits for the first flush');
  release();
  await tick(20);
  await c.idle();
  assert.deepEqual(batches, [['a'], ['b', 'c']]);
  assert.equal(maxRunning, 1);
});

test('a failing flush is reported, and later ids still flush', async () => {
  const errors: unknown[] = [];
  let calls = 0;
  const c = new IdCoalescer({
    windowMs: 1,
    flush: () => {
      calls++;
      return calls === 1 ? Promise.reject(new Error('boom')) : Promise.resolve();
    },
    onError: (e) => errors.push(e),
  });
  c.add('a');
  await tick(10);
  await c.idle();
  c.add('b');
  await tick(10);
  await c.idle();
  assert.equal(calls, 2);
  assert.equal(errors.length, 1);
});

test('close drops the queue and ignores later adds', async () => {
  let calls = 0;
  const c = new IdCoalescer({ windowMs: 5, flush: () => Promise.resolve(void calls++), onError: (e) => assert.fail(String(e)) });
  c.add('a');
  c.close();
  c.add('b');
  await tick(20);
  assert.equal(calls, 0);
  assert.equal(c.size, 0);
});
