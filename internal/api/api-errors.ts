// The admin API's codes in Bellhop's error catalogue (pkg/errors; all codes: docs/errors.md).
import { defineErrors } from '../../pkg/errors/index.ts';

const API = 'errors.md#admin-api';

export const API_ERRORS = defineErrors({
  API_METHOD_NOT_ALLOWED: { status: 405, message: 'The admin API is read-only: use GET or HEAD', docs: API },
  API_MISSING_HOST: { status: 400, message: 'Name the host to explain: /api/explain?host=H', docs: API },
  API_NOT_FOUND: { status: 404, message: 'No such endpoint', docs: API },
  API_INTERNAL: { status: 500, message: 'The admin API could not build this answer', docs: API },
});

export type ApiErrorCode = keyof typeof API_ERRORS;
