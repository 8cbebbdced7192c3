// HTTPS as a user runs it (docs/https.md): Bellhop as its own process with an `autocert` block
// of provider http01 and no domains, against a real ACME server (Pebble). A route host gets
// its certificate by itself; HTTPS/1.1 and HTTP/2 answer with a chain that verifies against
// Pebble's root; plain HTTP redirects; /api/certs and the expiry metric show it; a restart
// reuses the stored certificate without a new order.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import https from 'node:https';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type tls from 'node:tls';
import { startRecordingBackend, type RecordingBackend } from '../support/recording-backend.ts';
import { startBellhop, freePort, type BellhopUnderTest } from '../support/bellhop-harness.ts';
import { pebbleMissing, startPebble, waitFor, type Pebble } from '../support/pebble.ts';

const missing = pebbleMissing();
const skip = missing !== undefined && !process.env['CI'] ? missing : false;
const HOST = 'app.bellhop.test';

let pebble: Pebble;
let be: RecordingBackend;
let root: string;
let httpPort: number;
let certDir: string;

before(async () => {
  if (skip) return;
  httpPort = await freePort();
  pebble = await startPebble({ httpPort });
  root = await pebble.rootPem();
  be = await startRecordingBackend();
  certDir = mkdtempSync(join(tmpdir(), 'bellhop-https-e2e-'));
});
after(async () => {
  if (skip) return;
  await pebble.stop();
  await be.close();
  rmSync(certDir, { recursive: true, force: true });
});

function yaml(): string {
  return [
    'entrypoint:',
    '  hsts: "max-age=600"',
    'autocert:',
    '  provider: http01',
    '  email: ops@example.com',
    `  ca_dir_url: ${pebble.directoryUrl}`,
    `  ca_certs: [${pebble.caCertPath}]`,
    `  cert_path: ${join(certDir, 'cert.crt')}`,
    `  key_path: ${join(certDir, 'priv.key')}`,
    'docker:',
    '  hosts: []',
    'routes:',
    '  app:',
    `    url: ${be.origin}`,
    `    aliases: [${HOST}]`,
  ].join('\n');
}

function httpsGet(port: number, path: string): Promise<{ status: number; headers: Record<string, unknown>; body: string; issuer: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path, servername: HOST, headers: { host: HOST }, ca: root, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, issuer: String((res.socket as tls.TLSSocket).getPeerCertificate().issuer.CN) }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function adminGet(b: BellhopUnderTest, path: string): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${String(b.apiPort)}${path}`);
  return r.text();
}

test('http01 without domains: a route host gets a certificate from the CA; HTTPS/1.1, HTTP/2, redirect, /api/certs, metric; a restart reuses it', { skip }, async () => {
  const b = await startBellhop({ mode: 'child', yaml: yaml(), httpPort });
  let restarted: BellhopUnderTest | undefined;
  try {
    assert.ok(b.httpsPort !== undefined, 'the HTTPS entrypoint is on');
    const certs = await waitFor(async () => {
      const list = JSON.parse(await adminGet(b, '/api/certs')) as { names: string[]; state: string; not_after: string | null; last_error: string | null; source: string }[];
      const mine = list.find((c) => c.names.includes(HOST));
      return mine?.state === 'valid' ? list : undefined;
    }, 60_000, `a valid certificate for ${HOST} in /api/certs:\n${b.logs().filter((l) => /cert|acme/i.test(l)).slice(-10).join('\n')}`);
    const mine = certs.find((c) => c.names.includes(HOST))!;
    assert.equal(mine.source, 'http01');
    assert.ok(mine.not_after !== null && Date.parse(mine.not_after) > Date.now());
    const orders = pebble.orderCount();
    assert.ok(orders >= 1);

    const r = await httpsGet(b.httpsPort, '/hello').catch((err: unknown) => { throw new Error(`${String(err)}\n${b.logs().slice(-12).join('\n')}`); });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'ok GET /hello');
    assert.equal(r.headers['strict-transport-security'], 'max-age=600');
    assert.equal(be.requests.at(-1)!.header('x-forwarded-proto'), 'https');

    const session = http2.connect(`https://127.0.0.1:${String(b.httpsPort)}`, { servername: HOST, ca: root });
    const h2 = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = session.request({ ':path': '/h2', ':authority': HOST });
      let status = 0;
      let body = '';
      req.setEncoding('utf8');
      req.on('response', (h) => { status = Number(h[':status']); });
      req.on('data', (d: string) => { body += d; });
      req.on('end', () => resolve({ status, body }));
      req.on('error', reject);
      req.end();
    });
    session.close();
    assert.deepEqual(h2, { status: 200, body: 'ok GET /h2' });

    const plain = await b.get(HOST, '/x?y=1');
    assert.equal(plain.status, 308);
    assert.equal(plain.headers['location'], `https://${HOST}:${String(b.httpsPort)}/x?y=1`);

    const metrics = await adminGet(b, '/metrics');
    assert.match(metrics, new RegExp(`bellhop_certificate_expiry_seconds\\{names="${HOST.replaceAll('.', '\\.')}"\\} \\d+`));
    // stored beside the main certificate's path, key private
    const keyMode = statSync(join(certDir, HOST)).isDirectory();
    assert.ok(keyMode, 'per-host certificates live under <data_dir>/<host>/');

    await b.stop();
    restarted = await startBellhop({ mode: 'child', yaml: yaml(), httpPort });
    const again = await httpsGet(restarted.httpsPort!, '/again');
    assert.equal(again.status, 200, 'the stored certificate serves at once after a restart');
    assert.equal(pebble.orderCount(), orders, 'no new order for a certificate that is still good');
  } finally {
    await b.stop();
    await restarted?.stop();
  }
});
