// pkg/http: pure per-request HTTP rules for the proxy (no I/O). Header arrays are Node's flat
// `rawHeaders` form ([name, value, name, value, ...]), which both node:http (`writeHead`) and
// undici (`headers`) accept, so no header objects are built on the hot path.

/** Routing form of a Host header: lower case, no port, no trailing dot; undefined if invalid. */
export { normaliseHost } from './host.ts';
/** Upstream request headers in one pass; hop-by-hop stripping for either direction. */
export { buildUpstreamHeaders, stripHopByHop, stripHopByHopObject, isWebSocketUpgrade } from './forwarded-headers.ts';
export type { ForwardingContext, StripOptions } from './forwarded-headers.ts';
/** The standard hop-by-hop header names (lower case). */
export { HOP_BY_HOP_HEADERS } from './header-names.ts';
/** In-place edits of a flat header list: remove a name's lines; set/add/remove one. */
export { editHeaderLines, removeHeaderLines } from './header-lines.ts';
/** RFC 9110 token: a valid header field name or method. */
export { isToken } from './token.ts';
/** Request-target and framing hygiene, verdicts with a stable code and status. */
export { checkRequest, originFormPath, MAX_HEADER_LINES } from './request-checks.ts';
export type { RequestVerdict, RequestAccepted, RequestRejected, RequestErrorCode, RequestHead } from './request-checks.ts';
