// DNS provider failures against real local servers and processes: what the user sees in
// last_error names the provider and its answer.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudflareDns, DuckDns, ExecDns, dnsProviderFor } from './dns-providers.ts';
import { CertsError } from './certs-error.ts';

const servers: Server[] = [];
const dir = mkdtempSync(join(tmpdir(), 'bellhop-dns-'));
after(() => { for (const s of servers) s.close(); rmSync(dir, { recursive: true, force: true }); });

async function fake(status: number, body: string): Promise<string> {
  const s = createServer((_req, res) => res.writeHead(status).end(body));
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as { port: number }).port}`;
}

async function rejectsWith(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => err instanceof CertsError && err.code === 'CERTS_DNS_PROVIDER_FAILED' && re.test(err.message));
}

test('cloudflare: no zone, an API error, an unreachable API', async () => {
  const empty = await fake(200, JSON.stringify({ success: true, errors: [], result: [] }));
  await rejectsWith(new CloudflareDns('t', empty).present('_acme-challenge.a.example.test', 'v'), /no zone of this token holds/);
  const refusing = await fake(400, JSON.stringify({ success: false, errors: [{ code: 9109, message: 'Invalid access token' }] }));
  await rejectsWith(new CloudflareDns('t', refusing).present('_acme-challenge.a.example.test', 'v'), /9109 Invalid access token/);
  const html = await fake(502, '<html>bad gateway</html>');
  await rejectsWith(new CloudflareDns('t', html).present('_acme-challenge.a.example.test', 'v'), /HTTP 502/);
  await rejectsWith(new CloudflareDns('t', 'http://127.0.0.1:1').present('_acme-challenge.a.example.test', 'v'), /cloudflare: GET/);
  // Cleanup of a record it never made does nothing.
  await new CloudflareDns('t', empty).cleanup('_acme-challenge.a.example.test', 'v');
});

test('duckdns: KO and an unreachable API', async () => {
  await rejectsWith(new DuckDns('t', await fake(200, 'KO')).present('_acme-challenge.home.duckdns.org', 'v'), /answered "KO"/);
  await rejectsWith(new DuckDns('t', 'http://127.0.0.1:1').cleanup('_acme-challenge.home.duckdns.org', 'v'), /duckdns:/);
});

test('exec: a command that hangs is killed after the timeout; a missing command is named', async () => {
  const slow = join(dir, 'slow.sh');
  writeFileSync(slow, '#!/bin/sh\nsleep 30\n');
  chmodSync(slow, 0o755);
  await rejectsWith(new ExecDns(slow, 300).present('_acme-challenge.a.test', 'v'), /timed out after 300 ms/);
  await rejectsWith(new ExecDns(join(dir, 'nope')).cleanup('_acme-challenge.a.test', 'v'), /nope cleanup _acme-challenge\.a\.test failed \(ENOENT\)/);
});

test('dnsProviderFor picks by provider and refuses the others', () => {
  assert.ok(dnsProviderFor('cloudflare', { authToken: 't' }, {}) instanceof CloudflareDns);
  assert.ok(dnsProviderFor('duckdns', { token: 't' }, {}) instanceof DuckDns);
  assert.ok(dnsProviderFor('exec', { command: '/x' }, {}) instanceof ExecDns);
  assert.throws(() => dnsProviderFor('http01', {}, {}), (err: unknown) => err instanceof CertsError && err.code === 'CERTS_CONFIG_INVALID');
});
