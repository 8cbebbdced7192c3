// A catalogue of error codes: every answer a server generates itself names one code, and the
// code decides the status, the default sentence and the docs section that explains it (the
// model is undici's UND_ERR_* and fastify's catalogue). Each module defines the codes of the
// answers it gives; the composition root merges them, so a code is never defined twice.

/** What one code means. */
export interface ErrorEntry {
  /** HTTP status of the answer; for a code that is only logged, the status the log shows. */
  readonly status: number;
  /** Default sentence for the client: a clause without a final period. */
  readonly message: string;
  /** The docs section that explains it, relative to docs/: `proxy.md#retries`. */
  readonly docs: string;
  /** Never answered: it only names an ending in logs (a client that left, a failed attempt). */
  readonly logOnly?: boolean;
}

/** Code → entry. */
export type ErrorCatalogue<C extends string = string> = { readonly [K in C]: ErrorEntry };

const CODE = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/;

/** Checks and freezes a catalogue: UPPER_SNAKE codes, statuses 400–599, a message and a docs link each. */
export function defineErrors<C extends string>(entries: { readonly [K in C]: ErrorEntry }): ErrorCatalogue<C> {
  for (const [code, e] of Object.entries<ErrorEntry>(entries)) {
    if (!CODE.test(code)) throw new TypeError(`error code ${code} is not UPPER_SNAKE_CASE with a module prefix`);
    if (!Number.isInteger(e.status) || e.status < 400 || e.status > 599) throw new TypeError(`error code ${code}: status ${e.status} is not 400-599`);
    if (e.message === '' || e.message.endsWith('.')) throw new TypeError(`error code ${code}: the message must be a clause without a final period`);
    if (!/^[a-z0-9-]+\.md#[a-z0-9-]+$/.test(e.docs)) throw new TypeError(`error code ${code}: docs must be page.md#anchor, not ${e.docs}`);
    Object.freeze(e);
  }
  return Object.freeze(entries);
}

/** One catalogue from several; throws when two define the same code. */
export function mergeCatalogues(...catalogues: readonly ErrorCatalogue[]): ErrorCatalogue {
  const all: Record<string, ErrorEntry> = {};
  for (const c of catalogues) {
    for (const [code, e] of Object.entries(c)) {
      if (Object.hasOwn(all, code)) throw new TypeError(`error code ${code} is defined twice`);
      all[code] = e;
    }
  }
  return Object.freeze(all);
}
