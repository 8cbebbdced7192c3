// Certificate codes in Bellhop's error catalogue (pkg/errors; all codes: docs/errors.md). No
// request is ever answered with one of them: they name why a certificate is missing, stale or
// kept, in the logs, in /api/certs (`last_error`) and in `bellhop check`.
import { defineErrors } from '../../pkg/errors/index.ts';

const LOCAL = 'https.md#local-certificate-files';
const ACME = 'https.md#when-issuance-fails';

export const CERTS_ERRORS = defineErrors({
  CERTS_FILE_UNREADABLE: { status: 503, logOnly: true, message: 'A certificate or key file could not be read', docs: LOCAL },
  CERTS_FILE_INVALID: { status: 503, logOnly: true, message: 'A certificate or key file is not a usable PEM certificate chain and matching private key', docs: LOCAL },
  CERTS_WRITE_FAILED: { status: 503, logOnly: true, message: 'A certificate, key or account key could not be written to disk', docs: 'https.md#storage' },
  CERTS_CONFIG_INVALID: { status: 503, logOnly: true, message: 'The autocert settings cannot work as given', docs: 'https.md#providers' },
  CERTS_WILDCARD_NEEDS_DNS: { status: 503, logOnly: true, message: 'A wildcard name can only be validated by a DNS-01 provider (cloudflare, duckdns, exec)', docs: 'https.md#wildcards' },
  CERTS_ACME_ACCOUNT_FAILED: { status: 503, logOnly: true, message: 'The ACME account could not be registered or found', docs: ACME },
  CERTS_ACME_ORDER_FAILED: { status: 503, logOnly: true, message: 'The ACME server did not issue the certificate', docs: ACME },
  CERTS_CHALLENGE_FAILED: { status: 503, logOnly: true, message: 'The ACME challenge could not be set up or cleaned up', docs: ACME },
  CERTS_NO_CERTIFICATE: { status: 503, logOnly: true, message: 'No certificate is available yet for the name a TLS client asked for; the handshake was refused', docs: 'https.md#which-certificate-a-connection-gets' },
  CERTS_DNS_PROVIDER_FAILED: { status: 503, logOnly: true, message: 'The DNS provider refused or failed to set the TXT record', docs: ACME },
});

/** Every certificate code. */
export type CertsErrorCode = keyof typeof CERTS_ERRORS;

export class CertsError extends Error {
  readonly code: CertsErrorCode;
  /** The certificate the error is about: its configured names, or a file path. */
  readonly subject: string | undefined;

  constructor(code: CertsErrorCode, message: string, details: { subject?: string | undefined; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'CertsError';
    this.code = code;
    this.subject = details.subject;
  }
}

/** A line for logs and /api/certs: the code, the message and the innermost cause's message. */
export function describeError(err: unknown): string {
  if (err instanceof CertsError) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return `${err.code}: ${err.message}${cause && !err.message.includes(cause.slice(2)) ? cause : ''}`;
  }
  return err instanceof Error ? err.message : String(err);
}
