// DNS-01 providers: put `_acme-challenge.<name>` TXT = value up, and take it down again.
// Cloudflare speaks API v4 (zone lookup by name, then dns_records), DuckDNS its one update URL,
// exec runs the user's command as `command present|cleanup <fqdn> <value>` without a shell.
import { execFile } from 'node:child_process';
import { CertsError } from './certs-error.ts';
import type { CertProvider, ProviderOptions } from './certs-options.ts';

export interface DnsProvider {
  present(fqdn: string, value: string): Promise<void>;
  cleanup(fqdn: string, value: string): Promise<void>;
}

/** Endpoints and limits the tests (and nobody else) change. */
export interface DnsProviderSettings {
  readonly cloudflareBaseUrl?: string | undefined;
  readonly duckdnsBaseUrl?: string | undefined;
  readonly execTimeoutMs?: number | undefined;
}

function failed(message: string, fqdn: string, cause?: unknown): CertsError {
  return new CertsError('CERTS_DNS_PROVIDER_FAILED', message, { subject: fqdn, cause });
}

interface CloudflareAnswer<T> {
  success?: boolean;
  errors?: { code?: number; message?: string }[];
  result?: T;
}

export class CloudflareDns implements DnsProvider {
  readonly #base: string;
  readonly #token: string;
  /** `fqdn value` → [zone id, record id], for cleanup. */
  readonly #records = new Map<string, [string, string]>();

  constructor(token: string, baseUrl = 'https://api.cloudflare.com') {
    this.#token = token;
    this.#base = baseUrl.replace(/\/$/, '');
  }

  async #call<T>(method: string, path: string, fqdn: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.#base}/client/v4${path}`, {
        method,
        headers: { authorization: `Bearer ${this.#token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      throw failed(`cloudflare: ${method} ${path}: ${(err as Error).message}`, fqdn, err);
    }
    const answer = await res.json().catch(() => ({})) as CloudflareAnswer<T>;
    if (!res.ok || answer.success !== true || answer.result === undefined) {
      const why = (answer.errors ?? []).map((e) => `${e.code ?? '?'} ${e.message ?? ''}`.trim()).join('; ') || `HTTP ${res.status}`;
      throw failed(`cloudflare: ${method} ${path}: ${why}`, fqdn);
    }
    return answer.result;
  }

  async #zoneOf(fqdn: string): Promise<string> {
    const labels = fqdn.split('.');
    for (let i = 1; i < labels.length - 1; i++) {
      const name = labels.slice(i).join('.');
      const zones = await this.#call<{ id: string; name: string }[]>('GET', `/zones?name=${encodeURIComponent(name)}`, fqdn);
      const zone = zones.find((z) => z.name === name);
      if (zone !== undefined) return zone.id;
    }
    throw failed(`cloudflare: no zone of this token holds ${fqdn}`, fqdn);
  }

  async present(fqdn: string, value: string): Promise<void> {
    const zone = await this.#zoneOf(fqdn);
    const record = await this.#call<{ id: string }>('POST', `/zones/${zone}/dns_records`, fqdn, { type: 'TXT', name: fqdn, content: value, ttl: 120 });
    this.#records.set(`${fqdn} ${value}`, [zone, record.id]);
  }

  async cleanup(fqdn: string, value: string): Promise<void> {
    const ids = this.#records.get(`${fqdn} ${value}`);
    if (ids === undefined) return;
    this.#records.delete(`${fqdn} ${value}`);
    await this.#call('DELETE', `/zones/${ids[0]}/dns_records/${ids[1]}`, fqdn);
  }
}

export class DuckDns implements DnsProvider {
  readonly #base: string;
  readonly #token: string;

  constructor(token: string, baseUrl = 'https://www.duckdns.org') {
    this.#token = token;
    this.#base = baseUrl.replace(/\/$/, '');
  }

  async #update(fqdn: string, params: Record<string, string>): Promise<void> {
    // DuckDNS takes the subdomain (`home` of home.duckdns.org); one TXT per subdomain.
    const name = fqdn.replace(/^_acme-challenge\./, '');
    const domain = name.endsWith('.duckdns.org') ? name.slice(0, -'.duckdns.org'.length).split('.').pop() ?? name : name;
    const q = new URLSearchParams({ domains: domain, token: this.#token, ...params });
    let body: string;
    try {
      const res = await fetch(`${this.#base}/update?${q.toString()}`, { signal: AbortSignal.timeout(30_000) });
      body = (await res.text()).trim();
    } catch (err) {
      throw failed(`duckdns: ${(err as Error).message}`, fqdn, err);
    }
    if (!body.startsWith('OK')) throw failed(`duckdns: the update answered ${JSON.stringify(body.slice(0, 100))}`, fqdn);
  }

  present(fqdn: string, value: string): Promise<void> {
    return this.#update(fqdn, { txt: value });
  }

  cleanup(fqdn: string, value: string): Promise<void> {
    return this.#update(fqdn, { txt: value, clear: 'true' });
  }
}

export class ExecDns implements DnsProvider {
  readonly #command: string;
  readonly #timeoutMs: number;

  constructor(command: string, timeoutMs = 120_000) {
    this.#command = command;
    this.#timeoutMs = timeoutMs;
  }

  #run(action: 'present' | 'cleanup', fqdn: string, value: string): Promise<void> {
    return new Promise((resolve, reject) => {
      execFile(this.#command, [action, fqdn, value], { timeout: this.#timeoutMs, killSignal: 'SIGKILL' }, (err, _stdout, stderr) => {
        if (err === null) { resolve(); return; }
        const how = err.killed ? `timed out after ${this.#timeoutMs} ms` : `failed (${String(err.code ?? err.signal)})`;
        const tail = stderr.trim().slice(-500);
        reject(failed(`exec: ${this.#command} ${action} ${fqdn} ${how}${tail ? `: ${tail}` : ''}`, fqdn, err));
      });
    });
  }

  present(fqdn: string, value: string): Promise<void> {
    return this.#run('present', fqdn, value);
  }

  cleanup(fqdn: string, value: string): Promise<void> {
    return this.#run('cleanup', fqdn, value);
  }
}

/** The DNS provider for a DNS-01 `provider`; planCerts has checked the options are there. */
export function dnsProviderFor(provider: CertProvider, options: ProviderOptions, settings: DnsProviderSettings): DnsProvider {
  switch (provider) {
    case 'cloudflare': return new CloudflareDns(options.authToken ?? '', settings.cloudflareBaseUrl);
    case 'duckdns': return new DuckDns(options.token ?? '', settings.duckdnsBaseUrl);
    case 'exec': return new ExecDns(options.command ?? '', settings.execTimeoutMs);
    default: throw new CertsError('CERTS_CONFIG_INVALID', `${provider} is not a DNS-01 provider`);
  }
}
