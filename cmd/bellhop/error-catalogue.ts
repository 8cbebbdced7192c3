// Bellhop's one error catalogue: every code any module answers or logs, merged here because the
// composition root is the only place that sees every module. Each module owns its codes next to
// the code that raises them (internal/proxy/proxy-errors.ts, internal/wake/wake-error.ts,
// internal/api/api-errors.ts, internal/certs/certs-error.ts, internal/middleware/middleware-errors.ts, auth-errors.ts, oidc-errors.ts, internal/accesslog/access-log-errors.ts, internal/streams/stream-errors.ts); pkg/errors gives them one entry type and one answer shape.
// Merging throws on a code defined twice; error-catalogue.test.ts holds docs/errors.md to it.
import { mergeCatalogues } from '../../pkg/errors/index.ts';
import { ACCESS_LOG_ERRORS } from '../../internal/accesslog/index.ts';
import { API_ERRORS } from '../../internal/api/index.ts';
import { CERTS_ERRORS } from '../../internal/certs/index.ts';
import { AUTH_ERRORS, MIDDLEWARE_ERRORS, OIDC_ERRORS } from '../../internal/middleware/index.ts';
import { PROXY_ERRORS } from '../../internal/proxy/index.ts';
import { STREAM_ERRORS } from '../../internal/streams/index.ts';
import { WAKE_ERRORS } from '../../internal/wake/index.ts';

export const ERRORS = mergeCatalogues(PROXY_ERRORS, WAKE_ERRORS, API_ERRORS, CERTS_ERRORS, MIDDLEWARE_ERRORS, AUTH_ERRORS, OIDC_ERRORS, ACCESS_LOG_ERRORS, STREAM_ERRORS);
