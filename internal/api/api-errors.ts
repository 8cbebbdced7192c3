// The admin API's codes in Bellhop's error catalogue (pkg/errors; all codes: docs/errors.md).
import { defineErrors } from '../../pkg/errors/index.ts';

const API = 'errors.md#admin-api';

export const API_ERRORS = defineErrors({
  API_METHOD_NOT_ALLOWED: { status: 405, message: 'Use GET or HEAD here (POST only for /api/containers/<name>/wake and /sleep)', docs: API },
  API_UNAUTHORIZED: { status: 401, message: 'The admin API needs credentials (api.auth): a Bearer token or basic auth', docs: API },
  API_ACTIONS_FORBIDDEN: { status: 403, message: 'Actions are refused on a non-loopback api.listen without api.auth', docs: API },
  API_CROSS_ORIGIN: { status: 403, message: 'Actions are refused from another origin', docs: API },
  API_NO_CONTAINER: { status: 404, message: 'No container that can sleep has this name', docs: API },
  API_CANNOT_SLEEP: { status: 409, message: 'The container cannot sleep now: it is not awake, or a request, tunnel, wake or stop is open on it', docs: API },
  API_WAKE_FAILED: { status: 503, message: 'The container did not wake', docs: API },
  API_MISSING_HOST: { status: 400, message: 'Name the host to explain: /api/explain?host=H', docs: API },
  API_NOT_FOUND: { status: 404, message: 'No such endpoint', docs: API },
  API_INTERNAL: { status: 500, message: 'The admin API could not build this answer', docs: API },
});

export type ApiErrorCode = keyof typeof API_ERRORS;
