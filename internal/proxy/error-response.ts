// Bellhop's own answers (404, 502, 503, ...): a small HTML page for browsers, JSON otherwise.
// Bodies are built once per code at load time; sending one allocates only the header array.
import type { ServerResponse } from 'node:http';
import { PROXY_ERRORS, type ProxyErrorCode } from './proxy-error.ts';

interface Rendered { html: Buffer; json: Buffer }

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function render(code: ProxyErrorCode, status: number, message: string): Rendered {
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>${status} ${escapeHtml(message)}</title></head>` +
    `<body style="font-family:system-ui,sans-serif;margin:3em"><h1>${status}</h1><p>${escapeHtml(message)}.</p>` +
    `<p style="color:#777"><small>${code} · Bellhop</small></p></body></html>\n`;
  const json = JSON.stringify({ error: { code, status, message } }) + '\n';
  return { html: Buffer.from(html), json: Buffer.from(json) };
}

const RENDERED = new Map<ProxyErrorCode, Rendered>();
for (const [code, { status, message }] of Object.entries(PROXY_ERRORS) as [ProxyErrorCode, { status: number; message: string }][]) {
  RENDERED.set(code, render(code, status, message));
}

/** True when the client prefers HTML (browsers); API clients and curl get JSON. */
export function wantsHtml(accept: string | undefined): boolean {
  return accept !== undefined && accept.includes('text/html');
}

/**
 * Answer `res` with the catalogue entry for `code`. `close` adds `Connection: close` (after a
 * malformed request the connection's framing is not trusted). `message` replaces the catalogue's
 * sentence (a refused route says which labels it cannot apply); it is rendered per request.
 */
export function sendProxyError(
  res: ServerResponse, code: ProxyErrorCode, accept: string | undefined, close: boolean, retryAfterSec?: number, message?: string,
): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const r = message === undefined ? RENDERED.get(code)! : render(code, PROXY_ERRORS[code].status, message);
  const html = wantsHtml(accept);
  const body = html ? r.html : r.json;
  const headers: string[] = [
    'content-type', html ? 'text/html; charset=utf-8' : 'application/json',
    'content-length', String(body.length),
    'cache-control', 'no-store',
  ];
  if (retryAfterSec !== undefined) headers.push('retry-after', String(retryAfterSec));
  if (close) headers.push('connection', 'close');
  res.writeHead(PROXY_ERRORS[code].status, headers);
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** Raw answer on a socket that has no ServerResponse (CONNECT). */
export function rawProxyError(code: ProxyErrorCode): string {
  const { status, message } = PROXY_ERRORS[code];
  const body = JSON.stringify({ error: { code, status, message } }) + '\n';
  return `HTTP/1.1 ${status} ${message}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
    `connection: close\r\n\r\n${body}`;
}
