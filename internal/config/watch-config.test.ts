import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatConfigErrors, watchConfig, type LoadConfigResult } from './index.ts';

let dir: string;
let close: (() => void) | undefined;
let results: LoadConfigResult[];
let waiters: (() => void)[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bellhop-watch-'));
  results = [];
  waiters = [];
});
afterEach(() => {
  close?.();
  close = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function start(env: NodeJS.ProcessEnv = {}): void {
  close = watchConfig('config.yml', (r) => {
    results.push(r);
    for (const w of waiters.splice(0)) w();
  }, { env, cwd: dir, debounceMs: 50 });
}

/** Resolves once `count` results have arrived (fails the test after 5 s). */
async function delivered(count: number): Promise<LoadConfigResult> {
  const deadline = Date.now() + 5000;
  while (results.length < count) {
    if (Date.now() > deadline) assert.fail(`expected ${String(count)} reloads, got ${String(results.length)}`);
    await new Promise<void>((resolve) => {
      waiters.push(resolve);
      setTimeout(resolve, 100);
    });
  }
  const r = results[count - 1];
  assert.ok(r);
  return r;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('watchConfig', () => {
  it('delivers a valid edit as a new config, with env overrides still applied', async () => {
    writeFileSync(join(dir, 'config.yml'), 'log_level: info\n');
    start({ BELLHOP_HTTP_ADDR: ':8088' });
    await sleep(30);
    writeFileSync(join(dir, 'config.yml'), 'log_level: debug\nroutes:\n  nas: { url: "http://10.0.0.2:5000" }\n');
    const r = await delivered(1);
    assert.ok(r.ok, r.ok ? '' : formatConfigErrors(r.errors));
    assert.equal(r.config.logLevel, 'debug');
    assert.equal(r.config.entrypoint.http, ':8088');
    assert.deepEqual(Object.keys(r.config.routes), ['nas']);
  });

  it('delivers a broken edit as errors with lines, then recovers on the next good edit', async () => {
    writeFileSync(join(dir, 'config.yml'), 'log_level: info\n');
    start();
    await sleep(30);
    writeFileSync(join(dir, 'config.yml'), 'log_level: info\nentrypoint:\n  timeouts: { idle: 30 }\n');
    const bad = await delivered(1);
    assert.ok(!bad.ok);
    assert.equal(formatConfigErrors(bad.errors).replace(/: .*$/, ''), 'config.yml:3 entrypoint.timeouts.idle');
    writeFileSync(join(dir, 'config.yml'), 'log_level: warn\n');
    const good = await delivered(2);
    assert.ok(good.ok && good.config.logLevel === 'warn');
  });

  it('works with rename-replace editing (write temp, rename over)', async () => {
    writeFileSync(join(dir, 'config.yml'), 'log_level: info\n');
    start();
    await sleep(30);
    for (const [i, level] of (['debug', 'error'] as const).entries()) {
      writeFileSync(join(dir, '.config.yml.swp'), `log_level: ${level}\n`);
      renameSync(join(dir, '.config.yml.swp'), join(dir, 'config.yml'));
      const r = await delivered(i + 1);
      assert.ok(r.ok && r.config.logLevel === level, `edit ${String(i + 1)}`);
    }
  });

  it('follows a symlink swap that never touches the file name (Kubernetes ConfigMap), twice', async () => {
    // config.yml -> ..data/config.yml, ..data -> ..vN: an update writes ..vN+1, renames a new
    // ..data link over the old one and deletes ..vN. The directory only hears of "..data".
    const version = (n: number, level: string): void => {
      mkdirSync(join(dir, `..v${String(n)}`));
      writeFileSync(join(dir, `..v${String(n)}`, 'config.yml'), `log_level: ${level}\n`);
    };
    version(1, 'info');
    symlinkSync('..v1', join(dir, '..data'));
    symlinkSync('..data/config.yml', join(dir, 'config.yml'));
    start();
    await sleep(30);
    for (const [i, level] of (['debug', 'error'] as const).entries()) {
      const n = i + 2;
      version(n, level);
      symlinkSync(`..v${String(n)}`, join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
      rmSync(join(dir, `..v${String(n - 1)}`), { recursive: true });
      // The second swap is only seen if the file watch moved to ..v2 after the first.
      const r = await delivered(i + 1);
      assert.ok(r.ok && r.config.logLevel === level, `swap ${String(i + 1)}`);
    }
  });

  it('debounces a burst of writes into one reload and ignores other files', async () => {
    writeFileSync(join(dir, 'config.yml'), 'log_level: info\n');
    start();
    await sleep(30);
    for (let i = 0; i < 5; i++) writeFileSync(join(dir, 'config.yml'), `log_level: ${i % 2 === 0 ? 'debug' : 'trace'}\n`);
    writeFileSync(join(dir, 'unrelated.yml'), 'x: 1\n');
    const r = await delivered(1);
    assert.ok(r.ok && r.config.logLevel === 'debug');
    await sleep(250);
    assert.equal(results.length, 1);
  });

  it('does not re-deliver identical content', async () => {
    writeFileSync(join(dir, 'config.yml'), 'log_level: info\n');
    start();
    await sleep(30);
    writeFileSync(join(dir, 'config.yml'), 'log_level: fatal\n');
    await delivered(1);
    writeFileSync(join(dir, 'config.yml'), 'log_level: fatal\n');
    await sleep(250);
    assert.equal(results.length, 1);
  });

  it('reports a deleted file as an error (the caller keeps its config)', async () => {
    writeFileSync(join(dir, 'config.yml'), 'log_level: info\n');
    start();
    await sleep(30);
    unlinkSync(join(dir, 'config.yml'));
    const r = await delivered(1);
    assert.ok(!r.ok && r.errors[0]?.code === 'CONFIG_FILE_MISSING');
  });

  it('close stops delivery and is idempotent', async () => {
    writeFileSync(join(dir, 'config.yml'), 'log_level: info\n');
    start();
    await sleep(30);
    writeFileSync(join(dir, 'config.yml'), 'log_level: debug\n');
    close?.(); // inside the debounce window: the pending reload must not fire
    close?.();
    await sleep(250);
    assert.equal(results.length, 0);
  });

  it('reports a directory that cannot be watched', () => {
    const got: LoadConfigResult[] = [];
    const stop = watchConfig('no-such-dir/config.yml', (r) => got.push(r), { env: {}, cwd: dir });
    stop();
    assert.equal(got.length, 1);
    assert.ok(!got[0]?.ok && got[0]?.errors[0]?.code === 'CONFIG_WATCH_FAILED');
  });
});
