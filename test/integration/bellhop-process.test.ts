// The Bellhop process as a user runs it (`node cmd/bellhop/main.ts` with a config file), with
// Docker unreachable: it still serves file routes, hot-reloads config edits without touching
// connections of other routes, keeps the running config on a broken edit, refuses a bad config
// at startup with located errors, and drains on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, Agent, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBellhop, type BellhopUnderTest } from '../support/bellhop-harness.ts';

const MAIN = fileURLToPath(new URL('../../cmd/bellhop/main.ts', import.meta.url));
const NO_DOCKER = 'docker:\n  hosts: ["unix:///tmp/bellhop-no-such-docker.sock"]\n';

interface Backend {
  server: Server;
  port: number;
  /** responses to /slow (first line sent) and /held (nothing sent yet) waiting for release(), with their next line */
  slow: Map<ServerResponse, number>;
  /** Lets every waiting response finish: its remaining lines, 20 ms apart. */
  release(): void;
}

async function backend(name: string): Promise<Backend> {
  // Held until the test releases them, so "in flight across a reload / the SIGTERM" does not
  // depend on the reload or the signal being handled within some number of ms.
  const slow = new Map<ServerResponse, number>();
  const server = createServer((req, res) => {
    if (req.url === '/slow' || req.url === '/held') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      if (req.url === '/slow') res.write(`${name}-0\n`);
      slow.set(res, req.url === '/slow' ? 1 : 0);
      return;
    }
    res.end(name);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const release = (): void => {
    for (const [res, next] of slow) {
      slow.delete(res);
      let i = next;
      const t = setInterval(() => {
        res.write(`${name}-${String(i)}\n`);
        if (++i === 6) {
          clearInterval(t);
          res.end();
        }
      }, 20);
      res.on('close', () => clearInterval(t));
    }
  };
  return { server, port: (server.address() as AddressInfo).port, slow, release };
}

/** Long enough for a process on a busy machine; a wait ends as soon as its state holds. */
const EVENTUALLY_MS = 20_000;

function get(port: number, host: string, path: string, agent?: Agent): Promise<{ status: number; body: string; localPort: number; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host }, agent: agent ?? false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, localPort: (req.socket as Socket).localPort ?? 0, connection: res.headers.connection }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function until<T>(fn: () => Promise<T | undefined> | T | undefined, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await Promise.resolve().then(fn).catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function routesYaml(a: number, b?: number): string {
  return `routes:\n  alpha:\n    url: http://127.0.0.1:${String(a)}\n    healthcheck: { interval: 1s }\n${b === undefined ? '' : `  beta:\n    url: http://127.0.0.1:${String(b)}\n    healthcheck: { interval: 1s }\n`}`;
}

/** Rewrites config.yml the way editors do: write a new file, rename it over the old one. */
function editConfig(bh: BellhopUnderTest, change: (text: string) => string): void {
  const file = join(bh.dir, 'config.yml');
  const next = change(readFileSync(file, 'utf8'));
  writeFileSync(`${file}.tmp`, next);
  renameSync(`${file}.tmp`, file);
}

test('Docker unreachable: file routes serve, the admin API says so, nothing crashes', async (t) => {
  const a = await backend('alpha');
  const bh = await startBellhop({ yaml: NO_DOCKER + routesYaml(a.port) });
  t.after(async () => {
    await bh.stop();
    a.server.close();
  });
  const r = await until(async () => {
    const x = await bh.get('alpha');
    return x.status === 200 ? x : undefined;
  }, EVENTUALLY_MS, 'alpha to answer');
  assert.equal(r.body, 'alpha');
  const view = await bh.routes();
  assert.equal(view.docker.length, 1);
  assert.notEqual(view.docker[0]!.state, 'synced');
  assert.equal(view.docker[0]!.seconds_since_sync, null, 'never synced');
  assert.ok(bh.logs().some((l) => /"level":(40|50)/.test(l) && /docker/i.test(l)), 'a warning or error about Docker is logged');
  assert.equal(bh.exited(), undefined);
});

test('hot reload: a new route appears, an in-flight response and a keep-alive connection of another route are untouched; a broken edit keeps the running config', async (t) => {
  const a = await backend('alpha');
  const b = await backend('beta');
  const bh = await startBellhop({ yaml: NO_DOCKER + routesYaml(a.port) });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.after(async () => {
    agent.destroy();
    await bh.stop();
    a.server.close();
    b.server.close();
  });
  const first = await until(async () => {
    const x = await get(bh.httpPort, 'alpha', '/', agent);
    return x.status === 200 ? x : undefined;
  }, EVENTUALLY_MS, 'alpha');
  assert.equal((await bh.get('beta')).status, 404);

  // A slow response on alpha is in flight while the file changes, held until the reload applied.
  const inFlight = get(bh.httpPort, 'alpha', '/slow');
  await until(() => (a.slow.size > 0 ? true : undefined), EVENTUALLY_MS, 'slow response to start');
  editConfig(bh, (text) => text.replace(routesYaml(a.port), routesYaml(a.port, b.port)));
  const beta = await until(async () => {
    const x = await bh.get('beta');
    return x.status === 200 ? x : undefined;
  }, EVENTUALLY_MS, 'beta after the reload');
  assert.equal(beta.body, 'beta');
  a.release();
  const slow = await inFlight;
  assert.equal(slow.status, 200);
  assert.equal(slow.body, 'alpha-0\nalpha-1\nalpha-2\nalpha-3\nalpha-4\nalpha-5\n', 'the response in flight finished whole');
  const again = await get(bh.httpPort, 'alpha', '/', agent);
  assert.equal(again.body, 'alpha');
  assert.equal(again.localPort, first.localPort, 'the keep-alive connection to alpha survived the reload');

  // A broken edit: errors logged with key path and line, running routes kept.
  editConfig(bh, (text) => text.replace('healthcheck: { interval: 1s }', 'healthcheck: { interval: 5 }'));
  const logged = await until(() => bh.logs().find((l) => l.includes('config change rejected')), EVENTUALLY_MS, 'the rejected edit to be logged');
  assert.match(logged, /routes\.alpha\.healthcheck\.interval/);
  assert.match(logged, /config\.yml:\d+/);
  assert.equal((await bh.get('alpha')).body, 'alpha');
  assert.equal((await bh.get('beta')).body, 'beta');
  // The admin API lists the rejected edit's errors, naming the file, key and line (README.md "Admin API and metrics").
  const rejected = (await bh.routes()).errors.filter((e) => e.code.startsWith('CONFIG_'));
  assert.deepEqual(rejected.map((e) => ({ code: e.code, source: e.source, key: e.key, line: (e as { line?: number }).line })), [
    { code: 'CONFIG_BAD_DURATION', source: join(bh.dir, 'config.yml'), key: 'routes.alpha.healthcheck.interval', line: readFileSync(join(bh.dir, 'config.yml'), 'utf8').split('\n').findIndex((l) => l.includes('interval: 5 }')) + 1 },
  ]);
  assert.match(rejected[0]!.message, /5s/);

  // Removing a route applies; the other keeps answering.
  editConfig(bh, () => readFileSync(join(bh.dir, 'config.yml'), 'utf8').replace('interval: 5 }', 'interval: 1s }').replace(/ {2}beta:\n.*\n.*\n/, ''));
  await until(async () => ((await bh.get('beta')).status === 404 ? true : undefined), EVENTUALLY_MS, 'beta to go');
  assert.equal((await bh.get('alpha')).body, 'alpha');
  assert.deepEqual((await bh.routes()).errors, [], 'the good edit cleared the config errors');
});

test('a bad config file stops startup with one located error per problem (exit 1)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bellhop-badcfg-'));
  const file = join(dir, 'config.yml');
  writeFileSync(file, 'entrypoint:\n  htp: ":80"\n  timeouts:\n    idle: 60\nroutes:\n  web:\n    url: ftp://x\n');
  const child = spawn(process.execPath, [MAIN], { cwd: dir, env: { ...process.env, BELLHOP_CONFIG: file }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => (err += d));
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => (out += d));
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  assert.equal(code, 1);
  assert.match(err, /3 problem/);
  // the same as one JSON log line on stdout, for log collectors
  const line = JSON.parse(out.trim()) as { level: number; app: string; module: string; file: string; errors: string[]; msg: string };
  assert.equal(line.level, 60);
  assert.equal(line.app, 'bellhop');
  assert.equal(line.file, file);
  assert.equal(line.errors.length, 3);
  assert.match(line.errors[0] ?? '', /config\.yml:2 entrypoint\.htp/);
  assert.equal(line.msg, 'the config has 3 problem(s); not starting');
  assert.match(err, /config\.yml:2 entrypoint\.htp: .*did you mean "http"/);
  assert.match(err, /config\.yml:4 entrypoint\.timeouts\.idle: .*60s/);
  assert.match(err, /config\.yml:7 routes\.web\.url/);
});

test('a sticky key file that is too short stops startup with one clear line (exit 1, no stack)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bellhop-badkey-'));
  const key = join(dir, 'sticky.key');
  writeFileSync(key, 'c2hvcnQ\n');
  writeFileSync(join(dir, 'config.yml'), `${NO_DOCKER}sticky:\n  secret_file: ${key}\n`);
  const child = spawn(process.execPath, [MAIN], { cwd: dir, env: { ...process.env, BELLHOP_CONFIG: join(dir, 'config.yml') }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => (err += d));
  child.stdout.resume();
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  rmSync(dir, { recursive: true, force: true });
  assert.equal(code, 1);
  assert.equal(err, `bellhop: sticky.secret_file ${key}: key shorter than 16 bytes; delete it to get a new one\n`);
});

test('SIGTERM: an in-flight response finishes with Connection: close, then exit 0', async () => {
  const a = await backend('alpha');
  // a drain deadline no wait here comes near: the response is cut only if the drain does not wait
  const bh = await startBellhop({ yaml: `${NO_DOCKER + routesYaml(a.port)}entrypoint:\n  timeouts: { drain: 60s }\n` });
  try {
    await until(async () => ((await bh.get('alpha')).status === 200 ? true : undefined), EVENTUALLY_MS, 'alpha');
    // its head is held back until the drain has begun, so Bellhop can still say Connection: close
    const inFlight = get(bh.httpPort, 'alpha', '/held');
    await until(() => (a.slow.size > 0 ? true : undefined), EVENTUALLY_MS, 'slow response to start');
    const stopped = bh.stop();
    await until(() => bh.logs().find((l) => l.includes('"msg":"draining"')), EVENTUALLY_MS, 'the drain to begin');
    a.release();
    const r = await inFlight;
    assert.equal(r.body.split('\n').filter(Boolean).length, 6, 'the response finished whole');
    assert.equal(r.connection, 'close');
    await stopped;
    assert.deepEqual(bh.exited(), { code: 0, signal: null });
  } finally {
    await bh.stop();
    a.server.close();
  }
});
