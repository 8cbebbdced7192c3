// DNS-01 against a real Pebble: the exec provider runs a real script, and Cloudflare and DuckDNS
// are local fakes that speak their HTTP APIs (Cloudflare v4 zones/dns_records with a Bearer
// token; DuckDNS's /update) and put the TXT record into pebble-challtestsrv, which Pebble's VA
// asks. Wildcards are issued this way only.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { CertManager, type CertsOptions, type CertManagerDeps } from '../../internal/certs/index.ts';
import { pebbleMissing, startPebble, waitFor, type Pebble } from '../support/pebble.ts';

const missing = pebbleMissing();
const skip = missing !== undefined && !process.env['CI'] ? missing : false;

let pebble: Pebble;
let root: string;
let work: string;
const managers: CertManager[] = [];
const servers: Server[] = [];

function manager(options: Partial<CertsOptions> & Pick<CertsOptions, 'provider'>, deps: CertManagerDeps = {}): CertManager {
  const m = new CertManager({ caDirUrl: pebble.directoryUrl, caCerts: [pebble.caCertPath], dataDir: mkdtempSync(join(work, 'data-')), ...options },
    { acmePollMinMs: 100, retryMinMs: 500, dnsPropagationMs: 0, ...deps });
  managers.push(m);
  return m;
}

async function listen(handler: (req: IncomingMessage, body: string) => Promise<[number, string]>): Promise<string> {
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => { body += c; });
    req.on('end', () => {
      handler(req, body).then(([status, text]) => res.writeHead(status, { 'content-type': 'application/json' }).end(text),
        (err: unknown) => res.writeHead(500).end(String(err)));
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

function chainVerifies(certPem: string, rootPem: string): boolean {
  const certs = certPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const chain = [...certs.map((c) => new X509Certificate(c)), new X509Certificate(rootPem)];
  return chain.slice(0, -1).every((c, i) => c.verify(chain[i + 1]!.publicKey));
}

before(async () => {
  if (skip) return;
  work = mkdtempSync(join(tmpdir(), 'bellhop-certs-dns-'));
  pebble = await startPebble();
  root = await pebble.rootPem();
});

after(async () => {
  for (const m of managers) await m.close();
  for (const s of servers) s.close();
  await pebble?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('exec: runs `command present|cleanup <fqdn> <value>` and gets a wildcard certificate', { skip }, async () => {
  const calls = join(work, 'calls.log');
  const script = join(work, 'dns-hook.mjs');
  writeFileSync(script, `#!${process.execPath}
import { appendFileSync } from 'node:fs';
const [action, fqdn, value] = process.argv.slice(2);
appendFileSync(${JSON.stringify(calls)}, action + ' ' + fqdn + '\\n');
const path = action === 'present' ? '/set-txt' : '/clear-txt';
const res = await fetch(${JSON.stringify(pebble.challtestsrvUrl)} + path, { method: 'POST', body: JSON.stringify({ host: fqdn + '.', value }) });
if (!res.ok) { console.error('challtestsrv said ' + res.status); process.exit(2); }
`);
  chmodSync(script, 0o755);
  const m = manager({ provider: 'exec', domains: ['exec.example.test', '*.exec.example.test'], options: { command: script } });
  await m.start();
  const st = await waitFor(() => m.status().find((s) => s.state === 'valid'), 30_000, 'the certificate');
  assert.deepEqual([...st.names].sort(), ['*.exec.example.test', 'exec.example.test']);
  const log = readFileSync(calls, 'utf8').trim().split('\n');
  assert.deepEqual(log, ['present _acme-challenge.exec.example.test', 'cleanup _acme-challenge.exec.example.test', 'present _acme-challenge.exec.example.test', 'cleanup _acme-challenge.exec.example.test']);
  const ctx = m.secureContextFor('anything.exec.example.test');
  assert.ok(ctx !== undefined);
});

test('exec: a failing command is reported with its stderr, and the certificate stays missing', { skip }, async () => {
  const script = join(work, 'failing-hook.sh');
  writeFileSync(script, '#!/bin/sh\necho "no API key for $2" >&2\nexit 3\n');
  chmodSync(script, 0o755);
  const m = manager({ provider: 'exec', domains: ['broken.example.test'], options: { command: script } });
  await m.start();
  const st = await waitFor(() => m.status().find((s) => s.state === 'failed'), 30_000, 'the failure');
  assert.match(st.lastError ?? '', /CERTS_DNS_PROVIDER_FAILED/);
  assert.match(st.lastError ?? '', /no API key for _acme-challenge\.broken\.example\.test/);
  assert.equal(st.notAfter, null);
  assert.ok(st.nextRenewal !== null);
});

test('cloudflare: zone lookup, TXT record created and deleted through API v4 with the Bearer token', { skip }, async () => {
  const seen: string[] = [];
  let nextId = 0;
  const records = new Map<string, string>();
  const base = await listen(async (req, body) => {
    seen.push(`${req.method} ${req.url}`);
    if (req.headers.authorization !== 'Bearer cf-token') return [403, JSON.stringify({ success: false, errors: [{ code: 10000, message: 'Authentication error' }] })];
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && url.pathname === '/client/v4/zones') {
      const name = url.searchParams.get('name');
      return [200, JSON.stringify({ success: true, errors: [], result: name === 'example.test' ? [{ id: 'zone-1', name }] : [] })];
    }
    if (req.method === 'POST' && url.pathname === '/client/v4/zones/zone-1/dns_records') {
      const rec = JSON.parse(body) as { type: string; name: string; content: string };
      assert.equal(rec.type, 'TXT');
      await pebble.challtestsrv('/set-txt', { host: `${rec.name}.`, value: rec.content });
      const id = `rec-${++nextId}`;
      records.set(id, rec.name);
      return [200, JSON.stringify({ success: true, errors: [], result: { id } })];
    }
    const del = /^\/client\/v4\/zones\/zone-1\/dns_records\/(rec-\d+)$/.exec(url.pathname);
    if (req.method === 'DELETE' && del) {
      await pebble.challtestsrv('/clear-txt', { host: `${records.get(del[1]!)}.` });
      return [200, JSON.stringify({ success: true, errors: [], result: { id: del[1] } })];
    }
    return [404, JSON.stringify({ success: false, errors: [{ code: 7003, message: 'no route' }] })];
  });
  const m = manager({ provider: 'cloudflare', domains: ['*.cf.example.test'], options: { authToken: 'cf-token' } }, { cloudflareBaseUrl: base });
  await m.start();
  const st = await waitFor(() => m.status().find((s) => s.state === 'valid'), 30_000, 'the certificate');
  assert.deepEqual(st.names, ['*.cf.example.test']);
  assert.deepEqual(seen, [
    'GET /client/v4/zones?name=cf.example.test',
    'GET /client/v4/zones?name=example.test',
    'POST /client/v4/zones/zone-1/dns_records',
    'DELETE /client/v4/zones/zone-1/dns_records/rec-1',
  ]);

  // A wrong token: Cloudflare's error is in last_error.
  const bad = manager({ provider: 'cloudflare', domains: ['x.example.test'], options: { authToken: 'wrong' } }, { cloudflareBaseUrl: base });
  await bad.start();
  const failed = await waitFor(() => bad.status().find((s) => s.state === 'failed'), 30_000, 'the failure');
  assert.match(failed.lastError ?? '', /10000 Authentication error/);
});

test('duckdns: the update URL sets and clears the TXT value', { skip }, async () => {
  const seen: URLSearchParams[] = [];
  const base = await listen(async (req) => {
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    seen.push(q);
    if (q.get('token') !== 'duck-token') return [200, 'KO'];
    const host = `_acme-challenge.${q.get('domains') ?? ''}.duckdns.org.`;
    if (q.get('clear') === 'true') await pebble.challtestsrv('/clear-txt', { host });
    else await pebble.challtestsrv('/set-txt', { host, value: q.get('txt') });
    return [200, 'OK'];
  });
  const dir = mkdtempSync(join(work, 'duck-'));
  const m = manager({ provider: 'duckdns', domains: ['home.duckdns.org', '*.home.duckdns.org'], options: { token: 'duck-token' }, dataDir: dir }, { duckdnsBaseUrl: base });
  await m.start();
  const st = await waitFor(() => m.status().find((s) => s.state === 'valid'), 30_000, 'the certificate');
  assert.deepEqual([...st.names].sort(), ['*.home.duckdns.org', 'home.duckdns.org']);
  assert.ok(seen.every((q) => q.get('domains') === 'home'));
  assert.deepEqual(seen.map((q) => q.get('clear')), [null, 'true', null, 'true']);
  assert.ok(chainVerifies(readFileSync(join(dir, 'cert.crt'), 'utf8'), root), 'the stored chain leads to Pebble\'s root');
});
