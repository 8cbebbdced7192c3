// The proxy's error catalogue: every answer Bellhop gives itself has a stable code and status.

export type ProxyErrorCode =
  | 'PROXY_BAD_REQUEST'
  | 'PROXY_TOO_MANY_HEADERS'
  | 'PROXY_METHOD_NOT_ALLOWED'
  | 'PROXY_VERSION_NOT_SUPPORTED'
  | 'PROXY_REQUEST_TIMEOUT'
  | 'PROXY_NO_ROUTE'
  | 'PROXY_ROUTE_REFUSED'
  | 'PROXY_NO_MEMBER'
  | 'PROXY_UPSTREAM_CONNECT'
  | 'PROXY_UPSTREAM_RESET'
  | 'PROXY_UPSTREAM_TIMEOUT'
  | 'PROXY_GATE_FAILED';

/** Status and user-facing message per code. */
export const PROXY_ERRORS: Readonly<Record<ProxyErrorCode, { status: number; message: string }>> = {
  PROXY_BAD_REQUEST: { status: 400, message: 'Bad request' },
  PROXY_TOO_MANY_HEADERS: { status: 431, message: 'Too many request header lines' },
  PROXY_METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed' },
  PROXY_VERSION_NOT_SUPPORTED: { status: 505, message: 'Only HTTP/1.0 and HTTP/1.1 are supported' },
  PROXY_REQUEST_TIMEOUT: { status: 408, message: 'Request body not received in time' },
  PROXY_NO_ROUTE: { status: 404, message: 'No service answers this host' },
  // 503, not 403: the refusal is the server's configuration state, not a verdict on this client.
  // A 403 would look like access control working; 503 is an outage to monitors and operators.
  PROXY_ROUTE_REFUSED: { status: 503, message: 'This service is refused: it asks for access control that Bellhop cannot apply yet' },
  PROXY_NO_MEMBER: { status: 503, message: 'No healthy upstream is available' },
  PROXY_UPSTREAM_CONNECT: { status: 502, message: 'The upstream could not be reached' },
  PROXY_UPSTREAM_RESET: { status: 502, message: 'The upstream closed the connection' },
  PROXY_UPSTREAM_TIMEOUT: { status: 504, message: 'The upstream did not answer in time' },
  PROXY_GATE_FAILED: { status: 503, message: 'The service could not be started' },
};

/** An error the proxy answers itself; `detail` is logged, never sent to the client. */
export class ProxyError extends Error {
  readonly code: ProxyErrorCode;
  readonly status: number;
  readonly detail: string | undefined;
  constructor(code: ProxyErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(`${code}: ${PROXY_ERRORS[code].message}${detail === undefined ? '' : ` (${detail})`}`, options);
    this.name = 'ProxyError';
    this.code = code;
    this.status = PROXY_ERRORS[code].status;
    this.detail = detail;
  }
}
