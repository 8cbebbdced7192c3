// ACME over HTTP-01 and TLS-ALPN-01 against a real Pebble: the challenge answers come from the
// manager's own hooks on real listeners (a node:http server for /.well-known/acme-challenge/,
// a node:tls server with the manager's SNI/ALPN callbacks), issued chains verify against
// Pebble's root, a restart reuses stored certificates without a new order, and per-host
// automatic HTTPS issues paced certificates while an unreachable host fails and backs off.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertManager, CertsError, type CertsOptions, type CertManagerDeps } from '../../internal/certs/index.ts';
import { handshake } from '../support/cert-client.ts';
import { freePort, pebbleMissing, startPebble, waitFor, type Pebble } from '../support/pebble.ts';

const missing = pebbleMissing();
const skip = missing !== undefined && !process.env['CI'] ? missing : false;

let pebble: Pebble;
let httpServer: Server;
let tlsServer: TlsServer;
let httpPort: number;
let tlsPort: number;
let root: string;
/** The manager the challenge listeners answer for. */
let current: CertManager | undefined;
const dirs: string[] = [];

function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'bellhop-certs-'));
  dirs.push(d);
  return d;
}

function manager(options: Partial<CertsOptions>, deps: CertManagerDeps = {}): CertManager {
  const m = new CertManager({ provider: 'http01', caDirUrl: pebble.directoryUrl, caCerts: [pebble.caCertPath], email: 'ops@example.com', ...options },
    { acmePollMinMs: 100, retryMinMs: 500, hostGapMs: 50, ...deps });
  current = m;
  return m;
}

before(async () => {
  if (skip) return;
  httpPort = await freePort();
  tlsPort = await freePort();
  httpServer = createServer((req, res) => {
    const token = /^\/\.well-known\/acme-challenge\/([^/?]+)$/.exec(req.url ?? '')?.[1];
    const answer = token === undefined ? undefined : current?.httpChallenge(token);
    if (answer === undefined) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': 'text/plain' }).end(answer);
  });
  // Listener options are fixed at creation: delegate to whichever manager is current.
  tlsServer = createTlsServer({
    SNICallback(name, cb) { if (current) current.sniCallback.call(this as unknown as TLSSocket, name, cb); else cb(new Error('no manager')); },
    ALPNCallback(info) { return current ? current.alpnCallback(['http/1.1']).call(this as unknown as TLSSocket, info) : undefined; },
  }, (socket) => socket.end('hello\n'));
  tlsServer.on('tlsClientError', () => undefined);
  await new Promise<void>((r) => httpServer.listen(httpPort, '127.0.0.1', r));
  await new Promise<void>((r) => tlsServer.listen(tlsPort, '127.0.0.1', r));
  pebble = await startPebble({ httpPort, tlsPort });
  root = await pebble.rootPem();
});

after(async () => {
  await current?.close();
  await pebble?.stop();
  httpServer?.close();
  tlsServer?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('http01: obtains a certificate for its domains, serves it by SNI and stores it 0600', { skip }, async () => {
  const dir = dataDir();
  const m = manager({ domains: ['web.example.test', 'www.example.test'], dataDir: dir });
  assert.equal(m.status()[0]?.state, 'missing');
  await m.start();
  const st = await waitFor(() => m.status().find((s) => s.state === 'valid'), 30_000, 'the certificate');
  assert.deepEqual([...st.names].sort(), ['web.example.test', 'www.example.test']);
  assert.equal(st.source, 'http01');
  assert.match(st.issuer ?? '', /Pebble Intermediate/);
  assert.ok(st.nextRenewal !== null && Date.parse(st.nextRenewal) > Date.now());
  assert.equal(st.lastError, null);

  const seen = await handshake(tlsPort, 'www.example.test', { ca: root });
  assert.ok(seen.authorized, seen.authorizationError);
  assert.ok(seen.names.includes('www.example.test'));

  assert.equal(statSync(join(dir, 'priv.key')).mode & 0o777, 0o600);
  assert.equal(statSync(join(dir, 'acme-account.key')).mode & 0o777, 0o600);
  assert.ok(statSync(join(dir, 'cert.crt')).size > 0);
  const [expiry] = m.expirySeconds();
  assert.ok(expiry !== undefined && expiry.seconds > 0 && expiry.names.includes('web.example.test'));

  // A restart with the same data folder reuses the stored certificate: no new order.
  const orders = pebble.orderCount();
  await m.close();
  const again = manager({ domains: ['web.example.test', 'www.example.test'], dataDir: dir });
  await again.start();
  assert.equal(again.status()[0]?.state, 'valid');
  const reused = await handshake(tlsPort, 'web.example.test', { ca: root });
  assert.equal(reused.serial, seen.serial);
  // Give a wrongly scheduled order time to show up in Pebble's log before counting.
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(pebble.orderCount(), orders);

  // A changed domain list no longer covered by the stored certificate is ordered anew.
  await again.close();
  const wider = manager({ domains: ['web.example.test', 'www.example.test', 'api.example.test'], dataDir: dir });
  await wider.start();
  await waitFor(() => wider.status()[0]?.names.includes('api.example.test'), 30_000, 'the wider certificate');
  assert.equal(pebble.orderCount(), orders + 1);
  await wider.close();
});

test('tlsalpn01: answers acme-tls/1 handshakes with the challenge certificate and then serves the issued one', { skip }, async () => {
  const m = manager({ provider: 'tlsalpn01', domains: ['alpn.example.test'], dataDir: dataDir() });
  await m.start();
  await waitFor(() => m.status()[0]?.state === 'valid', 30_000, 'the certificate');
  const seen = await handshake(tlsPort, 'alpn.example.test', { ca: root, alpn: ['http/1.1'] });
  assert.ok(seen.authorized, seen.authorizationError);
  assert.equal(seen.alpn, 'http/1.1');
  // No challenge pending: an acme-tls/1-only client is refused (RFC 8737), not shown the real certificate.
  await assert.rejects(handshake(tlsPort, 'alpn.example.test', { alpn: ['acme-tls/1'] }));
  await m.close();
});

test('a wildcard with http01 or tlsalpn01 is refused up front', { skip }, () => {
  for (const provider of ['http01', 'tlsalpn01'] as const) {
    assert.throws(() => manager({ provider, domains: ['*.example.test'] }), (err: unknown) => err instanceof CertsError && err.code === 'CERTS_WILDCARD_NEEDS_DNS');
  }
});

test('automatic HTTPS per host: FQDN hosts get their own certificates, an unreachable one fails and backs off, a host that left is dropped', { skip }, async () => {
  const dir = dataDir();
  // Pebble's VA resolves through challtestsrv: point one host where nothing listens.
  await pebble.challtestsrv('/add-a', { host: 'down.example.test', addresses: ['127.0.0.2'] });
  // What was settled when each order was placed: one order at a time, so the n-th order sees n-1.
  const settledAtOrder: number[] = [];
  const m: CertManager = manager({ dataDir: dir }, {
    retryMinMs: 1000,
    onOrder: () => settledAtOrder.push(m.status().filter((s) => s.state === 'valid' || s.state === 'failed').length),
  });
  assert.ok(m.perHost);
  await m.start();
  void m.ensureHosts(['one.example.test', 'two.example.test', 'down.example.test', 'localhost', '10.1.2.3', '*.wild.example.test', 'one.example.test']);
  assert.deepEqual(m.status().map((s) => s.names[0]).sort(), ['down.example.test', 'one.example.test', 'two.example.test']);

  await waitFor(() => {
    const st = m.status();
    return st.filter((s) => s.state === 'valid').length === 2 && st.find((s) => s.names[0] === 'down.example.test')?.state === 'failed';
  }, 60_000, 'two certificates and one failure');
  assert.deepEqual(settledAtOrder.slice(0, 3), [0, 1, 2]);
  const down = m.status().find((s) => s.names[0] === 'down.example.test');
  assert.match(down?.lastError ?? '', /CERTS_ACME_ORDER_FAILED/);
  assert.ok(down?.nextRenewal !== null && down?.nextRenewal !== undefined);
  assert.equal(statSync(join(dir, 'one.example.test', 'priv.key')).mode & 0o777, 0o600);

  for (const host of ['one.example.test', 'two.example.test']) {
    const seen = await handshake(tlsPort, host, { ca: root });
    assert.ok(seen.authorized, seen.authorizationError);
    assert.deepEqual(seen.names, [host]);
  }
  // Retries back off: the next attempt moves further out after each failure.
  const firstRetry = Date.parse(down.nextRenewal) ;
  await waitFor(() => {
    const d = m.status().find((s) => s.names[0] === 'down.example.test');
    return d?.nextRenewal !== null && d?.nextRenewal !== undefined && Date.parse(d.nextRenewal) > firstRetry;
  }, 30_000, 'a second failed attempt');

  void m.ensureHosts(['one.example.test']);
  assert.deepEqual(m.status().map((s) => s.names[0]), ['one.example.test']);
  // No SNI: the certificate of the first host stands in as the main one.
  await m.close();
});
