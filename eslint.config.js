// Type-aware lint: in a long-running daemon an unhandled rejection is an outage.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { moduleBoundaries } from './tools/module-boundaries.ts';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'dist-js/', 'coverage/', 'test-output/', 'test/bench/kit/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['eslint.config.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', {
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }],
      }],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // Module boundaries (DESIGN.md): another module's files only through its index.ts; pkg/ never
    // imports internal/; internal/ and pkg/ never import cmd/; only tests import test/. See
    // tools/module-boundaries.ts. Tests are held to the same rule: a unit test beside the code
    // imports its own folder freely and other modules through their index.ts, as test/** does;
    // what a test of another module needs is exported from that index (or the test moves to
    // that module). Tests may also import test/support/, test/fixtures/ and cmd/bellhop/app.ts
    // (the composition root, which has no index).
    files: ['**/*.ts'],
    plugins: { bellhop: { rules: { 'module-boundaries': moduleBoundaries } } },
    rules: { 'bellhop/module-boundaries': 'error' },
  },
  {
    // An ESM import of a node builtin builds its namespace by reading every export, getters
    // included: node:http's WebSocket getter loads Node's bundled undici (with tls, http2, zlib,
    // worker_threads), node:crypto's webcrypto, node:fs's promises, node:tls's rootCertificates
    // list. Bellhop idled ~4 MiB higher for it (README "Performance"). Values come from
    // process.getBuiltinModule(), which returns the module without reading its getters; types
    // are still imported.
    files: ['cmd/**/*.ts', 'internal/**/*.ts', 'pkg/**/*.ts'],
    ignores: ['**/*.test.ts', '**/*.test-support.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        paths: ['node:http', 'node:https', 'node:http2', 'node:tls', 'node:crypto', 'node:fs', 'node:fs/promises', 'node:util'].flatMap((id) =>
          [id, id.slice('node:'.length)].map((name) => ({
            name,
            allowTypeImports: true,
            message: `values from process.getBuiltinModule('${id}'): an ESM import reads all of the builtin's getters (eslint.config.js)`,
          })),
        ),
      }],
    },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
);
