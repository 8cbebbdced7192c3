// The autocert options check: what cannot work is refused before any I/O, with a stable code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CertsError, isCertifiableHost, LETS_ENCRYPT_DIRECTORY, planCerts, type CertsOptions } from './index.ts';

function code(o: CertsOptions): string | undefined {
  try {
    planCerts(o);
    return undefined;
  } catch (err) {
    assert.ok(err instanceof CertsError);
    return err.code;
  }
}

test('defaults: Let\'s Encrypt, EC256, 30 days, ./data/certs with cert.crt and priv.key', () => {
  const p = planCerts({ provider: 'cloudflare', domains: ['Example.com', '*.example.com'], options: { authToken: 't' } });
  assert.equal(p.caDirUrl, LETS_ENCRYPT_DIRECTORY);
  assert.equal(p.keyType, 'EC256');
  assert.equal(p.renewBeforeMs, 30 * 24 * 3600_000);
  assert.equal(p.dataDir, './data/certs');
  assert.deepEqual(p.slots.map((s) => [s.id, s.certPath, s.keyPath, s.domains.join(',')]), [['main', 'data/certs/cert.crt', 'data/certs/priv.key', 'example.com,*.example.com']]);
  assert.equal(p.perHost, undefined);
  assert.equal(p.eab, undefined);
});

test('http01/tlsalpn01 without domains: per-host certificates, no main slot; an extra without domains is a pair of files, one with domains and a provider of its own is issued so', () => {
  const p = planCerts({ provider: 'http01', extra: [{ certPath: 'a.crt', keyPath: 'a.key' }, { certPath: 'b.crt', keyPath: 'b.key', provider: 'exec', domains: ['*.b.test'], options: { command: '/x' } }] });
  assert.deepEqual(p.perHost, { provider: 'http01', options: {} });
  assert.deepEqual(p.slots.map((s) => [s.id, s.provider]), [['extra-0', 'local'], ['extra-1', 'exec']]);
});

test('refused: wildcards without DNS-01, providers without their settings, half an EAB, bad key types', () => {
  assert.equal(code({ provider: 'http01', domains: ['*.a.test'] }), 'CERTS_WILDCARD_NEEDS_DNS');
  assert.equal(code({ provider: 'local', extra: [{ certPath: 'x', keyPath: 'y', provider: 'tlsalpn01', domains: ['*.x.test'] }] }), 'CERTS_WILDCARD_NEEDS_DNS');
  assert.equal(code({ provider: 'cloudflare', domains: ['a.test'] }), 'CERTS_CONFIG_INVALID');
  assert.equal(code({ provider: 'duckdns', domains: ['a.test'] }), 'CERTS_CONFIG_INVALID');
  assert.equal(code({ provider: 'exec', domains: ['a.test'] }), 'CERTS_CONFIG_INVALID');
  assert.equal(code({ provider: 'exec', options: { command: '/x' } }), 'CERTS_CONFIG_INVALID');
  assert.equal(code({ provider: 'http01', domains: ['a.test'], eabKid: 'k' }), 'CERTS_CONFIG_INVALID');
  assert.equal(code({ provider: 'http01', domains: ['a.test'], certificateKeyType: 'EC521' as never }), 'CERTS_CONFIG_INVALID');
  assert.equal(code({ provider: 'ftp' as never }), 'CERTS_CONFIG_INVALID');
  assert.equal(code({ provider: 'exec', options: { command: '/x' }, domains: ['a.*.test'] }), 'CERTS_CONFIG_INVALID');
  assert.equal(code({ provider: 'http01', domains: ['a.test'], renewBeforeMs: 0 }), 'CERTS_CONFIG_INVALID');
  assert.equal(code({ provider: 'http01', extra: [{ certPath: 'a', keyPath: 'b' }] }), undefined);
  assert.equal(code({ provider: 'local', extra: [{ certPath: 'a', keyPath: 'b', provider: 'http01' }] }), 'CERTS_CONFIG_INVALID');
});

test('which route hosts get their own certificate', () => {
  for (const h of ['app.example.com', 'A.B.example.org', 'x-1.example.io']) assert.ok(isCertifiableHost(h), h);
  for (const h of ['localhost', 'app', '10.0.0.1', '::1', '[::1]', '*.example.com', 'example.com.', 'bad_name.example.com', '-x.example.com', 'a.example.123', '']) {
    assert.ok(!isCertifiableHost(h), h);
  }
});
