// The file side: retention at open (fake clock, crafted old lines), `last N`, sizes, reopening
// after logrotate moved the file, and a file that cannot be opened.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { silentLogger } from '../../pkg/log/index.ts';
import type { RetentionSpec } from './access-log-spec.ts';
import { AccessLogError } from './access-log-errors.ts';
import { clfTime } from './format-line.ts';
import { LogFile, probeLogPath } from './log-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'bellhop-alog-file-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => join(dir, `access-${String(++n)}.log`);

const NOW = Date.UTC(2026, 11, 5, 12, 0, 0);
const DAY = 86_400_000;

function combined(ms: number, path: string): string {
  return `10.0.0.1 - - [${clfTime(ms)}] "GET ${path} HTTP/1.1" 200 5 "-" "curl/8"\n`;
}
function json(ms: number, path: string): string {
  return `${JSON.stringify({ level: 'info', time: clfTime(ms), ip: '10.0.0.1', method: 'GET', path })}\n`;
}

function open(path: string, retention: RetentionSpec | undefined): LogFile {
  return new LogFile(path, { log: silentLogger, now: () => NOW, bufferSize: 65536, retention, rotateIntervalMs: 3_600_000 });
}

describe('retention', () => {
  test('N days at open: lines older than the cutoff go, newer ones and the rest of the file stay (same inode)', async () => {
    const p = fresh();
    writeFileSync(p, combined(NOW - 40 * DAY, '/old1') + combined(NOW - 31 * DAY, '/old2') + combined(NOW - 29 * DAY, '/new1') + combined(NOW - 1000, '/new2'));
    const ino = statSync(p).ino;
    const f = open(p, { kind: 'days', days: 30 });
    const removed = await f.started;
    f.append(combined(NOW, '/after'));
    await f.close();
    const text = readFileSync(p, 'utf8');
    assert.deepEqual(text.split('\n').filter(Boolean).map((l) => /GET (\S+)/.exec(l)?.[1]), ['/new1', '/new2', '/after']);
    assert.equal(removed, combined(NOW - 40 * DAY, '/old1').length * 2);
    assert.equal(statSync(p).ino, ino);
  });

  test('days also reads JSON lines; a file with no stamped line at all is left alone', async () => {
    const p = fresh();
    writeFileSync(p, json(NOW - 3 * DAY, '/old') + json(NOW - DAY / 2, '/new'));
    const f = open(p, { kind: 'days', days: 1 });
    await f.started;
    await f.close();
    assert.deepEqual(readFileSync(p, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { path: string }).path), ['/new']);
    const q = fresh();
    writeFileSync(q, 'not a log line\nnor this\n');
    const g = open(q, { kind: 'days', days: 1 });
    assert.equal(await g.started, 0);
    await g.close();
    assert.equal(readFileSync(q, 'utf8'), 'not a log line\nnor this\n');
  });

  test('all lines too old: the file is emptied', async () => {
    const p = fresh();
    writeFileSync(p, combined(NOW - 10 * DAY, '/a') + combined(NOW - 9 * DAY, '/b'));
    const f = open(p, { kind: 'days', days: 2 });
    await f.started;
    await f.close();
    assert.equal(readFileSync(p, 'utf8'), '');
  });

  test('last N keeps the N newest lines; size keeps at most that many bytes of whole newest lines', async () => {
    const lines = Array.from({ length: 2000 }, (_v, i) => combined(NOW - (2000 - i) * 1000, `/l${String(i)}`));
    const p = fresh();
    writeFileSync(p, lines.join(''));
    const f = open(p, { kind: 'last', lines: 3 });
    await f.started;
    await f.close();
    assert.equal(readFileSync(p, 'utf8'), lines.slice(-3).join(''));

    const q = fresh();
    writeFileSync(q, lines.join(''));
    const budget = 100 * 1024;
    const g = open(q, { kind: 'size', bytes: budget });
    await g.started;
    await g.close();
    const kept = readFileSync(q, 'utf8');
    assert.ok(kept.length <= budget && kept.length > budget - 200, String(kept.length));
    assert.ok(lines.join('').endsWith(kept));
    assert.ok(kept.startsWith('10.0.0.1 - - ['), 'starts on a whole line');

    const small = fresh();
    writeFileSync(small, lines.slice(0, 2).join(''));
    const h = open(small, { kind: 'last', lines: 3 });
    assert.equal(await h.started, 0);
    await h.close();
  });

  test('the rotate interval applies it again, with lines logged meanwhile kept', async () => {
    const p = fresh();
    let now = NOW;
    const f = new LogFile(p, { log: silentLogger, now: () => now, bufferSize: 65536, retention: { kind: 'days', days: 1 }, rotateIntervalMs: 3_600_000 });
    await f.started;
    f.append(combined(NOW, '/first'));
    await f.flush();
    now = NOW + 2 * DAY;
    f.append(combined(now, '/second'));
    await f.applyRetention();
    await f.close();
    assert.equal(readFileSync(p, 'utf8'), combined(NOW + 2 * DAY, '/second'));
  });
});

describe('files', () => {
  test('moved away (logrotate create): the rest goes to the old file, new lines to a new file at the path', async () => {
    const p = fresh();
    const f = open(p, undefined);
    f.append('one\n');
    renameSync(p, `${p}.1`);
    f.append('two\n');
    assert.equal(await f.reopenIfMoved(), true);
    f.append('three\n');
    assert.equal(await f.reopenIfMoved(), false);
    await f.close();
    assert.equal(readFileSync(`${p}.1`, 'utf8'), 'one\ntwo\n');
    assert.equal(readFileSync(p, 'utf8'), 'three\n');
  });

  test('reopen (SIGHUP) after a copy-less rotation; deleted file recreated', async () => {
    const p = fresh();
    const f = open(p, undefined);
    f.append('a\n');
    await f.flush();
    rmSync(p);
    assert.equal(await f.reopenIfMoved(), true);
    f.append('b\n');
    await f.reopen();
    f.append('c\n');
    await f.close();
    assert.equal(readFileSync(p, 'utf8'), 'b\nc\n');
  });

  test('a buffer past buffer_size starts a write without waiting for the timer', async () => {
    const p = fresh();
    const f = new LogFile(p, { log: silentLogger, now: () => NOW, bufferSize: 4096, retention: undefined, rotateIntervalMs: 3_600_000, flushMs: 3_600_000 });
    const line = `${'x'.repeat(99)}\n`;
    for (let i = 0; i < 50; i++) f.append(line);
    // no timer will write (flushMs is an hour): only the write append started can get bytes there
    for (let i = 0; i < 2000 && statSync(p).size === 0; i++) await new Promise((r) => setTimeout(r, 5));
    assert.ok(statSync(p).size >= 4000, String(statSync(p).size));
    await f.flush();
    assert.equal(readFileSync(p, 'utf8').length, 5000);
    await f.close();
  });

  test('a path that cannot be opened is an AccessLogError naming it and why; probeLogPath says the same without creating anything', () => {
    const missingDir = join(dir, 'nope', 'access.log');
    assert.throws(() => open(missingDir, undefined), (err: unknown) => err instanceof AccessLogError && err.code === 'ACCESS_LOG_OPEN_FAILED' && err.message.includes('its directory does not exist') && err.message.includes(missingDir));
    assert.match(probeLogPath(missingDir) ?? '', /its directory .* does not exist/);
    assert.throws(() => open(dir, undefined), /not a regular file|EISDIR/);
    assert.match(probeLogPath(dir) ?? '', /not a regular file/);
    const fine = join(dir, 'probe-only.log');
    assert.equal(probeLogPath(fine), undefined);
    assert.throws(() => statSync(fine), /ENOENT/, 'probe must not create the file');
    if (process.getuid?.() !== 0) {
      const ro = join(dir, 'ro');
      mkdirSync(ro);
      chmodSync(ro, 0o500);
      assert.match(probeLogPath(join(ro, 'a.log')) ?? '', /no permission/);
      assert.throws(() => open(join(ro, 'a.log'), undefined), /permission denied/);
      chmodSync(ro, 0o700);
    }
  });
});
