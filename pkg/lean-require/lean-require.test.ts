import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { leaveOut } from './index.ts';

test('a left-out file is never loaded: its package loads, and using it throws with what it was', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lean-require-'));
  try {
    const main = join(dir, 'main.cjs');
    writeFileSync(join(dir, 'heavy.cjs'), 'globalThis.__heavyLoaded = true; module.exports = { run: () => 1 };');
    writeFileSync(main, "const heavy = require('./heavy.cjs'); module.exports = { light: () => 2, heavy: () => heavy.run() };");
    leaveOut([{ from: main, request: './heavy.cjs', what: 'the heavy part' }]);
    const pkg = createRequire(import.meta.url)(main) as { light(): number; heavy(): number };
    assert.equal(pkg.light(), 2);
    assert.equal((globalThis as { __heavyLoaded?: boolean }).__heavyLoaded, undefined, 'heavy.cjs never ran');
    assert.throws(() => pkg.heavy(), /the heavy part is left out/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
