import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HealthcheckSpec } from '../routes/index.ts';
import { formatDuration } from './format-duration.ts';
import { describeError, Prober, PROBE_USER_AGENT } from './probe.ts';

const hc = (over: Partial<HealthcheckSpec> = {}): HealthcheckSpec => ({
  path: '/health',
  useGet: false,
  intervalMs: 1000,
  timeoutMs: 1000,
  rise: 1,
  fall: 1,
  disable: false,
  ...over,
});

test('formatDuration writes durations the way labels do', () => {
  assert.equal(formatDuration(5000), '5s');
  assert.equal(formatDuration(120_000), '2m');
  assert.equal(formatDuration(1500), '1.5s');
  assert.equal(formatDuration(50), '50ms');
  assert.equal(formatDuration(-3), '0ms');
});

test('describeError keeps the syscall and code, else the message', () => {
  assert.equal(describeError(Object.assign(new Error('x'), { code: 'ECONNREFUSED', syscall: 'connect' })), 'connect ECONNREFUSED');
  assert.equal(describeError(Object.assign(new Error('x'), { code: 'ECONNRESET' })), 'ECONNRESET');
  assert.equal(describeError(Object.assign(new Error('wrapped'), { code: 'UND_ERR_SOCKET', cause: Object.assign(new Error('y'), { code: 'EPIPE', syscall: 'write' }) })), 'write EPIPE');
  assert.equal(describeError(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })), 'other side closed');
  assert.equal(describeError('nope'), 'unknown error');
  assert.equal(describeError({}), 'unknown error');
});

test('HTTP statuses: 200–399 healthy by default, configurable', async (t) => {
  const server = createServer((req, res) => {
    assert.equal(req.headers['user-agent'], PROBE_USER_AGENT);
    res.writeHead(Number(req.url?.slice(1))).end('body that nobody waits for');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`; // trailing slash is tolerated
  const prober = new Prober();
  const only204 = new Prober((s) => s === 204);
  t.after(async () => {
    await prober.close();
    await only204.close();
    server.closeAllConnections();
    server.close();
  });
  const run = (p: Prober, status: number, useGet = false) => p.probe({ url, noTlsVerify: false, healthcheck: hc({ path: `/${status}`, useGet }) });
  assert.equal((await run(prober, 200)).ok, true);
  assert.equal((await run(prober, 302)).ok, true);
  assert.equal((await run(prober, 399, true)).ok, true);
  const r404 = await run(prober, 404);
  assert.deepEqual({ ok: r404.ok, status: r404.status, reason: r404.reason }, { ok: false, status: 404, reason: 'HTTP 404 from /404' });
  assert.equal((await run(prober, 500, true)).ok, false);
  assert.equal((await run(only204, 200)).ok, false);
  assert.equal((await run(only204, 204)).ok, true);
  const noSlash = await prober.probe({ url, noTlsVerify: false, healthcheck: hc({ path: '200' }) });
  assert.equal(noSlash.reason, 'HTTP 200 from /200');
});

test("a member's healthcheck.status: a 404 is healthy with 200-499, unhealthy with the default", async (t) => {
  const server = createServer((_req, res) => {
    res.writeHead(404).end('not here');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const prober = new Prober();
  // A monitor-wide rule is only the fallback: the member's own status wins over it.
  const strict = new Prober((s) => s === 200);
  t.after(async () => {
    await prober.close();
    await strict.close();
    server.closeAllConnections();
    server.close();
  });
  const run = (p: Prober, status?: HealthcheckSpec['status']) => p.probe({ url, noTlsVerify: false, healthcheck: hc(status === undefined ? {} : { status }) });
  const byDefault = await run(prober);
  assert.deepEqual({ ok: byDefault.ok, status: byDefault.status, reason: byDefault.reason }, { ok: false, status: 404, reason: 'HTTP 404 from /health' });
  const wide = await run(prober, [[200, 499]]);
  assert.deepEqual({ ok: wide.ok, status: wide.status, reason: wide.reason }, { ok: true, status: 404, reason: 'HTTP 404 from /health' });
  assert.equal((await run(strict, [[200, 499]])).ok, true);
  assert.equal((await run(prober, [[200, 200], [301, 302]])).ok, false, 'a list that leaves out 404');
  assert.equal((await run(prober, [[200, 200], [404, 404]])).ok, true, 'a list naming 404');
});

test('TCP probe: bad url is a failure with a reason, never a throw', async () => {
  const prober = new Prober();
  const r = await prober.probe({ url: 'not a url', noTlsVerify: false, healthcheck: hc({ path: undefined }) });
  assert.deepEqual({ ok: r.ok, reason: r.reason }, { ok: false, reason: 'bad member url not a url' });
  await prober.close();
});

function selfSigned(): { key: string; cert: string } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'bellhop-health-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'k.pem'), 'utf8'), cert: readFileSync(join(dir, 'c.pem'), 'utf8') };
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const tls = selfSigned();

test('HTTPS member: certificate checked unless no_tls_verify', { skip: tls ? false : 'openssl not available' }, async (t) => {
  const server = createHttpsServer(tls!, (_req, res) => res.writeHead(200).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const prober = new Prober();
  t.after(async () => {
    await prober.close();
    server.closeAllConnections();
    server.close();
  });
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const insecure = await prober.probe({ url, noTlsVerify: true, healthcheck: hc() });
  assert.equal(insecure.ok, true, insecure.reason);
  const strict = await prober.probe({ url, noTlsVerify: false, healthcheck: hc() });
  assert.equal(strict.ok, false);
  assert.match(strict.reason, /self.signed/i);
  // TCP checks on https urls default to port 443 only when no port is given; here it is explicit.
  const tcp = await prober.probe({ url, noTlsVerify: false, healthcheck: hc({ path: undefined }) });
  assert.equal(tcp.ok, true);
});
