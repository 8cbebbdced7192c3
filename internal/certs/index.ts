// internal/certs: everything about HTTPS certificates (docs/https.md) — local PEM files watched
// on disk, ACME issuance and renewal (the only user of acme-client), automatic certificates per
// route host, and the SNI/ALPN callbacks the HTTPS listener hands to node:tls. Knows no requests
// beyond answering an HTTP-01 token.

/** Loads, obtains, renews and serves certificates; see its methods for the listener's hooks. */
export { CertManager, ACME_TLS_ALPN } from './cert-manager.ts';
export type { CertManagerDeps, CertStatus, CertExpiry, AlpnCallback, SniCallback } from './cert-manager.ts';
/** The `autocert` block as the manager takes it (camelCase, durations in ms), and its check. */
export { planCerts, isCertifiableHost, LETS_ENCRYPT_DIRECTORY, DEFAULT_RENEW_BEFORE_MS } from './certs-options.ts';
export type { CertsOptions, ExtraCertOptions, ProviderOptions, CertProvider, CertKeyType, CertsPlan } from './certs-options.ts';
/** Certificate error codes (log only; /api/certs `last_error`) and the error carrying one. */
export { CERTS_ERRORS, CertsError } from './certs-error.ts';
export type { CertsErrorCode } from './certs-error.ts';
