'use strict';
// Preload (node -r) for test/bench/idle-memory.ts: on SIGUSR2, writes one JSON line with the
// V8 heap figures and how many modules are loaded to the file named by BELLHOP_MEMORY_PROBE.
// It defines nothing else and allocates nothing until asked (its own cost is a few KiB).
// ESM files are counted through a resolve hook that only records the URLs it sees.
const { writeFileSync } = require('node:fs');
const { getHeapStatistics, getHeapSpaceStatistics, getHeapCodeStatistics } = require('node:v8');
const Module = require('node:module');
const { fileURLToPath } = require('node:url');

const esm = new Set();
Module.registerHooks({
  resolve(specifier, context, next) {
    const r = next(specifier, context);
    if (r.url.startsWith('file:')) esm.add(r.url);
    return r;
  },
});

process.on('SIGUSR2', () => {
  const heap = getHeapStatistics();
  const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, { used: s.space_used_size, physical: s.physical_space_size }]));
  const code = getHeapCodeStatistics();
  const cjs = Object.keys(require.cache);
  const cjsSet = new Set(cjs);
  // the hook sees CommonJS files too: count as ESM only what is not in the require cache
  for (const url of esm) if (cjsSet.has(fileURLToPath(url))) esm.delete(url);
  const builtins = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ') && !m.startsWith('NativeModule internal/'));
  const packages = {};
  for (const f of [...cjs, ...esm]) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f);
    const name = m === null ? '(bellhop)' : m[1];
    packages[name] = (packages[name] ?? 0) + 1;
  }
  const out = {
    heapUsed: heap.used_heap_size,
    heapTotal: heap.total_heap_size,
    heapPhysical: heap.total_physical_size,
    external: heap.external_memory,
    malloced: heap.malloced_memory,
    spaces,
    bytecode: code.bytecode_and_metadata_size,
    code: code.code_and_metadata_size,
    modules: { cjs: cjs.length, esm: esm.size, builtins: builtins.length, packages },
  };
  writeFileSync(process.env.BELLHOP_MEMORY_PROBE, `${JSON.stringify(out)}\n`);
});
