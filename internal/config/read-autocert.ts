// The `autocert:` block (docs/https.md): where the HTTPS listener's certificates come from.
// GoDoxy's block is read unchanged (same keys, same meaning); Bellhop adds the http01,
// tlsalpn01 and exec providers, renew_before and automatic per-host certificates. Problems a
// user can only find at the first renewal, months later, are reported here instead: a wildcard
// with an HTTP-based provider, a DNS provider without its token, half an EAB pair.
import { isSeq } from 'yaml';
import { isDomainName } from '../routes/index.ts';
import type { AutocertDraft, CertDraft, Draft } from './config-draft.ts';
import { KEYS } from './config-keys.ts';
import type { AutocertProvider } from './config-types.ts';
import { AUTOCERT_PROVIDERS, CERTIFICATE_KEY_TYPES, DEFAULTS, DNS_PROVIDERS } from './defaults.ts';
import type { Entry, EntryReader, Value } from './entry-reader.ts';
import { closest } from './suggest.ts';

/** What each DNS provider needs in `options`, and how the key is spelled in the file. */
const REQUIRED_OPTION: Partial<Record<AutocertProvider, { key: 'auth_token' | 'token' | 'command'; field: 'authToken' | 'token' | 'command'; what: string }>> = {
  cloudflare: { key: 'auth_token', field: 'authToken', what: 'a Cloudflare API token with Zone:DNS:Edit' },
  duckdns: { key: 'token', field: 'token', what: 'your DuckDNS token' },
  exec: { key: 'command', field: 'command', what: 'a command run as `command present|cleanup <fqdn> <txt-value>`' },
};

/** A certificate name: a DNS name, or `*.` and a DNS name. Lower-cased. */
function checkCertName(s: string): string | undefined {
  const n = s.trim().toLowerCase().replace(/\.$/, '');
  const base = n.startsWith('*.') ? n.slice(2) : n;
  if (!isDomainName(base) || base.includes('*')) return `${JSON.stringify(s)} is not a domain name (e.g. "example.com" or "*.example.com")`;
  return undefined;
}

function readProvider(reader: EntryReader, e: Entry, path: string): AutocertProvider | undefined {
  const s = reader.string(e, path, `a provider (${AUTOCERT_PROVIDERS.join(', ')})`);
  if (s === undefined) return undefined;
  const p = AUTOCERT_PROVIDERS.find((x) => x === s.trim().toLowerCase());
  if (p !== undefined) return p;
  const near = closest(s.trim().toLowerCase(), AUTOCERT_PROVIDERS);
  reader.fail('CONFIG_BAD_PROVIDER', path, `unknown provider ${JSON.stringify(s)}${near === undefined ? '' : `; did you mean ${JSON.stringify(near)}?`} (providers: ${AUTOCERT_PROVIDERS.join(', ')}; any other DNS can be scripted with exec)`, reader.valueNode(e));
  return undefined;
}

function readPath(reader: EntryReader, e: Entry, path: string): string | undefined {
  const v = reader.string(e, path, 'a file path');
  if (v === '') reader.fail('CONFIG_BAD_PATH', path, 'must not be empty', reader.valueNode(e));
  return v === '' ? undefined : v;
}

function readOptions(reader: EntryReader, e: Entry, path: string, into: CertDraft['options']): void {
  for (const o of reader.map(e.value, path, KEYS.autocertOptions, 'auth_token: "…"') ?? []) {
    const v = reader.string(o, `${path}.${o.key}`);
    if (v === undefined) continue;
    if (o.key === 'auth_token') into.authToken = v;
    else if (o.key === 'token') into.token = v;
    else into.command = v;
  }
}

/** The checks that need the whole entry: the provider's option, wildcards, what local needs. */
/** Where an entry's keys are, for the line of a problem found across keys (the block's own line when absent). */
interface CertNodes {
  block: Value;
  provider?: Value;
  options?: Value;
  domains?: Value;
}

function checkCert(reader: EntryReader, c: CertDraft, at: CertNodes, where: string): void {
  const need = REQUIRED_OPTION[c.provider];
  if (need !== undefined && (c.options[need.field] ?? '').trim() === '') {
    reader.fail('CONFIG_AUTOCERT', `${where}.options.${need.key}`, `provider ${c.provider} needs options.${need.key}: ${need.what}`, at.options ?? at.provider ?? at.block);
  }
  const wildcard = c.domains.find((d) => d.startsWith('*.'));
  if (wildcard !== undefined && !DNS_PROVIDERS.includes(c.provider) && c.provider !== 'local') {
    reader.fail('CONFIG_AUTOCERT', `${where}.domains`, `${JSON.stringify(wildcard)} is a wildcard: only a DNS-01 provider (${DNS_PROVIDERS.join(', ')}) can prove it, not ${c.provider}`, at.domains ?? at.block);
  }
  if (c.domains.length === 0 && DNS_PROVIDERS.includes(c.provider)) {
    reader.fail('CONFIG_AUTOCERT', `${where}.domains`, `provider ${c.provider} needs the names to certify (e.g. ["example.com", "*.example.com"]); only http01 and tlsalpn01 find them from the routes`, at.domains ?? at.provider ?? at.block);
  }
}

function readExtra(reader: EntryReader, e: Entry, main: AutocertDraft): void {
  const n = reader.deref(e.value);
  if (reader.isNull(n)) return;
  if (!isSeq(n)) {
    reader.fail('CONFIG_BAD_TYPE', 'autocert.extra', `expected a list of certificates ({ cert_path, key_path }), got ${reader.describe(n)}`, reader.valueNode(e));
    return;
  }
  (n.items as Value[]).forEach((raw, i) => {
    const path = `autocert.extra[${String(i)}]`;
    const c: CertDraft = { provider: main.provider, domains: [], certPath: '', keyPath: '', options: { ...main.options }, line: reader.line(raw), path };
    let ownOptions = false;
    const at: CertNodes = { block: raw };
    for (const x of reader.map(raw, path, KEYS.autocertExtra, '{ cert_path: ./data/certs/other.crt, key_path: ./data/certs/other.key }') ?? []) {
      const p = `${path}.${x.key}`;
      if (x.key === 'cert_path' || x.key === 'key_path') {
        const v = readPath(reader, x, p);
        if (v !== undefined) c[x.key === 'cert_path' ? 'certPath' : 'keyPath'] = v;
      } else if (x.key === 'domains') {
        c.domains = (reader.stringList(x, p, checkCertName, 'CONFIG_BAD_DOMAIN') ?? []).map(normaliseName);
        at.domains = x.keyNode;
      } else if (x.key === 'provider') {
        c.provider = readProvider(reader, x, p) ?? c.provider;
        at.provider = x.keyNode;
      } else {
        at.options = x.keyNode;
        if (!ownOptions) c.options = {};
        ownOptions = true;
        readOptions(reader, x, p, c.options);
      }
    }
    if (c.certPath === '' || c.keyPath === '') {
      reader.fail('CONFIG_AUTOCERT', path, 'an extra certificate needs cert_path and key_path (where it is kept)', raw);
      return;
    }
    checkCert(reader, c, at, path);
    main.extra.push(c);
  });
}

function normaliseName(s: string): string {
  return s.trim().toLowerCase().replace(/\.$/, '');
}

/** Reads `autocert:` into `draft.autocert`. An empty block means `provider: local` with the default paths. */
export function readAutocert(reader: EntryReader, block: Entry, draft: Draft): void {
  const a: AutocertDraft = {
    provider: 'local',
    domains: [],
    certPath: DEFAULTS.autocert.certPath,
    keyPath: DEFAULTS.autocert.keyPath,
    options: {},
    line: reader.line(block.keyNode),
    path: 'autocert',
    email: '',
    caDirUrl: DEFAULTS.autocert.caDirUrl,
    caCerts: [],
    eabKid: '',
    eabHmac: '',
    certificateKeyType: DEFAULTS.autocert.certificateKeyType,
    renewBeforeMs: DEFAULTS.autocert.renewBeforeMs,
    extra: [],
  };
  const entries = reader.map(block.value, 'autocert', KEYS.autocert, 'provider: http01');
  if (entries === undefined) return;
  let extra: Entry | undefined;
  let eabNode: Value;
  const at: CertNodes = { block: block.keyNode };
  for (const e of entries) {
    const p = `autocert.${e.key}`;
    switch (e.key) {
      case 'provider':
        a.provider = readProvider(reader, e, p) ?? a.provider;
        at.provider = e.keyNode;
        break;
      case 'email': {
        const v = reader.string(e, p, 'an e-mail address');
        if (v !== undefined && v !== '' && !/^[^\s@]+@[^\s@]+$/.test(v)) reader.fail('CONFIG_AUTOCERT', p, `${JSON.stringify(v)} is not an e-mail address`, reader.valueNode(e));
        else if (v !== undefined) a.email = v;
        break;
      }
      case 'domains':
        a.domains = (reader.stringList(e, p, checkCertName, 'CONFIG_BAD_DOMAIN') ?? []).map(normaliseName);
        at.domains = e.keyNode;
        break;
      case 'ca_dir_url': {
        const v = reader.string(e, p, 'an ACME directory URL');
        let ok = false;
        try {
          ok = v !== undefined && ['https:', 'http:'].includes(new URL(v).protocol);
        } catch { /* reported below */ }
        if (ok) a.caDirUrl = v!;
        else if (v !== undefined) reader.fail('CONFIG_BAD_URL', p, `${JSON.stringify(v)} is not an ACME directory URL (e.g. https://acme-staging-v02.api.letsencrypt.org/directory)`, reader.valueNode(e));
        break;
      }
      case 'ca_certs':
        a.caCerts = reader.stringList(e, p, (s) => (s.trim() === '' ? 'must not be empty' : undefined), 'CONFIG_BAD_PATH') ?? [];
        break;
      case 'eab_kid':
      case 'eab_hmac': {
        const v = reader.string(e, p);
        if (v !== undefined) a[e.key === 'eab_kid' ? 'eabKid' : 'eabHmac'] = v;
        eabNode ??= e.keyNode;
        break;
      }
      case 'cert_path':
      case 'key_path': {
        const v = readPath(reader, e, p);
        if (v !== undefined) a[e.key === 'cert_path' ? 'certPath' : 'keyPath'] = v;
        break;
      }
      case 'certificate_key_type': {
        const v = reader.string(e, p, `a key type (${CERTIFICATE_KEY_TYPES.join(', ')})`);
        if (v === undefined) break;
        const t = CERTIFICATE_KEY_TYPES.find((k) => k === v.trim().toUpperCase());
        if (t !== undefined) a.certificateKeyType = t;
        else reader.fail('CONFIG_AUTOCERT', p, `unknown key type ${JSON.stringify(v)} (${CERTIFICATE_KEY_TYPES.join(', ')})`, reader.valueNode(e));
        break;
      }
      case 'renew_before': {
        const ms = reader.duration(e, p, { positive: true });
        if (ms !== undefined) a.renewBeforeMs = ms;
        break;
      }
      case 'options':
        readOptions(reader, e, p, a.options);
        at.options = e.keyNode;
        break;
      default:
        extra = e;
    }
  }
  if ((a.eabKid === '') !== (a.eabHmac === '')) {
    reader.fail('CONFIG_AUTOCERT', a.eabKid === '' ? 'autocert.eab_kid' : 'autocert.eab_hmac', 'external account binding needs both eab_kid and eab_hmac', eabNode);
  }
  checkCert(reader, a, at, 'autocert');
  if (extra !== undefined) readExtra(reader, extra, a);
  draft.autocert = a;
}
