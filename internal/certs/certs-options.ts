// What the certificate half of HTTPS takes: docs/https.md's `autocert` keys in camelCase (the
// config module parses the YAML and hands this over), and the plan of certificate slots they
// make. Checking what cannot work (a wildcard without DNS-01, a DNS provider without its token)
// happens here, before any I/O, so `bellhop check` can show it.
import { join } from 'node:path';
import { CertsError } from './certs-error.ts';

/** Where certificates come from. */
export type CertProvider = 'local' | 'http01' | 'tlsalpn01' | 'cloudflare' | 'duckdns' | 'exec';
/** The key a new certificate gets. */
export type CertKeyType = 'EC256' | 'EC384' | 'RSA2048' | 'RSA4096';

/** Provider settings: cloudflare {authToken}, duckdns {token}, exec {command}. */
export interface ProviderOptions {
  readonly authToken?: string | undefined;
  readonly token?: string | undefined;
  readonly command?: string | undefined;
}

/** One more certificate beside the main one (`extra[]`). */
export interface ExtraCertOptions {
  readonly certPath: string;
  readonly keyPath: string;
  readonly domains?: readonly string[] | undefined;
  /** Defaults to the main provider when `domains` are given, else `local` (files). */
  readonly provider?: CertProvider | undefined;
  /** Defaults to the main options. */
  readonly options?: ProviderOptions | undefined;
}

/** The `autocert` block (docs/https.md), camelCased, durations in milliseconds. */
export interface CertsOptions {
  readonly provider: CertProvider;
  readonly email?: string | undefined;
  readonly domains?: readonly string[] | undefined;
  readonly caDirUrl?: string | undefined;
  /** PEM files with roots trusted when talking to the ACME server (on top of the usual ones). */
  readonly caCerts?: readonly string[] | undefined;
  readonly eabKid?: string | undefined;
  readonly eabHmac?: string | undefined;
  readonly certPath?: string | undefined;
  readonly keyPath?: string | undefined;
  readonly certificateKeyType?: CertKeyType | undefined;
  readonly renewBeforeMs?: number | undefined;
  readonly options?: ProviderOptions | undefined;
  readonly extra?: readonly ExtraCertOptions[] | undefined;
  /** Default ./data/certs: the account key, per-host certificates, default cert/key paths. */
  readonly dataDir?: string | undefined;
}

export const LETS_ENCRYPT_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';
export const DEFAULT_RENEW_BEFORE_MS = 30 * 24 * 3600_000;

/** One certificate Bellhop keeps: read from files (local) or obtained by ACME. */
export interface SlotPlan {
  /** `main`, `extra-0`, … or `host:<name>`. */
  readonly id: string;
  readonly provider: CertProvider;
  readonly options: ProviderOptions;
  /** The names the certificate must cover (empty for local: whatever the file holds). */
  readonly domains: readonly string[];
  readonly certPath: string;
  readonly keyPath: string;
}

/** The checked options with defaults applied. */
export interface CertsPlan {
  readonly dataDir: string;
  readonly email: string | undefined;
  readonly caDirUrl: string;
  readonly caCerts: readonly string[];
  readonly eab: { readonly kid: string; readonly hmacKey: string } | undefined;
  readonly keyType: CertKeyType;
  readonly renewBeforeMs: number;
  /** Main first, then extras in order: the order SNI prefers when two cover a name. */
  readonly slots: readonly SlotPlan[];
  /** http01/tlsalpn01 without domains: one certificate per route host (ensureHosts). */
  readonly perHost: { readonly provider: 'http01' | 'tlsalpn01'; readonly options: ProviderOptions } | undefined;
}

const DNS_PROVIDERS: ReadonlySet<CertProvider> = new Set(['cloudflare', 'duckdns', 'exec']);
const PROVIDERS: ReadonlySet<string> = new Set(['local', 'http01', 'tlsalpn01', 'cloudflare', 'duckdns', 'exec']);
const KEY_TYPES: ReadonlySet<string> = new Set(['EC256', 'EC384', 'RSA2048', 'RSA4096']);

/** True for providers that validate through a DNS TXT record (the only ones that can do wildcards). */
export function isDnsProvider(p: CertProvider): boolean {
  return DNS_PROVIDERS.has(p);
}

function bad(message: string): CertsError {
  return new CertsError('CERTS_CONFIG_INVALID', message);
}

function checkProvider(where: string, provider: CertProvider, options: ProviderOptions, domains: readonly string[]): void {
  if (!PROVIDERS.has(provider)) throw bad(`${where}: unknown provider ${String(provider)} (local, http01, tlsalpn01, cloudflare, duckdns or exec)`);
  if (provider === 'cloudflare' && !options.authToken) throw bad(`${where}: provider cloudflare needs options.auth_token (an API token with Zone:DNS:Edit)`);
  if (provider === 'duckdns' && !options.token) throw bad(`${where}: provider duckdns needs options.token`);
  if (provider === 'exec' && !options.command) throw bad(`${where}: provider exec needs options.command`);
  if (provider === 'local') return;
  for (const d of domains) {
    if (d.startsWith('*.') && !isDnsProvider(provider)) {
      throw new CertsError('CERTS_WILDCARD_NEEDS_DNS', `${where}: ${d} is a wildcard, which only a DNS-01 provider (cloudflare, duckdns, exec) can validate; ${provider} cannot`, { subject: d });
    }
    if (d === '' || d.includes('*', 1) || (d.includes('*') && !d.startsWith('*.'))) throw bad(`${where}: ${d} is not a DNS name`);
  }
}

/** Checks the options and applies defaults; throws CertsError (CERTS_CONFIG_INVALID, CERTS_WILDCARD_NEEDS_DNS). */
export function planCerts(o: CertsOptions): CertsPlan {
  const dataDir = o.dataDir ?? './data/certs';
  const options = o.options ?? {};
  const domains = (o.domains ?? []).map((d) => d.toLowerCase());
  const keyType = o.certificateKeyType ?? 'EC256';
  if (!KEY_TYPES.has(keyType)) throw bad(`certificate_key_type ${String(keyType)} is not EC256, EC384, RSA2048 or RSA4096`);
  checkProvider('autocert', o.provider, options, domains);
  if (isDnsProvider(o.provider) && domains.length === 0) throw bad(`autocert: provider ${o.provider} needs domains (automatic HTTPS per host is for http01 and tlsalpn01)`);
  if ((o.eabKid === undefined) !== (o.eabHmac === undefined)) throw bad('autocert: eab_kid and eab_hmac go together');
  const renewBeforeMs = o.renewBeforeMs ?? DEFAULT_RENEW_BEFORE_MS;
  if (!(renewBeforeMs > 0)) throw bad('autocert: renew_before must be positive');

  const slots: SlotPlan[] = [];
  const perHost = (o.provider === 'http01' || o.provider === 'tlsalpn01') && domains.length === 0
    ? { provider: o.provider, options }
    : undefined;
  if (perHost === undefined) {
    slots.push({
      id: 'main', provider: o.provider, options, domains,
      certPath: o.certPath ?? join(dataDir, 'cert.crt'),
      keyPath: o.keyPath ?? join(dataDir, 'priv.key'),
    });
  }
  (o.extra ?? []).forEach((e, i) => {
    const eDomains = (e.domains ?? []).map((d) => d.toLowerCase());
    // Without domains or a provider of its own, an extra is a pair of files (a bought certificate).
    const provider = e.provider ?? (eDomains.length > 0 ? o.provider : 'local');
    const eOptions = e.options ?? options;
    const where = `autocert.extra[${i}]`;
    checkProvider(where, provider, eOptions, eDomains);
    if (provider !== 'local' && eDomains.length === 0) throw bad(`${where}: provider ${provider} needs domains`);
    slots.push({ id: `extra-${i}`, provider, options: eOptions, domains: eDomains, certPath: e.certPath, keyPath: e.keyPath });
  });
  return {
    dataDir,
    email: o.email,
    caDirUrl: o.caDirUrl ?? LETS_ENCRYPT_DIRECTORY,
    caCerts: o.caCerts ?? [],
    eab: o.eabKid !== undefined && o.eabHmac !== undefined ? { kid: o.eabKid, hmacKey: o.eabHmac } : undefined,
    keyType,
    renewBeforeMs,
    slots,
    perHost,
  };
}

/** A route host that gets its own certificate: a fully-qualified DNS name, not an IP, a single label or a wildcard. */
export function isCertifiableHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h.length > 253 || !h.includes('.') || h.endsWith('.')) return false;
  if (/^[0-9.]+$/.test(h) || h.includes(':')) return false;
  return h.split('.').every((label) => /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(label)) && !/^[0-9]+$/.test(h.slice(h.lastIndexOf('.') + 1));
}
