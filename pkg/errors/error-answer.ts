// The one shape of an answer a server generates itself, and its writer:
//   {"error":{"code":"PROXY_NO_ROUTE","status":404,"message":"No service answers this host", ...fields}}
// Extra facts (retryAfter, exitCode, container, …) stay under `error`, so a client reads one
// object whatever module answered. Browsers may get the same answer as a small HTML page, and
// plain clients as one line of text; which form a request gets is the caller's choice.
import type { ServerResponse } from 'node:http';
import type { ErrorCatalogue } from './error-catalogue.ts';

const { STATUS_CODES } = process.getBuiltinModule('node:http');

/** Extra facts about one answer, kept under `error` beside code, status and message. */
export type ErrorFields = Readonly<Record<string, string | number | boolean | null | readonly string[]>>;

/** What goes under `error`. */
export interface ErrorAnswer {
  readonly code: string;
  readonly status: number;
  readonly message: string;
  readonly fields?: ErrorFields | undefined;
}

/** `json` for programs, `html` for a browser page, `text` for one line of plain text. */
export type ErrorFormat = 'json' | 'html' | 'text';

export interface ErrorSendOptions {
  format: ErrorFormat;
  /** Replaces the catalogue's sentence (a refused route names its labels). */
  message?: string | undefined;
  /** Extra facts under `error` (the JSON form; HTML and text show the message only). */
  fields?: ErrorFields | undefined;
  /** Seconds for `Retry-After`; the JSON form also carries it as `retryAfter`. */
  retryAfterSec?: number | undefined;
  /** Adds `Connection: close` (after a malformed request the connection's framing is not trusted). */
  close?: boolean | undefined;
  /** More response headers as a flat [name, value, …] list (`x-bellhop-state`). */
  headers?: readonly string[] | undefined;
}

const CONTENT_TYPE: Readonly<Record<ErrorFormat, string>> = {
  json: 'application/json',
  html: 'text/html; charset=utf-8',
  text: 'text/plain; charset=utf-8',
};

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The answer's body in one form. */
export function renderError(a: ErrorAnswer, format: ErrorFormat): string {
  const { code, status, message } = a;
  if (format === 'json') {
    const error: Record<string, unknown> = { code, status, message };
    if (a.fields !== undefined) for (const [k, v] of Object.entries(a.fields)) if (!(k in error)) error[k] = v;
    return `${JSON.stringify({ error })}\n`;
  }
  if (format === 'text') return `${STATUS_CODES[status] ?? 'Error'}: ${message}\n`;
  return `<!doctype html><html><head><meta charset="utf-8"><title>${status} ${escapeHtml(message)}</title></head>` +
    `<body style="font-family:system-ui,sans-serif;margin:3em"><h1>${status}</h1><p>${escapeHtml(message)}.</p>` +
    `<p style="color:#777"><small>${code} · Bellhop</small></p></body></html>\n`;
}

/**
 * Answers one catalogue's codes. A body with the catalogue's own sentence and no extra facts
 * is built once per code and form, so a hot error (404, 503) allocates only its header list.
 */
export class ErrorWriter<C extends string> {
  readonly #catalogue: ErrorCatalogue<C>;
  readonly #bodies: Readonly<Record<ErrorFormat, Map<C, Buffer>>> = { json: new Map(), html: new Map(), text: new Map() };

  constructor(catalogue: ErrorCatalogue<C>) {
    this.#catalogue = catalogue;
  }

  status(code: C): number {
    return this.#catalogue[code].status;
  }

  /** The answer for `code` with the options' message and fields (`retryAfter` included). */
  answer(code: C, opts: Omit<ErrorSendOptions, 'format'> = {}): ErrorAnswer {
    const e = this.#catalogue[code];
    const fields = opts.retryAfterSec === undefined ? opts.fields : { ...opts.fields, retryAfter: opts.retryAfterSec };
    return { code, status: e.status, message: opts.message ?? e.message, fields };
  }

  body(code: C, opts: ErrorSendOptions): Buffer {
    if (opts.message !== undefined || opts.fields !== undefined || opts.retryAfterSec !== undefined) {
      return Buffer.from(renderError(this.answer(code, opts), opts.format));
    }
    const cache = this.#bodies[opts.format];
    let b = cache.get(code);
    if (b === undefined) {
      b = Buffer.from(renderError(this.answer(code), opts.format));
      cache.set(code, b);
    }
    return b;
  }

  /**
   * Answers `res` with `code`, `Cache-Control: no-store` and the options' headers. A response
   * whose head is already out cannot carry it: the connection is destroyed instead, so the
   * client sees a broken answer rather than a clean-looking one.
   */
  send(res: ServerResponse, code: C, opts: ErrorSendOptions): void {
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    const body = this.body(code, opts);
    const headers: string[] = ['content-type', CONTENT_TYPE[opts.format], 'content-length', String(body.length), 'cache-control', 'no-store'];
    if (opts.retryAfterSec !== undefined) headers.push('retry-after', String(opts.retryAfterSec));
    if (opts.headers !== undefined) headers.push(...opts.headers);
    if (opts.close === true) headers.push('connection', 'close');
    res.writeHead(this.#catalogue[code].status, headers);
    res.end(res.req.method === 'HEAD' ? undefined : body);
  }

  /**
   * The whole HTTP/1.1 answer as text, for a socket that has no ServerResponse (CONNECT, a
   * websocket upgrade): the JSON form, `Connection: close`. `Retry-After` and the options'
   * headers come first, right after the status line.
   */
  raw(code: C, opts: Omit<ErrorSendOptions, 'format' | 'close'> = {}): string {
    const status = this.#catalogue[code].status;
    const body = this.body(code, { ...opts, format: 'json' }).toString();
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n`;
    if (opts.retryAfterSec !== undefined) head += `Retry-After: ${opts.retryAfterSec}\r\n`;
    const more = opts.headers ?? [];
    for (let i = 0; i + 1 < more.length; i += 2) head += `${more[i]}: ${more[i + 1]}\r\n`;
    return `${head}Content-Type: application/json\r\nCache-Control: no-store\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `Connection: close\r\n\r\n${body}`;
  }
}
