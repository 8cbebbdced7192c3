// Answering ACME challenges while an authorization is pending. HTTP-01 and TLS-ALPN-01 are
// answered by Bellhop's own listeners (the proxy asks httpChallenge / the ALPN hook); DNS-01
// goes through a DnsProvider.
import type { SecureContext } from 'node:tls';
import { createAlpnChallengeCert, type ChallengeResponder } from './acme-issuer.ts';
import { CertsError } from './certs-error.ts';
import type { DnsProvider } from './dns-providers.ts';

const { createSecureContext } = process.getBuiltinModule('node:tls');

/** Pending challenge answers, shared by every certificate of one manager. */
export class ChallengeBoard {
  /** HTTP-01: token → key authorization. */
  readonly http = new Map<string, string>();
  /** TLS-ALPN-01: name → secure context with the challenge certificate. */
  readonly alpn = new Map<string, SecureContext>();
}

export function http01Responder(board: ChallengeBoard): ChallengeResponder {
  return {
    type: 'http-01',
    present: (_authz, token, keyAuthorization) => { board.http.set(token, keyAuthorization); return Promise.resolve(); },
    cleanup: (_authz, token) => { board.http.delete(token); return Promise.resolve(); },
  };
}

export function tlsAlpn01Responder(board: ChallengeBoard): ChallengeResponder {
  return {
    type: 'tls-alpn-01',
    async present(authz, _token, keyAuthorization) {
      try {
        const [key, cert] = await createAlpnChallengeCert(authz, keyAuthorization);
        board.alpn.set(authz.identifier.value.toLowerCase(), createSecureContext({ key, cert }));
      } catch (err) {
        throw new CertsError('CERTS_CHALLENGE_FAILED', `tls-alpn-01 certificate for ${authz.identifier.value}: ${(err as Error).message}`, { subject: authz.identifier.value, cause: err });
      }
    },
    cleanup: (authz) => { board.alpn.delete(authz.identifier.value.toLowerCase()); return Promise.resolve(); },
  };
}

/** DNS-01 through `dns`; waits `propagationMs` after setting the record before the CA looks. */
export function dns01Responder(dns: DnsProvider, propagationMs: number): ChallengeResponder {
  const fqdnOf = (name: string): string => `_acme-challenge.${name.replace(/^\*\./, '')}`;
  return {
    type: 'dns-01',
    async present(authz, _token, keyAuthorization) {
      await dns.present(fqdnOf(authz.identifier.value), keyAuthorization);
      if (propagationMs > 0) await new Promise((r) => setTimeout(r, propagationMs));
    },
    cleanup: (authz, _token, keyAuthorization) => dns.cleanup(fqdnOf(authz.identifier.value), keyAuthorization),
  };
}
