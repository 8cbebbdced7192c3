// The one user of acme-client (DESIGN.md: one home per third-party package). It keeps the ACME
// account (key beside the certificates, 0600, reused across restarts), and turns "these names,
// this key type, this way of answering challenges" into a PEM chain and key.
//
// Trusting extra roots (ca_certs) must not change global state: acme-client sends everything
// through one shared axios instance, so instead of touching its defaults (or Node's global
// agent) each client's own HTTP layer is given an https.Agent that trusts the system roots plus
// ca_certs. Only this client's requests see it.
import type { Agent } from 'node:https';
import { join } from 'node:path';
import type * as Acme from 'acme-client';

import type { Logger } from '../../pkg/log/index.ts';
import { readOptional, writeFileAtomic } from './cert-files.ts';
import { CertsError } from './certs-error.ts';
import type { CertKeyType, CertsPlan } from './certs-options.ts';

const { generateKeyPair } = process.getBuiltinModule('node:crypto');
const https = process.getBuiltinModule('node:https');
// tls.rootCertificates is read when an agent is made: the getter builds the whole list
const tls = process.getBuiltinModule('node:tls');
const { promisify } = process.getBuiltinModule('node:util');

/**
 * acme-client (with axios and node-forge) costs ~38 MiB of memory once loaded: it is loaded on
 * the first ACME operation, so a Bellhop without ACME (no autocert, or local files) never pays.
 */
type AcmeLib = typeof Acme;
let library: Promise<AcmeLib> | undefined;
function acmeLib(): Promise<AcmeLib> {
  // a CommonJS package: its exports are the namespace's default
  return (library ??= import('acme-client').then((m: unknown) => (m as { default?: AcmeLib }).default ?? (m as AcmeLib)));
}

const generateKeyPairAsync = promisify(generateKeyPair);

/** How one kind of challenge is answered while an authorization is pending. */
export interface ChallengeResponder {
  readonly type: 'http-01' | 'tls-alpn-01' | 'dns-01';
  present(authz: Acme.Authorization, token: string, keyAuthorization: string): Promise<void>;
  cleanup(authz: Acme.Authorization, token: string, keyAuthorization: string): Promise<void>;
}

export interface IssuedCert {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface AcmeIssuerSettings {
  /** Polling of pending orders/challenges (acme-client's backoff); tests shorten it. */
  readonly pollMinMs?: number | undefined;
  /** Called once per new order (for logs and tests that count orders). */
  readonly onOrder?: ((names: readonly string[]) => void) | undefined;
}

interface HttpLayer {
  request(url: string, method: string, opts?: Record<string, unknown>): Promise<unknown>;
}

/** A new private key of the configured type, PEM (PKCS#8). */
export async function createCertKey(type: CertKeyType): Promise<string> {
  const pair = type === 'EC256' || type === 'EC384'
    ? await generateKeyPairAsync('ec', { namedCurve: type === 'EC256' ? 'P-256' : 'P-384', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } })
    : await generateKeyPairAsync('rsa', { modulusLength: type === 'RSA2048' ? 2048 : 4096, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  return pair.privateKey;
}

/** A self-signed certificate for an ALPN challenge (RFC 8737): [keyPem, certPem]. */
export async function createAlpnChallengeCert(authz: Acme.Authorization, keyAuthorization: string): Promise<[string, string]> {
  const key = await createCertKey('EC256');
  const acme = await acmeLib();
  const [, cert] = await acme.crypto.createAlpnCertificate(authz, keyAuthorization, key);
  return [key, cert.toString()];
}

export class AcmeIssuer {
  readonly #plan: CertsPlan;
  readonly #log: Logger;
  readonly #settings: AcmeIssuerSettings;
  #client: Promise<Acme.Client> | undefined;
  #agent: Agent | undefined;

  constructor(plan: CertsPlan, log: Logger, settings: AcmeIssuerSettings = {}) {
    this.#plan = plan;
    this.#log = log;
    this.#settings = settings;
  }

  /** Where the account key lives: beside the certificates. */
  get accountKeyPath(): string {
    return join(this.#plan.dataDir, 'acme-account.key');
  }

  async #caAgent(): Promise<Agent | undefined> {
    if (this.#plan.caCerts.length === 0) return undefined;
    const extra: string[] = [];
    for (const path of this.#plan.caCerts) {
      const pem = await readOptional(path);
      if (pem === undefined) throw new CertsError('CERTS_FILE_UNREADABLE', `ca_certs: ${path} does not exist`, { subject: path });
      extra.push(pem);
    }
    return new https.Agent({ ca: [...tls.rootCertificates, ...extra], keepAlive: true });
  }

  async #accountKey(): Promise<string> {
    const existing = await readOptional(this.accountKeyPath);
    if (existing !== undefined) return existing;
    const key = await createCertKey('EC256');
    await writeFileAtomic(this.accountKeyPath, key, 0o600);
    this.#log.info({ path: this.accountKeyPath }, 'created a new ACME account key');
    return key;
  }

  async #newClient(): Promise<Acme.Client> {
    const agent = await this.#caAgent();
    this.#agent?.destroy();
    this.#agent = agent;
    const accountKey = await this.#accountKey();
    const pollMin = this.#settings.pollMinMs ?? 1000;
    const acme = await acmeLib();
    const client = new acme.Client({
      directoryUrl: this.#plan.caDirUrl,
      accountKey,
      backoffAttempts: 12,
      backoffMin: pollMin,
      backoffMax: Math.max(pollMin, 10_000),
      ...(this.#plan.eab ? { externalAccountBinding: { kid: this.#plan.eab.kid, hmacKey: this.#plan.eab.hmacKey } } : {}),
    });
    if (agent !== undefined) {
      const http = (client as unknown as { http?: HttpLayer }).http;
      if (http === undefined || typeof http.request !== 'function') {
        throw new CertsError('CERTS_CONFIG_INVALID', 'ca_certs: this acme-client version offers no per-client HTTP layer to give the trust roots to');
      }
      const request = http.request.bind(http);
      http.request = (url, method, opts = {}) => request(url, method, { ...opts, httpsAgent: agent });
    }
    try {
      await client.createAccount({
        termsOfServiceAgreed: true,
        ...(this.#plan.email ? { contact: [`mailto:${this.#plan.email}`] } : {}),
      });
    } catch (err) {
      throw new CertsError('CERTS_ACME_ACCOUNT_FAILED', `ACME account at ${this.#plan.caDirUrl}: ${(err as Error).message}`, { cause: err });
    }
    return client;
  }

  #getClient(): Promise<Acme.Client> {
    if (this.#client === undefined) {
      const p = this.#newClient();
      this.#client = p;
      // A failed registration is tried again with the next order, not cached.
      p.catch(() => { if (this.#client === p) this.#client = undefined; });
    }
    return this.#client;
  }

  /** Closes the kept-alive connections to the ACME server (ca_certs agent); a later order opens new ones. */
  close(): void {
    this.#agent?.destroy();
  }

  /** Orders a certificate for `names` and answers its challenges with `responder`. */
  async issue(names: readonly string[], responder: ChallengeResponder): Promise<IssuedCert> {
    const client = await this.#getClient();
    const subject = names.join(',');
    let order: Acme.Order;
    try {
      this.#settings.onOrder?.(names);
      order = await client.createOrder({ identifiers: names.map((value) => ({ type: 'dns', value })) });
    } catch (err) {
      throw new CertsError('CERTS_ACME_ORDER_FAILED', `new order for ${subject}: ${(err as Error).message}`, { subject, cause: err });
    }
    try {
      const authzs = await client.getAuthorizations(order);
      // One authorization at a time: a name and its wildcard share one TXT name, and DuckDNS
      // holds a single TXT value per domain.
      for (const authz of authzs) {
        if (authz.status === 'valid') continue;
        const challenge = authz.challenges.find((c) => c.type === responder.type);
        if (challenge === undefined) {
          throw new CertsError('CERTS_ACME_ORDER_FAILED', `${authz.identifier.value}: the ACME server offers no ${responder.type} challenge (it offers ${authz.challenges.map((c) => c.type).join(', ')})`, { subject });
        }
        const keyAuthorization = await client.getChallengeKeyAuthorization(challenge);
        await responder.present(authz, challenge.token, keyAuthorization);
        try {
          await client.completeChallenge(challenge);
          await client.waitForValidStatus(challenge);
        } finally {
          await responder.cleanup(authz, challenge.token, keyAuthorization).catch((err: unknown) => {
            this.#log.warn({ err, name: authz.identifier.value }, 'could not clean up an ACME challenge');
          });
        }
      }
      const keyPem = await createCertKey(this.#plan.keyType);
      const acme = await acmeLib();
      const [, csr] = await acme.crypto.createCsr({ commonName: names[0] ?? '', altNames: [...names] }, keyPem);
      const finalized = await client.finalizeOrder(order, csr);
      const certPem = await client.getCertificate(finalized);
      return { certPem, keyPem };
    } catch (err) {
      if (err instanceof CertsError) throw err;
      throw new CertsError('CERTS_ACME_ORDER_FAILED', `order for ${subject}: ${(err as Error).message}`, { subject, cause: err });
    }
  }
}
