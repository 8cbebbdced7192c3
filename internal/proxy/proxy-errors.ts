// The proxy's codes in Bellhop's error catalogue (pkg/errors; all codes: docs/errors.md). The
// proxy answers with the first group; the second only names an ending in the access log.
import { defineErrors } from '../../pkg/errors/index.ts';

const ANSWERS = 'proxy.md#answers-from-bellhop-itself';

export const PROXY_ERRORS = defineErrors({
  PROXY_BAD_REQUEST: { status: 400, message: 'Bad request', docs: ANSWERS },
  PROXY_TOO_MANY_HEADERS: { status: 431, message: 'Too many request header lines', docs: ANSWERS },
  PROXY_METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed', docs: ANSWERS },
  PROXY_VERSION_NOT_SUPPORTED: { status: 505, message: 'Only HTTP/1.0 and HTTP/1.1 are supported', docs: ANSWERS },
  PROXY_REQUEST_TIMEOUT: { status: 408, message: 'Request body not received in time', docs: ANSWERS },
  PROXY_NO_ROUTE: { status: 404, message: 'No service answers this host', docs: ANSWERS },
  // 503, not 403: the refusal is the server's configuration state, not a verdict on this client.
  // A 403 would look like access control working; 503 is an outage to monitors and operators.
  PROXY_ROUTE_REFUSED: {
    status: 503,
    message: 'This service is refused: it asks for access control that Bellhop cannot apply yet',
    docs: 'labels.md#access-control-middlewares-rules-refused-never-served-unprotected',
  },
  // Rules' `route <alias>` (docs/rules.md) named an alias no route answers (yet: its container may be starting).
  PROXY_RULE_NO_ROUTE: { status: 503, message: 'A rule of this service routes to a service that does not exist', docs: 'rules.md#route' },
  // Rules' `route` commands sent one request through more than 4 routes.
  PROXY_RULE_LOOP: { status: 508, message: 'Rules route this request in a loop', docs: 'rules.md#route' },
  PROXY_NO_MEMBER: { status: 503, message: 'No healthy upstream is available', docs: ANSWERS },
  PROXY_UPSTREAM_CONNECT: { status: 502, message: 'The upstream could not be reached', docs: ANSWERS },
  PROXY_UPSTREAM_RESET: { status: 502, message: 'The upstream closed the connection', docs: ANSWERS },
  PROXY_UPSTREAM_TIMEOUT: { status: 504, message: 'The upstream did not answer in time', docs: ANSWERS },
  PROXY_GATE_FAILED: { status: 503, message: 'The service could not be started', docs: ANSWERS },
  // A middleware chain threw instead of answering (a bug): fail closed, nothing behind it runs.
  PROXY_MIDDLEWARE_FAILED: { status: 500, message: 'A middleware of this service failed', docs: 'middlewares.md#answers' },

  // Logged only. 499 is nginx's status for a client that left before the answer.
  PROXY_CLIENT_GONE: { status: 499, message: 'The client closed the connection before the answer', docs: 'proxy.md#access-log', logOnly: true },
  // An attempt aborted because its member left the route table; the request is routed again,
  // or answered PROXY_UPSTREAM_CONNECT / _RESET (the access log keeps this code as `err`).
  PROXY_MEMBER_GONE: { status: 502, message: 'The member left its route while the request was on it', docs: 'proxy.md#retries', logOnly: true },
  // The pipelined connection an attempt was on (or waiting for) broke before its answer; the
  // request went on by the retry rules (another member, the same one afresh, or the route table).
  PROXY_PIPELINE_BROKEN: { status: 502, message: 'The pipelined connection broke before the answer', docs: 'proxy.md#pipelining', logOnly: true },
  // A request waited on its pipelined connection behind an answer slower than the rescue bound;
  // it was sent again on a connection of its own (the member is not blamed; its late answer on
  // the pipelined connection is read and dropped).
  PROXY_PIPELINE_STALLED: { status: 502, message: 'The answer ahead on the pipelined connection was slow', docs: 'proxy.md#pipelining', logOnly: true },
  // A member origin undici refuses (never expected from the route table); answered PROXY_UPSTREAM_CONNECT.
  PROXY_BAD_ORIGIN: { status: 502, message: 'The member address is not a usable origin', docs: 'proxy.md#access-log', logOnly: true },
});

/** Every proxy code, answered or logged. */
export type ProxyErrorCode = keyof typeof PROXY_ERRORS;
/** Codes the proxy answers a client with. */
export type ProxyAnswerCode = Exclude<ProxyErrorCode, 'PROXY_CLIENT_GONE' | 'PROXY_MEMBER_GONE' | 'PROXY_PIPELINE_BROKEN' | 'PROXY_PIPELINE_STALLED' | 'PROXY_BAD_ORIGIN'>;
