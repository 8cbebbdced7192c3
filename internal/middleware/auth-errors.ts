// The codes forward_auth and basic_auth answer with, in Bellhop's error catalogue (pkg/errors;
// all codes: docs/errors.md). The composition root merges AUTH_ERRORS with the other modules'.
// Like the proxy's own answers: a small HTML page when the client asks for HTML, JSON otherwise.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorWriter, defineErrors } from '../../pkg/errors/index.ts';

// The framework's section for every middleware answer (middleware-errors.ts uses it too).
const AUTH = 'middlewares.md#answers';

export const AUTH_ERRORS = defineErrors({
  MIDDLEWARE_UNAUTHORIZED: { status: 401, message: 'This service needs a user name and password', docs: AUTH },
  // Too many password checks already running or waiting (each holds the event loop ~50-100 ms).
  MIDDLEWARE_AUTH_BUSY: { status: 503, message: 'Too many password checks at once, try again in a moment', docs: AUTH },
  // Fail closed: without the auth server's yes, nothing behind the middleware runs.
  MIDDLEWARE_AUTH_UNREACHABLE: { status: 502, message: 'The authentication server could not be reached', docs: AUTH },
  MIDDLEWARE_AUTH_TIMEOUT: { status: 504, message: 'The authentication server did not answer in time', docs: AUTH },
  MIDDLEWARE_AUTH_BAD_ANSWER: { status: 502, message: 'The authentication server sent an answer Bellhop cannot relay', docs: AUTH },
});

export type AuthErrorCode = keyof typeof AUTH_ERRORS;

const writer = new ErrorWriter<AuthErrorCode>(AUTH_ERRORS);

/** Answers `res` with `code`; `headers` adds response headers (WWW-Authenticate). */
export function sendAuthError(req: IncomingMessage, res: ServerResponse, code: AuthErrorCode, headers?: readonly string[], retryAfterSec?: number): void {
  const accept = req.headers.accept;
  writer.send(res, code, { format: accept !== undefined && accept.includes('text/html') ? 'html' : 'json', headers, retryAfterSec });
}
