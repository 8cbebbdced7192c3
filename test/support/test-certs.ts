// Self-signed certificates for TLS tests, made by the openssl CLI (Debian's openssl package):
// one key and certificate per call, with the given DNS names as subjectAltName. A client
// trusts it by passing the certificate as its `ca`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCert {
  key: string;
  cert: string;
  names: string[];
}

export function selfSigned(names: string[], opts: { days?: number } = {}): TestCert {
  const dir = mkdtempSync(join(tmpdir(), 'bellhop-cert-'));
  try {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', key, '-out', cert, '-days', String(opts.days ?? 2), '-subj', `/CN=${names[0] ?? 'bellhop-test'}`,
      '-addext', `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`,
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8'), names };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
