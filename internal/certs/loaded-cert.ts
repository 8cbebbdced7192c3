// A certificate ready for handshakes: the PEM chain and key checked against each other once,
// its secure context built once (a handshake only picks a reference), and the facts /api/certs
// shows. Building it is synchronous, so swapping it into the SNI table is too.
import type { X509Certificate } from 'node:crypto';
import type { SecureContext } from 'node:tls';
import { CertsError } from './certs-error.ts';

const crypto = process.getBuiltinModule('node:crypto');
const { createSecureContext } = process.getBuiltinModule('node:tls');

export interface LoadedCert {
  readonly certPem: string;
  readonly keyPem: string;
  readonly context: SecureContext;
  /** DNS names of the leaf (subjectAltName, else the CN), lower-case; wildcards as `*.x.y`. */
  readonly names: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly issuer: string;
  readonly serial: string;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function namesOf(x: X509Certificate): string[] {
  const names: string[] = [];
  for (const part of (x.subjectAltName ?? '').split(/,\s*/)) {
    if (part.startsWith('DNS:')) names.push(part.slice(4).replace(/^"|"$/g, '').toLowerCase());
  }
  if (names.length === 0) {
    const cn = /^CN=(.*)$/m.exec(x.subject)?.[1];
    if (cn !== undefined) names.push(cn.toLowerCase());
  }
  return names;
}

function issuerOf(x: X509Certificate): string {
  const cn = /^CN=(.*)$/m.exec(x.issuer)?.[1];
  return cn ?? x.issuer.split('\n').join(', ');
}

/** Parses and checks a PEM chain (leaf first) and its key; throws CertsError CERTS_FILE_INVALID naming `subject`. */
export function loadCert(certPem: string, keyPem: string, subject: string): LoadedCert {
  const blocks = certPem.match(PEM_CERT);
  if (blocks === null) throw new CertsError('CERTS_FILE_INVALID', `${subject}: no PEM certificate in the file`, { subject });
  try {
    const leaf = new crypto.X509Certificate(blocks[0]);
    const key = crypto.createPrivateKey(keyPem);
    if (!leaf.checkPrivateKey(key)) {
      throw new CertsError('CERTS_FILE_INVALID', `${subject}: the private key does not belong to the certificate`, { subject });
    }
    const context = createSecureContext({ cert: certPem, key: keyPem });
    return {
      certPem, keyPem, context,
      names: namesOf(leaf),
      notBefore: new Date(leaf.validFrom),
      notAfter: new Date(leaf.validTo),
      issuer: issuerOf(leaf),
      serial: leaf.serialNumber,
    };
  } catch (err) {
    if (err instanceof CertsError) throw err;
    throw new CertsError('CERTS_FILE_INVALID', `${subject}: ${err instanceof Error ? err.message : String(err)}`, { subject, cause: err });
  }
}

/** True when every wanted name is among the certificate's names (exactly, wildcards included). */
export function covers(cert: LoadedCert, wanted: readonly string[]): boolean {
  return wanted.every((w) => cert.names.includes(w.toLowerCase()));
}

/** When renewal is due: `renewBeforeMs` before expiry, or a third of the lifetime if that is shorter. */
export function renewalDue(cert: LoadedCert, renewBeforeMs: number): number {
  const lifetime = cert.notAfter.getTime() - cert.notBefore.getTime();
  return cert.notAfter.getTime() - Math.min(renewBeforeMs, lifetime / 3);
}
