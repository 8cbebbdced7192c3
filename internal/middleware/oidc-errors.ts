// The codes the oidc middleware answers with, in Bellhop's error catalogue (pkg/errors; all
// codes: docs/errors.md). The composition root merges OIDC_ERRORS with the other modules'.
// Like the proxy's own answers: a small HTML page when the client asks for HTML, JSON otherwise.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorWriter, defineErrors } from '../../pkg/errors/index.ts';
import type { ErrorFields } from '../../pkg/errors/index.ts';

const OIDC = 'middlewares.md#oidc';

export const OIDC_ERRORS = defineErrors({
  // Not signed in, and the request cannot be sent to the login page (not a GET/HEAD for a page:
  // an API call, a form POST, a WebSocket).
  MIDDLEWARE_OIDC_LOGIN_REQUIRED: { status: 401, message: 'This service needs you to sign in: open it in the browser first', docs: OIDC },
  // Signed in, but neither the user nor one of their groups is in allowed_users/allowed_groups.
  MIDDLEWARE_OIDC_FORBIDDEN: { status: 403, message: 'Your account is not allowed to use this service', docs: OIDC },
  // The identity provider answered the login with an error (access_denied: the user said no).
  MIDDLEWARE_OIDC_DENIED: { status: 403, message: 'The identity provider did not let you sign in', docs: OIDC },
  // A callback without its login cookie (expired, another browser, forged, replayed).
  MIDDLEWARE_OIDC_BAD_STATE: { status: 400, message: 'This sign-in link is expired or was not started here: reload the page to sign in again', docs: OIDC },
  // Fail closed: without the provider's metadata nobody can sign in, and nothing behind runs.
  MIDDLEWARE_OIDC_PROVIDER_UNREACHABLE: { status: 502, message: 'The identity provider could not be reached', docs: OIDC },
  // The code exchange or the ID token check failed (wrong client secret, clock skew, bad token).
  MIDDLEWARE_OIDC_LOGIN_FAILED: { status: 502, message: 'The sign-in with the identity provider failed', docs: OIDC },
});

export type OidcErrorCode = keyof typeof OIDC_ERRORS;

const writer = new ErrorWriter<OidcErrorCode>(OIDC_ERRORS);

/** Answers `res` with `code`; `headers` adds response headers (Set-Cookie clearing the flow). */
export function sendOidcError(req: IncomingMessage, res: ServerResponse, code: OidcErrorCode, headers?: readonly string[], fields?: ErrorFields): void {
  const accept = req.headers.accept;
  writer.send(res, code, { format: accept !== undefined && accept.includes('text/html') ? 'html' : 'json', headers, fields });
}
