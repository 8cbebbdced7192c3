// access_log through a whole Bellhop (docs/access-log.md): real requests on real sockets produce
// the expected lines in temp files, for each format; filters and fields; the real client IP
// behind a trusted proxy (404s included); GoAccess reads the combined file; a file that cannot be
// opened stops the process at start; SIGHUP and a moved file reopen it.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { createBellhop, type Bellhop } from '../../cmd/bellhop/app.ts';
import { loadConfig } from '../../internal/config/index.ts';
import { lineTime } from '../../internal/accesslog/index.ts';
import { freePort } from '../support/bellhop-harness.ts';
import { waitFor } from '../support/docker-test.ts';

const MAIN = fileURLToPath(new URL('../../cmd/bellhop/main.ts', import.meta.url));

// GoAccess's COMBINED / COMMON as regular expressions over a whole line (format-and-parse.test.ts)
const QUOTED = '"((?:[^"\\\\]|\\\\.)*)"';
const HEAD = '^(\\S+) - - \\[(\\d{2}/[A-Z][a-z]{2}/\\d{4}:\\d{2}:\\d{2}:\\d{2} [+-]\\d{4})\\] ';
const COMMON_RE = new RegExp(`${HEAD}${QUOTED} (\\d{3}) (\\d+|-)$`);
const COMBINED_RE = new RegExp(`${HEAD}${QUOTED} (\\d{3}) (\\d+|-) ${QUOTED} ${QUOTED}$`);
// fail2ban filter from docs/access-log.md
const FAIL2BAN_RE = /^(\S+) \S+ \S+ \[[^\]]+\] "[^"]*" (401|403) /;

interface Reply { status: number; body: string; headers: Record<string, string | string[] | undefined> }

function send(port: number, host: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: init.method ?? 'GET', agent: false, headers: { host, ...init.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

let backend: Server;
let backendPort = 0;
const dir = mkdtempSync(join(tmpdir(), 'bellhop-alog-'));

before(async () => {
  backend = createServer((req, res) => {
    if (req.url?.startsWith('/denied') === true) {
      res.writeHead(403, { 'content-type': 'text/plain' });
      res.end('no');
      return;
    }
    req.resume();
    req.on('end', () => {
      const body = `hello ${req.url ?? ''}`;
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(body)) });
      res.end(body);
    });
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  backendPort = (backend.address() as AddressInfo).port;
});

after(async () => {
  await new Promise<void>((r) => backend.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

async function start(sub: string, yaml: string): Promise<{ bellhop: Bellhop; port: number; dir: string; stop(): Promise<void> }> {
  const d = join(dir, sub);
  spawnSync('mkdir', ['-p', d]);
  writeFileSync(join(d, 'config.yml'), `docker: { hosts: [] }\nsticky: { secret_file: ${join(d, 'sticky.key')} }\n${yaml}\n`);
  const loaded = loadConfig({ env: {}, cwd: d });
  if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.format()).join('\n'));
  const bellhop = createBellhop(loaded.config, pino({ level: process.env['ALOG_DEBUG'] === undefined ? 'silent' : 'debug' }), new Uint8Array(32).fill(7));
  const ports = await bellhop.start({ http: { host: '127.0.0.1', port: 0 } });
  return { bellhop, port: ports.httpPort, dir: d, stop: () => bellhop.stop() };
}

function lines(path: string): string[] {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((l) => l !== '') : [];
}

describe('access_log through Bellhop', () => {
  test('entrypoint combined + route common + route json: each request once per log, Apache lines byte for byte', async () => {
    const entry = join(dir, 'one', 'entry.log');
    const appLog = join(dir, 'one', 'app.log');
    const apiLog = join(dir, 'one', 'api.json');
    const b = await start('one', [
      'api: { listen: "" }',
      'entrypoint:',
      '  trusted_proxies: [127.0.0.1]',
      `  access_log: { format: combined, path: ${entry} }`,
      'routes:',
      '  app:',
      `    url: http://127.0.0.1:${String(backendPort)}`,
      '    healthcheck: { disable: true }',
      `    access_log: { format: common, path: ${appLog}, filters: { method: { values: [POST], negative: true } } }`,
      '  api:',
      `    url: http://127.0.0.1:${String(backendPort)}`,
      '    healthcheck: { disable: true }',
      '    access_log:',
      '      format: json',
      `      path: ${apiLog}`,
      '      fields:',
      '        headers: { default: keep, config: { authorization: redact, x-secret: drop } }',
      '        query: { config: { token: redact } }',
      '        cookies: { default: redact, config: { theme: keep } }',
    ].join('\n'));
    try {
      const t0 = Date.now() - 1000;
      const xff = { 'x-forwarded-for': '203.0.113.9' };
      const ok = await send(b.port, 'app', '/hello?x=1&y=%20', { headers: { ...xff, referer: 'http://ref.example/', 'user-agent': 'ua "quoted"/1.0' } });
      assert.equal(ok.status, 200);
      const posted = await send(b.port, 'app', '/form', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'abc' });
      assert.equal(posted.status, 200);
      const missing = await send(b.port, 'nothing.example', '/wp-login.php', { headers: { ...xff, accept: 'application/json' } });
      assert.equal(missing.status, 404);
      const denied = await send(b.port, 'app', '/denied', { headers: { 'x-forwarded-for': '198.51.100.7' } });
      assert.equal(denied.status, 403);
      const api = await send(b.port, 'api', '/v1/items?token=abc&page=2', { headers: { authorization: 'Bearer s3cret', 'x-secret': 'x', cookie: 'theme=dark; sid=42' } });
      assert.equal(api.status, 200);
      await b.bellhop.flushAccessLogs();
      const t1 = Date.now() + 1000;

      // the entrypoint's log: every request, routed or not, in order
      const e = lines(entry);
      assert.equal(e.length, 5, e.join('\n'));
      for (const l of e) {
        assert.match(l, COMBINED_RE);
        const t = lineTime(l)!;
        assert.ok(t >= t0 && t <= t1, `time ${String(t)} of ${l}`);
      }
      const strip = (l: string): string => l.replace(/\[[^\]]+\]/, '[T]');
      assert.deepEqual(e.map(strip), [
        `203.0.113.9 - - [T] "GET /hello?x=1&y=%20 HTTP/1.1" 200 ${String(Buffer.byteLength('hello /hello?x=1&y=%20'))} "http://ref.example/" "ua \\"quoted\\"/1.0"`,
        `127.0.0.1 - - [T] "POST /form HTTP/1.1" 200 ${String('hello /form'.length)} "-" "-"`,
        // Bellhop's own 404: real client behind the trusted proxy, its body's length
        `203.0.113.9 - - [T] "GET /wp-login.php HTTP/1.1" 404 ${String(Buffer.byteLength(missing.body))} "-" "-"`,
        `198.51.100.7 - - [T] "GET /denied HTTP/1.1" 403 2 "-" "-"`,
        `127.0.0.1 - - [T] "GET /v1/items?token=abc&page=2 HTTP/1.1" 200 ${String(Buffer.byteLength(api.body))} "-" "-"`,
      ]);
      assert.deepEqual(e.filter((l) => FAIL2BAN_RE.test(l)).map((l) => FAIL2BAN_RE.exec(l)![1]), ['198.51.100.7'], 'the fail2ban filter of the docs finds the 403');

      // the route's common log: its own requests only, POST filtered out
      const a = lines(appLog);
      assert.deepEqual(a.map(strip), [
        `203.0.113.9 - - [T] "GET /hello?x=1&y=%20 HTTP/1.1" 200 ${String(Buffer.byteLength('hello /hello?x=1&y=%20'))}`,
        '198.51.100.7 - - [T] "GET /denied HTTP/1.1" 403 2',
      ]);
      for (const l of a) assert.match(l, COMMON_RE);

      // the JSON route: GoDoxy's fields, redactions applied
      const j = lines(apiLog).map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.equal(j.length, 1);
      const o = j[0]!;
      assert.deepEqual({ ...o, time: 'T' }, {
        level: 'info', time: 'T', ip: '127.0.0.1', method: 'GET', scheme: 'http', host: 'api', path: '/v1/items', protocol: 'HTTP/1.1',
        status: 200, type: 'text/plain; charset=utf-8', size: Buffer.byteLength(api.body), referer: '', useragent: '',
        query: { token: ['REDACTED'], page: ['2'] },
        headers: { Authorization: ['REDACTED'], Cookie: ['theme=dark; sid=42'], Connection: ['close'] },
        cookies: { theme: 'dark', sid: 'REDACTED' },
      });

      // GoAccess itself, when installed (Debian package goaccess)
      const which = spawnSync('sh', ['-c', 'command -v goaccess']);
      if (which.status === 0) {
        const report = join(b.dir, 'report.json');
        const r = spawnSync('goaccess', [entry, '--log-format=COMBINED', '--no-global-config', '-o', report], { encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
        const general = (JSON.parse(readFileSync(report, 'utf8')) as { general: { total_requests: number; valid_requests: number; failed_requests: number } }).general;
        assert.deepEqual([general.total_requests, general.valid_requests, general.failed_requests], [5, 5, 0]);
      } else {
        process.stderr.write('[access-log] goaccess not installed: the GoAccess pattern above stands in for it\n');
      }
    } finally {
      await b.stop();
    }
  });

  test('filters on status and cidr; query fields in the request line; a changed access_log applies on reload', async () => {
    const log = join(dir, 'two', 'errors.log');
    const other = join(dir, 'two', 'other.log');
    const routeYaml = (alog: string): string => [
      'api: { listen: "" }',
      'routes:',
      '  app:',
      `    url: http://127.0.0.1:${String(backendPort)}`,
      '    healthcheck: { disable: true }',
      `    access_log: ${alog}`,
    ].join('\n');
    const b = await start('two', routeYaml(`{ format: common, path: ${log}, filters: { status_codes: { values: ["400-599"] }, cidr: { values: [10.0.0.0/8], negative: true } }, fields: { query: { default: keep, config: { token: redact, debug: drop } } } }`));
    try {
      await send(b.port, 'app', '/ok');
      await send(b.port, 'app', '/denied?token=t0p&debug=1&page=3');
      await b.bellhop.flushAccessLogs();
      assert.deepEqual(lines(log).map((l) => l.replace(/\[[^\]]+\]/, '[T]')), ['127.0.0.1 - - [T] "GET /denied?token=REDACTED&page=3 HTTP/1.1" 403 2']);

      // hot reload: the route's log moves to another file and format
      writeFileSync(join(b.dir, 'config.yml'), `docker: { hosts: [] }\nsticky: { secret_file: ${join(b.dir, 'sticky.key')} }\n${routeYaml(`{ format: json, path: ${other} }`)}\n`);
      const loaded = loadConfig({ env: {}, cwd: b.dir });
      assert.ok(loaded.ok);
      b.bellhop.applyConfig(loaded.config);
      await send(b.port, 'app', '/after');
      await b.bellhop.flushAccessLogs();
      assert.equal(lines(log).length, 1);
      assert.deepEqual(lines(other).map((l) => (JSON.parse(l) as { path: string }).path), ['/after']);
    } finally {
      await b.stop();
    }
  });
});

describe('the process', () => {
  test('a file that cannot be opened stops the start with ACCESS_LOG_OPEN_FAILED and the path; bellhop check says so too', () => {
    const d = join(dir, 'bad');
    spawnSync('mkdir', ['-p', d]);
    const path = join(d, 'no-such-dir', 'access.log');
    writeFileSync(join(d, 'config.yml'), `docker: { hosts: [] }\napi: { listen: "" }\nentrypoint: { http: "127.0.0.1:1", access_log: { path: ${path} } }\nsticky: { secret_file: ${join(d, 'sticky.key')} }\n`);
    const r = spawnSync(process.execPath, [MAIN], { cwd: d, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /entrypoint\.access_log\.path: access log .*no-such-dir\/access\.log cannot be created: its directory .* does not exist/);
    assert.match(r.stdout, /"code":"ACCESS_LOG_OPEN_FAILED"/);
    writeFileSync(join(d, 'compose.yml'), 'services:\n  app:\n    image: busybox\n    labels: { proxy.aliases: app, proxy.app.port: "80" }\n');
    const c = spawnSync(process.execPath, [MAIN, 'check', 'compose.yml'], { cwd: d, encoding: 'utf8', timeout: 60_000 });
    assert.equal(c.status, 1);
    assert.match(c.stderr, /ACCESS_LOG_OPEN_FAILED[\s\S]*no-such-dir/);
  });

  test('SIGHUP reopens the file at its path (logrotate postrotate); a moved file is followed by a new one', async () => {
    const d = join(dir, 'hup');
    spawnSync('mkdir', ['-p', d]);
    const path = join(d, 'access.log');
    const port = await freePort();
    writeFileSync(join(d, 'config.yml'), [
      'docker: { hosts: [] }', 'api: { listen: "" }', `sticky: { secret_file: ${join(d, 'sticky.key')} }`,
      `entrypoint: { http: "127.0.0.1:${String(port)}", access_log: { format: common, path: ${path} } }`,
      'routes:', '  app:', `    url: http://127.0.0.1:${String(backendPort)}`, '    healthcheck: { disable: true }',
    ].join('\n'));
    const child = spawn(process.execPath, [MAIN], { cwd: d, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    try {
      await waitFor(() => out.includes('bellhop is serving'), 30_000, 'bellhop to serve');
      assert.equal((await send(port, 'app', '/one')).status, 200);
      await waitFor(() => lines(path).length === 1, 20_000, 'the first line (written within a second)');
      renameSync(path, `${path}.1`);
      child.kill('SIGHUP');
      await waitFor(() => out.includes('reopening access log files') && existsSync(path), 20_000, 'the reopen');
      assert.equal((await send(port, 'app', '/two')).status, 200);
      await waitFor(() => lines(path).length === 1, 20_000, 'the line in the new file');
      assert.match(lines(path)[0]!, /"GET \/two HTTP\/1\.1" 200/);
      assert.deepEqual(lines(`${path}.1`).map((l) => /"GET (\S+)/.exec(l)?.[1]), ['/one']);
      assert.equal(child.exitCode, null, 'SIGHUP does not stop Bellhop');
      // moved again, no signal: noticed within seconds
      renameSync(path, `${path}.2`);
      await waitFor(() => existsSync(path), 20_000, 'the moved file to be reopened at its path');
      assert.equal((await send(port, 'app', '/three')).status, 200);
      await waitFor(() => lines(path).length === 1, 20_000, 'the line in the newest file');
      assert.match(lines(path)[0]!, /GET \/three/);
      // SIGTERM: queued lines are written before the exit
      assert.equal((await send(port, 'app', '/last')).status, 200);
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      assert.deepEqual(lines(path).map((l) => /"GET (\S+)/.exec(l)?.[1]), ['/three', '/last']);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
