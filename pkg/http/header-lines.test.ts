import { test } from 'node:test';
import assert from 'node:assert/strict';
import { editHeaderLines, removeHeaderLines } from './header-lines.ts';

test('removeHeaderLines drops every line of the name in any case and keeps the rest in order', () => {
  const h = ['Host', 'a', 'Authorization', 'Basic x', 'Accept', '*/*', 'authorization', 'Basic y', 'X-Authorization', 'z'];
  removeHeaderLines(h, 'authorization');
  assert.deepEqual(h, ['Host', 'a', 'Accept', '*/*', 'X-Authorization', 'z']);
});

test('editHeaderLines: set replaces all lines of the name with one, add appends, remove drops', () => {
  const h = ['X-A', '1', 'x-a', '2', 'Accept', '*/*'];
  editHeaderLines(h, 'add', 'X-A', '3');
  assert.deepEqual(h, ['X-A', '1', 'x-a', '2', 'Accept', '*/*', 'X-A', '3']);
  editHeaderLines(h, 'set', 'x-A', '4');
  assert.deepEqual(h, ['Accept', '*/*', 'x-A', '4']);
  editHeaderLines(h, 'remove', 'X-a', '');
  assert.deepEqual(h, ['Accept', '*/*']);
});
