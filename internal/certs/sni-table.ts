// Which certificate a handshake gets, by SNI: the exact name, then a wildcard one label deep
// (`*.example.com` covers `a.example.com`, not `example.com` or `a.b.example.com`), then the
// main certificate; no SNI → main. Immutable: a change builds a new table and swaps the
// reference, so a handshake never sees half an update.
import type { SecureContext } from 'node:tls';

export interface SniEntry {
  readonly names: readonly string[];
  readonly context: SecureContext;
}

export class SniTable {
  readonly #exact = new Map<string, SecureContext>();
  readonly #wildcard = new Map<string, SecureContext>();
  readonly #main: SecureContext | undefined;

  /** `entries` in preference order (main first); `main` answers names nothing covers. */
  constructor(entries: readonly SniEntry[], main: SecureContext | undefined) {
    for (const e of entries) {
      for (const n of e.names) {
        if (n.startsWith('*.')) {
          if (!this.#wildcard.has(n.slice(2))) this.#wildcard.set(n.slice(2), e.context);
        } else if (!this.#exact.has(n)) {
          this.#exact.set(n, e.context);
        }
      }
    }
    this.#main = main ?? entries[0]?.context;
  }

  /** The context for a handshake; undefined when there is no certificate at all. */
  lookup(servername: string | undefined): SecureContext | undefined {
    if (servername === undefined || servername === '') return this.#main;
    const name = servername.toLowerCase().replace(/\.$/, '');
    const exact = this.#exact.get(name);
    if (exact !== undefined) return exact;
    const dot = name.indexOf('.');
    if (dot > 0) {
      const wild = this.#wildcard.get(name.slice(dot + 1));
      if (wild !== undefined) return wild;
    }
    return this.#main;
  }

  /** True when a certificate other than the main fallback covers the name. */
  covers(servername: string): boolean {
    const name = servername.toLowerCase();
    const dot = name.indexOf('.');
    return this.#exact.has(name) || (dot > 0 && this.#wildcard.has(name.slice(dot + 1)));
  }
}
