// The certificates of the HTTPS listener (docs/https.md): loads what is on disk, obtains what is
// missing, does not cover its names or is due, renews in the background with backoff, watches
// local files, and answers handshakes by SNI from an immutable table swapped by reference.
// Every state change that a handshake sees happens synchronously (build the table, then swap),
// so no handshake observes half an update; I/O happens before the swap.
import { join } from 'node:path';
import type { SecureContext, Server as TlsServer, TLSSocket } from 'node:tls';
import { silentLogger, type Logger } from '../../pkg/log/index.ts';
import { AcmeIssuer, type ChallengeResponder } from './acme-issuer.ts';
import { readOptional, writeCertPair } from './cert-files.ts';
import { CertsError, describeError } from './certs-error.ts';
import { isCertifiableHost, isDnsProvider, planCerts, type CertProvider, type CertsOptions, type CertsPlan, type SlotPlan } from './certs-options.ts';
import { ChallengeBoard, dns01Responder, http01Responder, tlsAlpn01Responder } from './challenge-responders.ts';
import { dnsProviderFor, type DnsProviderSettings } from './dns-providers.ts';
import { covers, loadCert, renewalDue, type LoadedCert } from './loaded-cert.ts';
import { FileChangeWatch } from './local-watch.ts';
import { SniTable } from './sni-table.ts';

/** What the manager needs besides the options; everything but the logger is for tests. */
export interface CertManagerDeps extends DnsProviderSettings {
  readonly logger?: Logger | undefined;
  /** First retry after a failed issuance; doubles per failure up to retryMaxMs (at most 1 h). Default 1 min. */
  readonly retryMinMs?: number | undefined;
  readonly retryMaxMs?: number | undefined;
  /** Pause between two per-host issuances. Default 5 s. */
  readonly hostGapMs?: number | undefined;
  /** Wait after setting a DNS-01 TXT record before asking the CA to look. Default 10 s. */
  readonly dnsPropagationMs?: number | undefined;
  /** Poll of local certificate files (besides fs.watch). Default 10 s. */
  readonly filePollMs?: number | undefined;
  /** Polling of pending ACME orders. Default 1 s, backing off to 10 s. */
  readonly acmePollMinMs?: number | undefined;
  /** Called once per ACME order placed. */
  readonly onOrder?: ((names: readonly string[]) => void) | undefined;
}

/** One certificate as /api/certs shows it. */
export interface CertStatus {
  /** The certificate's DNS names, or the configured ones while there is none. */
  readonly names: readonly string[];
  readonly source: CertProvider;
  readonly notBefore: string | null;
  readonly notAfter: string | null;
  readonly issuer: string | null;
  readonly state: 'valid' | 'renewing' | 'failed' | 'missing';
  readonly lastError: string | null;
  /** When the next issuance attempt is planned (renewal, or the retry after a failure). */
  readonly nextRenewal: string | null;
}

/** Seconds until a certificate expires, for `bellhop_certificate_expiry_seconds{names}`. */
export interface CertExpiry {
  /** The certificate's names joined by commas. */
  readonly names: string;
  readonly seconds: number;
}

/** The `ALPNCallback` signature of node:tls (`this` is the socket being handshaken). */
export type AlpnCallback = (this: TLSSocket, info: { servername: string; protocols: string[] }) => string | undefined;
/** The `SNICallback` signature of node:tls. */
export type SniCallback = (this: TLSSocket, servername: string, cb: (err: Error | null, ctx?: SecureContext) => void) => void;

/** The ALPN protocol of TLS-ALPN-01 validation handshakes (RFC 8737). */
export const ACME_TLS_ALPN = 'acme-tls/1';
const HOUR = 3_600_000;

interface Slot {
  readonly plan: SlotPlan;
  readonly acme: boolean;
  current: LoadedCert | undefined;
  busy: boolean;
  lastError: string | undefined;
  failures: number;
  /** ACME: when to try next (renewal due, or backoff); undefined until the stored files were read. */
  nextAttempt: number | undefined;
  /** Local: the file text last looked at, so an unchanged broken file is reported once. */
  seen: string | undefined;
  gone: boolean;
  /** Per-host slots: settles once the stored certificate was read (ensureHosts waits on it). */
  loaded?: Promise<void> | undefined;
}

function newSlot(plan: SlotPlan): Slot {
  return { plan, acme: plan.provider !== 'local', current: undefined, busy: false, lastError: undefined, failures: 0, nextAttempt: undefined, seen: undefined, gone: false };
}

export class CertManager {
  readonly #plan: CertsPlan;
  readonly #log: Logger;
  readonly #deps: CertManagerDeps;
  readonly #board = new ChallengeBoard();
  readonly #slots: Slot[];
  readonly #hosts = new Map<string, Slot>();
  readonly #servers = new Set<TlsServer>();
  readonly #alpnSockets = new WeakSet<TLSSocket>();
  #issuer: AcmeIssuer | undefined;
  #table = new SniTable([], undefined);
  #mainContext: LoadedCert | undefined;
  #watch: FileChangeWatch | undefined;
  #timer: NodeJS.Timeout | undefined;
  #working = false;
  #started = false;
  #closed = false;
  #lastHostIssue = 0;

  /** Checks the options (throws CertsError CERTS_CONFIG_INVALID / CERTS_WILDCARD_NEEDS_DNS); no I/O. */
  constructor(options: CertsOptions, deps: CertManagerDeps = {}) {
    this.#plan = planCerts(options);
    this.#deps = deps;
    this.#log = deps.logger ?? silentLogger;
    this.#slots = this.#plan.slots.map(newSlot);
  }

  /** True when route hosts get their own certificates (http01/tlsalpn01 without domains). */
  get perHost(): boolean {
    return this.#plan.perHost !== undefined;
  }

  /**
   * Reads the stored certificates, starts watching local files and starts obtaining what is
   * missing or due in the background. Resolves once the stored certificates are loaded, never
   * waiting for a CA: the listener starts with what there is.
   */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    for (const slot of this.#slots) await this.#loadStored(slot);
    this.#rebuild();
    const local = this.#slots.filter((s) => !s.acme);
    if (local.length > 0) {
      this.#watch = new FileChangeWatch(local.flatMap((s) => [s.plan.certPath, s.plan.keyPath]), this.#deps.filePollMs ?? 10_000, this.#log, () => {
        for (const s of local) void this.#reloadLocal(s);
      });
    }
    this.#kick();
  }

  /**
   * For `bellhop check`: reads the stored certificates and reports them as status() does, with
   * no watching, no ACME traffic and nothing started. Local files that are missing or broken show
   * as `failed` with their error; an ACME certificate not yet obtained shows as `missing`.
   */
  async inspect(): Promise<CertStatus[]> {
    if (!this.#started) {
      for (const slot of this.#slots) await this.#loadStored(slot);
    }
    return this.status();
  }

  /** Stops renewals and file watching. An issuance under way finishes on its own (its files are still written). */
  close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#watch?.close();
    this.#issuer?.close();
    this.#servers.clear();
    return Promise.resolve();
  }

  // ---- handshakes

  /** node:tls `SNICallback`: exact name, then a wildcard one label deep, then the main certificate. */
  readonly sniCallback: SniCallback = (() => {
    const answer = (socket: TLSSocket, servername: string, cb: (err: Error | null, ctx?: SecureContext) => void): void => {
      if (this.#alpnSockets.has(socket)) {
        const challenge = this.#board.alpn.get(servername.toLowerCase());
        if (challenge !== undefined) { cb(null, challenge); return; }
      }
      const ctx = this.#table.lookup(servername);
      if (ctx === undefined) { cb(new CertsError('CERTS_NO_CERTIFICATE', `no certificate yet for ${servername}`, { subject: servername })); return; }
      cb(null, ctx);
    };
    return function sniCallback(this: TLSSocket, servername: string, cb: (err: Error | null, ctx?: SecureContext) => void): void {
      answer(this, servername, cb);
    };
  })();

  /**
   * node:tls `ALPNCallback` choosing among `protocols` (server preference), and answering
   * `acme-tls/1` validation handshakes with the challenge certificate of the name (RFC 8737).
   * Use instead of `ALPNProtocols` (node:tls refuses both).
   */
  alpnCallback(protocols: readonly string[] = ['h2', 'http/1.1']): AlpnCallback {
    const answer = (socket: TLSSocket, info: { servername: string; protocols: string[] }): string | undefined => {
      if (info.protocols.includes(ACME_TLS_ALPN)) {
        const name = typeof info.servername === 'string' ? info.servername.toLowerCase() : '';
        if (this.#board.alpn.has(name)) {
          this.#alpnSockets.add(socket);
          return ACME_TLS_ALPN;
        }
      }
      return protocols.find((p) => info.protocols.includes(p));
    };
    return function alpnCallback(this: TLSSocket, info: { servername: string; protocols: string[] }): string | undefined {
      return answer(this, info);
    };
  }

  /** `{ SNICallback, ALPNCallback }` for `tls.createServer` / `http2.createSecureServer`. */
  tlsServerOptions(protocols: readonly string[] = ['h2', 'http/1.1']): { SNICallback: SniCallback; ALPNCallback: AlpnCallback } {
    return { SNICallback: this.sniCallback, ALPNCallback: this.alpnCallback(protocols) };
  }

  /**
   * Keeps `server`'s default certificate (what a client without SNI gets: Node calls no
   * SNICallback then) set to the main certificate, now and after every change.
   */
  attach(server: TlsServer): void {
    this.#servers.add(server);
    if (this.#mainContext !== undefined) server.setSecureContext({ cert: this.#mainContext.certPem, key: this.#mainContext.keyPem });
  }

  /** The certificate for a handshake by SNI (undefined: none at all yet). */
  secureContextFor(servername: string | undefined): SecureContext | undefined {
    return this.#table.lookup(servername);
  }

  /** HTTP-01: the body for `GET /.well-known/acme-challenge/<token>` (text/plain), undefined → 404. */
  httpChallenge(token: string): string | undefined {
    return this.#board.http.get(token);
  }

  /** True when a certificate (not only the main fallback) covers `host`: the proxy redirects HTTP to HTTPS for it. */
  hasCertificateFor(host: string): boolean {
    return this.#table.covers(host);
  }

  // ---- automatic HTTPS per host

  /**
   * The route hosts now (call on every route table change). With http01/tlsalpn01 and no
   * domains, each fully-qualified DNS name gets its own certificate under <data_dir>/<host>/;
   * hosts that left are no longer renewed. A no-op otherwise. Resolves once the certificates
   * already stored for new hosts serve handshakes (at startup, before the listener is announced).
   */
  ensureHosts(hosts: Iterable<string>): Promise<void> {
    const perHost = this.#plan.perHost;
    if (perHost === undefined || this.#closed) return Promise.resolve();
    const loading: Promise<void>[] = [];
    const wanted = new Set<string>();
    for (const h of hosts) {
      const host = h.toLowerCase();
      if (isCertifiableHost(host) && !this.#coveredBySlots(host)) wanted.add(host);
    }
    for (const host of wanted) {
      const pending = this.#hosts.get(host)?.loaded;
      if (pending !== undefined) loading.push(pending);
    }
    let changed = false;
    for (const [host, slot] of this.#hosts) {
      if (wanted.has(host)) continue;
      slot.gone = true;
      this.#hosts.delete(host);
      changed = true;
    }
    for (const host of wanted) {
      if (this.#hosts.has(host)) continue;
      const slot = newSlot({
        id: `host:${host}`, provider: perHost.provider, options: perHost.options, domains: [host],
        certPath: join(this.#plan.dataDir, host, 'cert.crt'), keyPath: join(this.#plan.dataDir, host, 'priv.key'),
      });
      this.#hosts.set(host, slot);
      slot.loaded = this.#loadStored(slot).then(() => { this.#rebuild(); this.#kick(); });
      loading.push(slot.loaded);
    }
    if (changed) this.#rebuild();
    return Promise.all(loading).then(() => undefined);
  }

  #coveredBySlots(host: string): boolean {
    const parent = host.slice(host.indexOf('.') + 1);
    return this.#slots.some((s) => s.plan.domains.includes(host) || s.plan.domains.includes(`*.${parent}`));
  }

  // ---- status

  /** Every certificate, for /api/certs. */
  status(): CertStatus[] {
    return [...this.#slots, ...this.#hosts.values()].map((s) => {
      const c = s.current;
      const state: CertStatus['state'] = s.busy && s.acme && c !== undefined ? 'renewing'
        : s.lastError !== undefined ? 'failed'
          : c === undefined ? 'missing' : 'valid';
      return {
        names: c?.names ?? s.plan.domains,
        source: s.plan.provider,
        notBefore: c?.notBefore.toISOString() ?? null,
        notAfter: c?.notAfter.toISOString() ?? null,
        issuer: c?.issuer ?? null,
        state,
        lastError: s.lastError ?? null,
        nextRenewal: s.acme && s.nextAttempt !== undefined ? new Date(s.nextAttempt).toISOString() : null,
      };
    });
  }

  /** Seconds until each held certificate expires (negative once expired). */
  expirySeconds(): CertExpiry[] {
    const now = Date.now();
    const out: CertExpiry[] = [];
    for (const s of [...this.#slots, ...this.#hosts.values()]) {
      if (s.current !== undefined) out.push({ names: s.current.names.join(','), seconds: Math.round((s.current.notAfter.getTime() - now) / 1000) });
    }
    return out;
  }

  // ---- loading and swapping

  #rebuild(): void {
    const all = [...this.#slots, ...this.#hosts.values()].filter((s) => s.current !== undefined);
    const entries = all.map((s) => ({ names: s.current?.names ?? [], context: (s.current as LoadedCert).context }));
    const main = this.#slots[0]?.current ?? all[0]?.current;
    this.#table = new SniTable(entries, main?.context);
    if (main !== this.#mainContext) {
      this.#mainContext = main;
      if (main !== undefined) {
        for (const server of this.#servers) server.setSecureContext({ cert: main.certPem, key: main.keyPem });
      }
    }
  }

  async #readPair(slot: Slot): Promise<{ cert: string; key: string } | string> {
    const [cert, key] = await Promise.all([readOptional(slot.plan.certPath), readOptional(slot.plan.keyPath)]);
    if (cert === undefined || key === undefined) {
      const missing = [cert === undefined ? slot.plan.certPath : undefined, key === undefined ? slot.plan.keyPath : undefined].filter(Boolean).join(' and ');
      return `${missing} missing`;
    }
    return { cert, key };
  }

  async #loadStored(slot: Slot): Promise<void> {
    if (!slot.acme) { await this.#reloadLocal(slot); return; }
    try {
      const pair = await this.#readPair(slot);
      if (typeof pair !== 'string') {
        const cert = loadCert(pair.cert, pair.key, slot.plan.certPath);
        slot.current = cert;
        const due = renewalDue(cert, this.#plan.renewBeforeMs);
        slot.nextAttempt = covers(cert, slot.plan.domains) ? due : Date.now();
        if (slot.nextAttempt === due) this.#log.info({ names: cert.names, notAfter: cert.notAfter, renewAt: new Date(due) }, 'using the stored certificate');
        return;
      }
    } catch (err) {
      this.#log.warn({ err, path: slot.plan.certPath }, 'the stored certificate is unusable; obtaining a new one');
    }
    slot.nextAttempt = Date.now();
  }

  async #reloadLocal(slot: Slot): Promise<void> {
    if (slot.busy || this.#closed) return;
    slot.busy = true;
    try {
      let pair: { cert: string; key: string } | string;
      try {
        pair = await this.#readPair(slot);
      } catch (err) {
        pair = describeError(err);
      }
      const text = typeof pair === 'string' ? pair : `${pair.cert}\0${pair.key}`;
      if (text === slot.seen) return;
      slot.seen = text;
      if (typeof pair === 'string') throw new CertsError('CERTS_FILE_UNREADABLE', pair, { subject: slot.plan.certPath });
      const cert = loadCert(pair.cert, pair.key, slot.plan.certPath);
      const first = slot.current === undefined;
      slot.current = cert;
      slot.lastError = undefined;
      this.#rebuild();
      this.#log.info({ names: cert.names, notAfter: cert.notAfter, path: slot.plan.certPath }, first ? 'certificate loaded' : 'certificate reloaded from disk');
    } catch (err) {
      slot.lastError = describeError(err);
      this.#log.error({ err, path: slot.plan.certPath, kept: slot.current?.names ?? null }, slot.current ? 'certificate files are broken; keeping the previous certificate' : 'certificate files are unusable');
    } finally {
      slot.busy = false;
    }
  }

  // ---- issuance

  #responderFor(plan: SlotPlan): ChallengeResponder {
    if (plan.provider === 'http01') return http01Responder(this.#board);
    if (plan.provider === 'tlsalpn01') return tlsAlpn01Responder(this.#board);
    if (isDnsProvider(plan.provider)) return dns01Responder(dnsProviderFor(plan.provider, plan.options, this.#deps), this.#deps.dnsPropagationMs ?? 10_000);
    throw new CertsError('CERTS_CONFIG_INVALID', `${plan.provider} does not issue certificates`);
  }

  /** Runs the next due issuance, one at a time (main and extras first, then hosts, paced). */
  #kick(): void {
    if (this.#closed || this.#working) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const now = Date.now();
    const candidates = [...this.#slots, ...this.#hosts.values()].filter((s) => s.acme && !s.gone && s.nextAttempt !== undefined);
    const due = candidates.find((s) => (s.nextAttempt ?? Infinity) <= now);
    let wake = Math.min(...candidates.map((s) => s.nextAttempt ?? Infinity));
    if (due !== undefined) {
      const gapLeft = this.#hosts.get(due.plan.domains[0] ?? '') === due ? this.#lastHostIssue + (this.#deps.hostGapMs ?? 5000) - now : 0;
      if (gapLeft <= 0) {
        this.#working = true;
        void this.#attempt(due).finally(() => { this.#working = false; this.#kick(); });
        return;
      }
      wake = now + gapLeft;
    }
    if (wake === Infinity) return;
    // At most an hour: a suspended machine or a changed clock is noticed within the hour.
    this.#timer = setTimeout(() => this.#kick(), Math.min(Math.max(wake - now, 0), HOUR));
    this.#timer.unref();
  }

  async #attempt(slot: Slot): Promise<void> {
    const names = slot.plan.domains;
    const isHost = slot.plan.id.startsWith('host:');
    slot.busy = true;
    try {
      this.#issuer ??= new AcmeIssuer(this.#plan, this.#log, { pollMinMs: this.#deps.acmePollMinMs, onOrder: this.#deps.onOrder });
      this.#log.info({ names, provider: slot.plan.provider, renewal: slot.current !== undefined }, 'obtaining a certificate');
      const issued = await this.#issuer.issue(names, this.#responderFor(slot.plan));
      const cert = loadCert(issued.certPem, issued.keyPem, names.join(','));
      // Stored first, then served: from the swap on, status() and handshakes agree (no await
      // between installing the certificate and leaving `renewing`).
      let storeError: string | undefined;
      try {
        await writeCertPair(slot.plan.certPath, slot.plan.keyPath, issued.certPem, issued.keyPem);
      } catch (err) {
        // Served from memory until the next renewal; a restart would order again.
        storeError = describeError(err);
        this.#log.error({ err, names }, 'could not store the new certificate');
      }
      slot.failures = 0;
      slot.lastError = storeError;
      slot.nextAttempt = renewalDue(cert, this.#plan.renewBeforeMs);
      if (!slot.gone) {
        slot.current = cert;
        this.#rebuild();
      }
      this.#log.info({ names: cert.names, notAfter: cert.notAfter, issuer: cert.issuer, renewAt: new Date(slot.nextAttempt) }, 'certificate obtained');
    } catch (err) {
      slot.failures += 1;
      const delay = Math.min((this.#deps.retryMinMs ?? 60_000) * 2 ** (slot.failures - 1), this.#deps.retryMaxMs ?? HOUR, HOUR);
      slot.nextAttempt = Date.now() + delay;
      slot.lastError = describeError(err);
      this.#log.error({ err, names, failures: slot.failures, retryInMs: delay, kept: slot.current !== undefined }, 'could not obtain a certificate');
    } finally {
      slot.busy = false;
      if (isHost) this.#lastHostIssue = Date.now();
    }
  }
}
