// `api.auth` (docs/configuration.md#api): token_file resolved against the working directory,
// users as name:bcrypt-hash; every problem with its key and line.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatConfigErrors, loadConfig, type LoadConfigResult } from './index.ts';

const HASH = '$2y$10$1bQ4Y3VXAnetZfRtjKvRH.aS2lDDhPhwuUIWmtPCqHwooWozOYYlO';
let dir: string;
let n = 0;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'bellhop-api-auth-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function load(text: string): { r: LoadConfigResult; cwd: string } {
  const cwd = join(dir, `case-${String(++n)}`);
  mkdirSync(cwd);
  writeFileSync(join(cwd, 'config.yml'), text);
  return { r: loadConfig({ env: {}, cwd }), cwd };
}

function problems(text: string): { code: string; key: string; line: number | undefined; message: string }[] {
  const { r } = load(text);
  assert.equal(r.ok, false, 'expected errors');
  return r.ok ? [] : r.errors.map((e) => ({ code: e.code, key: e.key, line: e.line, message: e.message }));
}

describe('api.auth', () => {
  it('is off by default and with an empty block', () => {
    for (const text of ['log_level: info\n', 'api:\n  auth: {}\n']) {
      const { r } = load(text);
      assert.ok(r.ok, r.ok ? '' : formatConfigErrors(r.errors));
      assert.equal(r.config.api.auth, undefined);
    }
  });

  it('reads token_file (resolved) and users (name:hash)', () => {
    const { r, cwd } = load(`api:\n  listen: "0.0.0.0:8081"\n  auth:\n    token_file: ./secrets/api-token\n    users:\n      - "alice:${HASH}"\n      - 'bob:${HASH.replace('$2y$', '$2b$')}'\n`);
    assert.ok(r.ok, r.ok ? '' : formatConfigErrors(r.errors));
    assert.deepEqual(r.config.api.auth, {
      tokenFile: join(cwd, 'secrets/api-token'),
      users: [{ name: 'alice', hash: HASH }, { name: 'bob', hash: HASH.replace('$2y$', '$2b$') }],
    });
  });

  it('refuses plain passwords, bad entries and unknown keys, with key and line', () => {
    let p = problems('api:\n  auth:\n    users:\n      - "alice:hunter2"\n');
    assert.deepEqual(p.map((e) => [e.code, e.key, e.line]), [['CONFIG_BAD_USER', 'api.auth.users[0]', 4]]);
    assert.match(p[0]!.message, /not a bcrypt hash.*plain passwords are refused/);
    p = problems(`api:\n  auth:\n    users:\n      - "${HASH}"\n`);
    assert.deepEqual(p.map((e) => [e.code, e.key, e.line]), [['CONFIG_BAD_USER', 'api.auth.users[0]', 4]]);
    p = problems('api:\n  auth:\n    users: alice\n');
    assert.deepEqual(p.map((e) => [e.code, e.key, e.line]), [['CONFIG_BAD_TYPE', 'api.auth.users', 3]]);
    p = problems('api:\n  auth:\n    token_file: ""\n');
    assert.deepEqual(p.map((e) => [e.code, e.key, e.line]), [['CONFIG_BAD_PATH', 'api.auth.token_file', 3]]);
    p = problems('api:\n  auth:\n    token: abc\n');
    assert.deepEqual(p.map((e) => [e.code, e.key, e.line]), [['CONFIG_UNKNOWN_KEY', 'api.auth.token', 3]]);
    assert.match(p[0]!.message, /did you mean "token_file"\?/);
    p = problems('api:\n  token_file: ./t\n');
    assert.deepEqual(p.map((e) => [e.code, e.key]), [['CONFIG_UNKNOWN_KEY', 'api.token_file']]);
    assert.match(p[0]!.message, /api\.auth\.token_file/);
  });
});
