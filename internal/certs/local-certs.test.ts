// The `local` provider with real files and a real TLS listener: certificates are loaded at
// start, swapped when the files change on disk (write + rename, as cert tools do), a broken
// file keeps the previous certificate and is reported, and SNI picks exact, then wildcard,
// then main.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../pkg/log/index.ts';
import { handshake } from '../../test/support/cert-client.ts';
import { waitFor } from '../../test/support/pebble.ts';
import { makeTestCert, type TestCert } from '../../test/support/test-certs.ts';
import { CertManager, type CertsOptions } from './index.ts';

const cleanups: (() => unknown)[] = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

function folder(): string {
  const d = mkdtempSync(join(tmpdir(), 'bellhop-local-certs-'));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** Replaces a file the way cert tools do: write beside it, rename over it. */
function replace(path: string, text: string): void {
  writeFileSync(`${path}.new`, text);
  renameSync(`${path}.new`, path);
}

function install(dir: string, name: string, cert: TestCert): { certPath: string; keyPath: string } {
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  replace(keyPath, cert.keyPem);
  replace(certPath, cert.certPem);
  return { certPath, keyPath };
}

function recordingLogger(): Logger & { lines: { level: string; obj: object; msg: string }[] } {
  const lines: { level: string; obj: object; msg: string }[] = [];
  const at = (level: string) => (obj: object, msg: string) => { lines.push({ level, obj, msg }); };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

async function serve(m: CertManager): Promise<number> {
  const server: Server = createServer({ ...m.tlsServerOptions(['http/1.1']) }, (s: TLSSocket) => s.end());
  server.on('tlsClientError', () => undefined);
  m.attach(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => server.close());
  return (server.address() as { port: number }).port;
}

async function started(options: CertsOptions, logger?: Logger): Promise<CertManager> {
  const m = new CertManager(options, { filePollMs: 300, ...(logger ? { logger } : {}) });
  cleanups.push(() => m.close());
  await m.start();
  return m;
}

test('local: loads the files, swaps in a replaced certificate for new handshakes, keeps the old one when a file breaks', async () => {
  const dir = folder();
  const first = makeTestCert(['app.example.test']);
  const paths = install(dir, 'main', first);
  const log = recordingLogger();
  const m = await started({ provider: 'local', ...paths, dataDir: dir }, log);
  const port = await serve(m);

  assert.equal((await handshake(port, 'app.example.test')).serial, first.serial);
  const [st] = m.status();
  assert.equal(st?.state, 'valid');
  assert.equal(st?.source, 'local');
  assert.deepEqual(st?.names, ['app.example.test']);
  assert.equal(st?.nextRenewal, null);
  assert.ok(st?.notAfter !== null && Date.parse(st.notAfter) > Date.now());

  // Replaced on disk (key, then cert, each renamed into place).
  const second = makeTestCert(['app.example.test', 'www.example.test']);
  install(dir, 'main', second);
  await waitFor(async () => (await handshake(port, 'www.example.test')).serial === second.serial, 15_000, 'the replaced certificate');
  assert.ok(log.lines.some((l) => l.msg === 'certificate reloaded from disk'));

  // A broken certificate file: the previous certificate stays, the problem is reported.
  replace(paths.certPath, '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n');
  const failed = await waitFor(() => m.status().find((s) => s.state === 'failed'), 15_000, 'the failure to show');
  assert.match(failed.lastError ?? '', /CERTS_FILE_INVALID/);
  assert.deepEqual([...failed.names].sort(), ['app.example.test', 'www.example.test']);
  assert.equal((await handshake(port, 'app.example.test')).serial, second.serial);
  assert.ok(log.lines.some((l) => l.level === 'error' && l.msg === 'certificate files are broken; keeping the previous certificate'));

  // A key that does not belong to the certificate is refused the same way.
  replace(paths.certPath, makeTestCert(['app.example.test']).certPem);
  await waitFor(() => /does not belong/.test(m.status()[0]?.lastError ?? ''), 15_000, 'the key mismatch');
  assert.equal((await handshake(port, 'app.example.test')).serial, second.serial);

  // Fixed: valid again.
  const third = makeTestCert(['app.example.test']);
  install(dir, 'main', third);
  await waitFor(() => m.status()[0]?.state === 'valid', 15_000, 'the fixed files');
  assert.equal((await handshake(port, 'app.example.test')).serial, third.serial);
  assert.equal(m.expirySeconds()[0]?.names, 'app.example.test');
});

test('SNI: exact name first, then a one-label wildcard, then the main certificate; no SNI gets the main one', async () => {
  const dir = folder();
  const main = makeTestCert(['main.example.test']);
  const wild = makeTestCert(['*.example.test']);
  const exact = makeTestCert(['exact.example.test', '*.other.test']);
  const m = await started({
    provider: 'local', ...install(dir, 'main', main), dataDir: dir,
    extra: [{ ...install(dir, 'wild', wild) }, { ...install(dir, 'exact', exact) }],
  });
  const port = await serve(m);
  const serialFor = async (name: string | undefined): Promise<string> => (await handshake(port, name)).serial;
  assert.equal(await serialFor('exact.example.test'), exact.serial);
  assert.equal(await serialFor('EXACT.Example.Test'), exact.serial);
  assert.equal(await serialFor('foo.example.test'), wild.serial);
  assert.equal(await serialFor('x.other.test'), exact.serial);
  assert.equal(await serialFor('a.b.example.test'), main.serial);
  assert.equal(await serialFor('example.test'), main.serial);
  assert.equal(await serialFor('unknown.test'), main.serial);
  assert.equal(await serialFor(undefined), main.serial);
  assert.ok(m.hasCertificateFor('foo.example.test'));
  assert.ok(!m.hasCertificateFor('unknown.test'));
  assert.equal(m.status().length, 3);
  // Per-host certificates are for http01/tlsalpn01 without domains only.
  assert.equal(m.perHost, false);
  await m.ensureHosts(['new.example.test']);
  assert.equal(m.status().length, 3);
});

test('local: missing files are reported (inspect() too, for bellhop check) and handshakes fail until the files appear', async () => {
  const dir = folder();
  const certPath = join(dir, 'late.crt');
  const keyPath = join(dir, 'late.key');
  const checked = await new CertManager({ provider: 'local', certPath, keyPath, dataDir: dir, extra: [{ certPath: join(dir, 'acme.crt'), keyPath: join(dir, 'acme.key'), provider: 'exec', domains: ['acme.example.test'], options: { command: '/bin/false' } }] }).inspect();
  assert.deepEqual(checked.map((s) => [s.state, s.source]), [['failed', 'local'], ['missing', 'exec']]);
  assert.match(checked[0]?.lastError ?? '', /late\.crt and .*late\.key missing/);

  const m = await started({ provider: 'local', certPath, keyPath, dataDir: dir });
  const port = await serve(m);
  const [st] = m.status();
  assert.equal(st?.state, 'failed');
  assert.match(st?.lastError ?? '', /CERTS_FILE_UNREADABLE.*late\.crt and .*late\.key missing/);
  await assert.rejects(handshake(port, 'late.example.test'));
  assert.equal(m.secureContextFor('late.example.test'), undefined);

  const cert = makeTestCert(['late.example.test']);
  install(dir, 'late', cert);
  await waitFor(async () => (await handshake(port, 'late.example.test')).serial === cert.serial, 15_000, 'the new files to be used');
  assert.equal(m.status()[0]?.state, 'valid');
});
