// Bellhop's own answers on the proxy (404, 502, 503, ...) in the shape of pkg/errors: a small
// HTML page for browsers, JSON otherwise. Bodies with the catalogue's sentence are built once.
import type { ServerResponse } from 'node:http';
import { ErrorWriter } from '../../pkg/errors/index.ts';
import { PROXY_ERRORS, type ProxyAnswerCode } from './proxy-errors.ts';

const writer = new ErrorWriter<ProxyAnswerCode>(PROXY_ERRORS);

/** True when the client prefers HTML (browsers); API clients and curl get JSON. */
function wantsHtml(accept: string | undefined): boolean {
  return accept !== undefined && accept.includes('text/html');
}

export function proxyErrorStatus(code: ProxyAnswerCode): number {
  return writer.status(code);
}

/**
 * Answer `res` with the catalogue entry for `code`. `close` adds `Connection: close` (after a
 * malformed request the connection's framing is not trusted). `message` replaces the catalogue's
 * sentence (a refused route says which labels it cannot apply).
 */
export function sendProxyError(
  res: ServerResponse, code: ProxyAnswerCode, accept: string | undefined, close: boolean, retryAfterSec?: number, message?: string,
): void {
  writer.send(res, code, { format: wantsHtml(accept) ? 'html' : 'json', close, retryAfterSec, message });
}

/** Raw answer on a socket that has no ServerResponse (CONNECT). */
export function rawProxyError(code: ProxyAnswerCode): string {
  return writer.raw(code);
}
