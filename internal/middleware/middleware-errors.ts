// Middleware answers in Bellhop's one error shape (pkg/errors; every code: docs/errors.md).
import type { ServerResponse } from 'node:http';
import { defineErrors, ErrorWriter, renderError } from '../../pkg/errors/index.ts';

const DOCS = 'middlewares.md#answers';

export const MIDDLEWARE_ERRORS = defineErrors({
  MIDDLEWARE_IP_NOT_ALLOWED: { status: 403, message: 'IP not allowed', docs: DOCS },
  MIDDLEWARE_RATE_LIMITED: { status: 429, message: 'Too many requests', docs: DOCS },
  // `error <status> <message>` in a route's rules (docs/rules.md): the rule's status and message replace these.
  MIDDLEWARE_RULE_ERROR: { status: 403, message: 'Refused by a rule of this service', docs: 'rules.md#commands' },
  // A middleware that failed (a bug, an unreachable auth server) answers itself: fail closed.
  MIDDLEWARE_FAILED: { status: 500, message: 'A middleware of this service failed', docs: DOCS },
  // The route's middlewares could not be built (bad options found only at start): never served without them.
  MIDDLEWARE_UNAVAILABLE: { status: 503, message: 'This service is refused: one of its middlewares could not be set up', docs: DOCS },
});

export type MiddlewareErrorCode = keyof typeof MIDDLEWARE_ERRORS;

const writer = new ErrorWriter<MiddlewareErrorCode>(MIDDLEWARE_ERRORS);

function wantsHtml(res: ServerResponse): boolean {
  const accept = res.req.headers.accept;
  return accept !== undefined && accept.includes('text/html');
}

/**
 * Answers with `code`; `status` and `message` replace the catalogue's (cidr_whitelist's
 * `status_code` and `message` options). The code stays, so logs and clients can tell who answered.
 */
export function sendMiddlewareError(res: ServerResponse, code: MiddlewareErrorCode, opts: { status?: number | undefined; message?: string | undefined; retryAfterSec?: number | undefined } = {}): void {
  const format = wantsHtml(res) ? 'html' : 'json';
  const status = opts.status;
  if (status === undefined || status === MIDDLEWARE_ERRORS[code].status) {
    writer.send(res, code, { format, message: opts.message, retryAfterSec: opts.retryAfterSec });
    return;
  }
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const answer = writer.answer(code, { message: opts.message, retryAfterSec: opts.retryAfterSec });
  const body = Buffer.from(renderError({ ...answer, status }, format));
  const headers = ['content-type', format === 'html' ? 'text/html; charset=utf-8' : 'application/json', 'content-length', String(body.length), 'cache-control', 'no-store'];
  if (opts.retryAfterSec !== undefined) headers.push('retry-after', String(opts.retryAfterSec));
  res.writeHead(status, headers);
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
