// Renewal and external account binding against real Pebbles. Renewal uses Pebble's
// certificateValidityPeriod (a short lifetime, so a third of it comes quickly): new handshakes
// get the renewed certificate at once while a connection opened before keeps working. EAB:
// Pebble requires a binding; the right kid/HMAC registers, a wrong HMAC is a visible failure.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertManager } from '../../internal/certs/index.ts';
import { handshake } from '../support/cert-client.ts';
import { pebbleMissing, startPebble, waitFor, writeDnsHook, type Pebble } from '../support/pebble.ts';

const missing = pebbleMissing();
const skip = missing !== undefined && !process.env['CI'] ? missing : false;
const cleanups: (() => Promise<void> | void)[] = [];

after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function setUp(opts: Parameters<typeof startPebble>[0]): Promise<{ pebble: Pebble; work: string }> {
  const work = mkdtempSync(join(tmpdir(), 'bellhop-certs-renew-'));
  cleanups.push(() => rmSync(work, { recursive: true, force: true }));
  const pebble = await startPebble(opts);
  cleanups.push(() => pebble.stop());
  return { pebble, work };
}

test('renewal: a third of the lifetime before expiry a new certificate is obtained and new handshakes get it; open connections keep going', { skip }, async () => {
  const { pebble, work } = await setUp({ validitySeconds: 15 });
  const root = await pebble.rootPem();
  const statesAtOrder: string[] = [];
  const m: CertManager = new CertManager({
    provider: 'exec', domains: ['renew.example.test'], options: { command: writeDnsHook(work, pebble) },
    caDirUrl: pebble.directoryUrl, caCerts: [pebble.caCertPath], dataDir: join(work, 'certs'),
  }, { acmePollMinMs: 100, dnsPropagationMs: 0, retryMinMs: 500, onOrder: () => statesAtOrder.push(m.status()[0]?.state ?? '') });
  cleanups.push(() => m.close());
  const server: TlsServer = createTlsServer({ ...m.tlsServerOptions(['http/1.1']) }, (s) => s.pipe(s));
  server.on('tlsClientError', () => undefined);
  m.attach(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => { server.close(); });
  const port = (server.address() as { port: number }).port;

  await m.start();
  await waitFor(() => m.status()[0]?.state === 'valid', 30_000, 'the first certificate');
  const first = await handshake(port, 'renew.example.test', { ca: root });
  assert.ok(first.authorized, first.authorizationError);
  const st = m.status()[0]!;
  // Due a third of the 15 s lifetime before expiry (renew_before defaults to 30 days, longer).
  assert.ok(Math.abs(Date.parse(st.nextRenewal!) - (Date.parse(st.notAfter!) - 5000)) < 1500, `${st.nextRenewal} vs ${st.notAfter}`);

  // A connection opened before the renewal.
  const open = connect({ host: '127.0.0.1', port, servername: 'renew.example.test', ca: root });
  cleanups.push(() => { open.destroy(); });
  await new Promise<void>((r, j) => { open.once('secureConnect', () => r()); open.once('error', j); });

  const renewed = await waitFor(async () => {
    const seen = await handshake(port, 'renew.example.test', { ca: root });
    return seen.serial !== first.serial ? seen : undefined;
  }, 30_000, 'a renewed certificate on a new handshake');
  assert.ok(renewed.authorized, renewed.authorizationError);
  // Valid again once it serves (with a 15 s lifetime the next renewal starts 10 s later).
  await waitFor(() => m.status()[0]?.state === 'valid', 15_000, 'the valid state after the renewal');
  // While the renewal order ran, the old certificate was served and the state said so.
  assert.deepEqual(statesAtOrder.slice(0, 2), ['missing', 'renewing']);

  const echoed = new Promise<string>((r) => open.once('data', (d: Buffer) => r(d.toString())));
  open.write('still here');
  assert.equal(await echoed, 'still here');

  // No SNI: the main certificate, through the server's default context that attach() keeps current.
  const bare = await handshake(port, undefined, { ca: root });
  assert.ok(bare.names.includes('renew.example.test'));
  await m.close();
});

test('EAB: the account binds with the configured kid and HMAC; a wrong HMAC is a visible, retried failure', { skip }, async () => {
  const hmac = randomBytes(32).toString('base64url');
  const { pebble, work } = await setUp({ eab: { 'kid-1': hmac } });
  const hook = writeDnsHook(work, pebble);
  const base = { provider: 'exec' as const, options: { command: hook }, caDirUrl: pebble.directoryUrl, caCerts: [pebble.caCertPath], eabKid: 'kid-1' };
  const deps = { acmePollMinMs: 100, dnsPropagationMs: 0, retryMinMs: 500 };

  const good = new CertManager({ ...base, domains: ['eab.example.test'], eabHmac: hmac, dataDir: join(work, 'good') }, deps);
  cleanups.push(() => good.close());
  await good.start();
  await waitFor(() => good.status()[0]?.state === 'valid', 30_000, 'a certificate through the bound account');
  assert.match(pebble.log(), /Successful newAccount Binding with CA using kid "kid-1"/);

  const bad = new CertManager({ ...base, domains: ['eab2.example.test'], eabHmac: randomBytes(32).toString('base64url'), dataDir: join(work, 'bad') }, deps);
  cleanups.push(() => bad.close());
  await bad.start();
  const failed = await waitFor(() => bad.status().find((s) => s.state === 'failed'), 30_000, 'the failure');
  assert.match(failed.lastError ?? '', /CERTS_ACME_ACCOUNT_FAILED/);
  assert.ok(failed.nextRenewal !== null);
});
