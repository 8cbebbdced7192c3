// Self-signed certificates for tests, made with openssl (no test needs a real CA for these):
// a PEM certificate and key for given DNS names, written into a folder or returned as text.
import { X509Certificate } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCert {
  certPem: string;
  keyPem: string;
  /** Serial as node:crypto shows it. */
  serial: string;
}

/** A self-signed EC P-256 certificate for `names` (first one is the CN). */
export function makeTestCert(names: readonly string[], days = 2): TestCert {
  const dir = mkdtempSync(join(tmpdir(), 'bellhop-test-cert-'));
  try {
    const certPath = join(dir, 'c.pem');
    const keyPath = join(dir, 'k.pem');
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyPath, '-out', certPath,
      '-subj', `/CN=${names[0] ?? 'test'}`, '-addext', `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`, '-days', String(days)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl: ${r.stderr}`);
    const certPem = readFileSync(certPath, 'utf8');
    return { certPem, keyPem: readFileSync(keyPath, 'utf8'), serial: new X509Certificate(certPem).serialNumber };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
