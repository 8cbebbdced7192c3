// The sticky-cookie key file: created once (private), reused byte for byte on restart, and every
// way it can be wrong stops startup with an error that names the file and the fix.
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadStickySecret, StickySecretError } from './sticky-secret.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bellhop-sticky-'));
});
afterEach(() => {
  chmodSync(dir, 0o700);
  rmSync(dir, { recursive: true, force: true });
});

function fails(file: string, code: string, message: RegExp): StickySecretError {
  try {
    loadStickySecret(file);
  } catch (err) {
    assert.ok(err instanceof StickySecretError, `expected a StickySecretError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.equal(err.file, file);
    assert.match(err.message, message);
    assert.ok(err.message.includes(`sticky.secret_file ${file}`), `the message names the setting and the file: ${err.message}`);
    return err;
  }
  assert.fail('expected loadStickySecret to throw');
}

const mode = (path: string): number => statSync(path).mode & 0o777;
const isRoot = process.getuid?.() === 0;

// Child mode (see the permissions test): this file run directly, without the override capabilities, runs
// only the permission checks, not the suite.
const childDir = process.env['BELLHOP_STICKY_PERMS_DIR'];

if (childDir === undefined) describe('loadStickySecret', () => {
  test('creates a missing key file with mode 0600 in an existing folder, with 32 random bytes', () => {
    const file = join(dir, 'sticky.key');
    const a = loadStickySecret(file);
    assert.equal(a.created, true);
    assert.equal(a.secret.length, 32);
    assert.equal(mode(file), 0o600);
    assert.equal(readFileSync(file, 'utf8'), `${a.secret.toString('base64url')}\n`);
    const other = loadStickySecret(join(dir, 'other.key'));
    assert.notDeepEqual(other.secret, a.secret, 'each new key is random');
  });

  test('creates missing folders (0700) on the way', () => {
    const file = join(dir, 'data', 'keys', 'sticky.key');
    const a = loadStickySecret(file);
    assert.equal(a.created, true);
    assert.equal(mode(file), 0o600);
    assert.equal(mode(join(dir, 'data')), 0o700);
    assert.equal(mode(join(dir, 'data', 'keys')), 0o700);
  });

  test('reuses the key on restart: same bytes, file untouched', () => {
    const file = join(dir, 'sticky.key');
    const first = loadStickySecret(file);
    const text = readFileSync(file, 'utf8');
    const again = loadStickySecret(file);
    assert.equal(again.created, false);
    assert.deepEqual(again.secret, first.secret);
    assert.equal(readFileSync(file, 'utf8'), text);
  });

  test('reads a key written by hand (base64url, surrounding whitespace ignored)', () => {
    const file = join(dir, 'sticky.key');
    const key = Buffer.from('0123456789abcdef0123');
    writeFileSync(file, `  ${key.toString('base64url')}\n\n`);
    assert.deepEqual(loadStickySecret(file), { secret: key, created: false });
  });

  test('refuses a key shorter than 16 bytes (and an empty file), leaving it as it is', () => {
    const file = join(dir, 'sticky.key');
    writeFileSync(file, `${Buffer.alloc(15, 1).toString('base64url')}\n`);
    fails(file, 'STICKY_KEY_TOO_SHORT', /shorter than 16 bytes; delete it to get a new one/);
    writeFileSync(file, '');
    fails(file, 'STICKY_KEY_TOO_SHORT', /shorter than 16 bytes/);
    assert.equal(readFileSync(file, 'utf8'), '', 'never overwritten');
    writeFileSync(file, Buffer.alloc(16, 1).toString('base64url'));
    assert.equal(loadStickySecret(file).secret.length, 16, '16 bytes is enough');
  });

  test('a key path that cannot be read (a folder) is an error naming the file, not a new key', () => {
    const file = join(dir, 'sticky.key');
    mkdirSync(file);
    const err = fails(file, 'STICKY_KEY_UNREADABLE', /cannot read the key: EISDIR/);
    assert.equal((err.cause as NodeJS.ErrnoException).code, 'EISDIR');
  });

  test('a key path with a file in the way is an error naming the file, not a new key', () => {
    writeFileSync(join(dir, 'data'), 'not a folder');
    fails(join(dir, 'data', 'sticky.key'), 'STICKY_KEY_UNREADABLE', /cannot read the key: ENOTDIR/);
    fails(join(dir, 'data', 'keys', 'sticky.key'), 'STICKY_KEY_UNREADABLE', /cannot read the key: ENOTDIR/);
  });

  test('a missing key that cannot be created (a dangling symlink: never written through) is an error naming the file and the fix', () => {
    const file = join(dir, 'sticky.key');
    symlinkSync(join(dir, 'unmounted', 'sticky.key'), file);
    const err = fails(file, 'STICKY_KEY_UNWRITABLE', /no key yet and cannot create one: EEXIST.*make its folder writable by Bellhop/);
    assert.ok(err.cause instanceof Error);
    assert.equal(existsSync(join(dir, 'unmounted')), false);
  });

  test('permissions: an unwritable folder and an unreadable key are clear errors', () => {
    if (isRoot) {
      // Root ignores file permissions: run the same checks as root without the capabilities
      // that override them (the repo may sit in a folder no other user can enter).
      const r = spawnSync('setpriv', ['--bounding-set=-dac_override,-dac_read_search', process.execPath, fileURLToPath(import.meta.url)], {
        encoding: 'utf8',
        env: { ...process.env, BELLHOP_STICKY_PERMS_DIR: dir, NODE_TEST_CONTEXT: '' },
      });
      assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /permission checks passed without CAP_DAC_OVERRIDE/);
      return;
    }
    permissionChecks(dir);
  });
});


function permissionChecks(folder: string): void {
  chmodSync(folder, 0o500);
  fails(join(folder, 'sticky.key'), 'STICKY_KEY_UNWRITABLE', /cannot create one: EACCES/);
  chmodSync(folder, 0o700);
  const file = join(folder, 'sticky.key');
  writeFileSync(file, Buffer.alloc(32, 1).toString('base64url'), { mode: 0o000 });
  fails(file, 'STICKY_KEY_UNREADABLE', /cannot read the key: EACCES/);
}

if (childDir !== undefined) {
  permissionChecks(childDir);
  process.stdout.write('permission checks passed without CAP_DAC_OVERRIDE\n');
}
