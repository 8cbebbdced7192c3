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
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
);
