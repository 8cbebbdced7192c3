// internal/accesslog: GoDoxy-compatible access logs (docs/access-log.md) — `entrypoint.access_log`
// and per route (`access_log` of a static route, `proxy.<alias>.access_log.*` labels): Apache
// common/combined or GoDoxy JSON lines, filters, field redaction, retention, buffered async
// writes, reopen after logrotate. The proxy calls one hook per finished request.
export type { AccessLogFilters, AccessLogFormat, AccessLogSpec, FieldMode, FieldSpec, FilterSpec, RetentionSpec } from './access-log-spec.ts';
export { ACCESS_LOG_DEFAULTS } from './access-log-spec.ts';
/** The `access_log` block (config value or label tree) → spec or problems, one grammar for both. */
export { parseAccessLog, parseRetention } from './parse-access-log.ts';
export type { AccessLogParse, AccessLogProblem } from './parse-access-log.ts';
/** Opens logs, shares files by path, turns finished requests into lines. */
export { AccessLogs } from './access-logs.ts';
export type { AccessLogHandle, AccessLogsOptions } from './access-logs.ts';
/** For `bellhop check`: would this path open, without creating it. */
export { probeLogPath } from './log-file.ts';
/** The line formats, for tests and tools. */
export { clfTime, commonLine, combinedLine, jsonLine, escapeLogItem } from './format-line.ts';
export type { LineFacts } from './format-line.ts';
export { lineTime } from './retention.ts';
/** Log-only codes for the one catalogue (docs/errors.md). */
export { ACCESS_LOG_ERRORS, AccessLogError } from './access-log-errors.ts';
export type { AccessLogErrorCode } from './access-log-errors.ts';
