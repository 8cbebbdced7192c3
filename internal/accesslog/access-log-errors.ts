// Access log codes in Bellhop's error catalogue (pkg/errors; all codes: docs/errors.md). No
// request is ever answered with one: they name, in Bellhop's own log and in `bellhop check`, why
// access log lines are missing. A bad `access_log` option is a config or label error instead.
import { defineErrors } from '../../pkg/errors/index.ts';

export const ACCESS_LOG_ERRORS = defineErrors({
  ACCESS_LOG_OPEN_FAILED: { status: 500, logOnly: true, message: 'An access log file cannot be opened for writing', docs: 'access-log.md#when-the-file-cannot-be-written' },
  ACCESS_LOG_WRITE_FAILED: { status: 500, logOnly: true, message: 'Writing or trimming an access log file failed; its lines were dropped', docs: 'access-log.md#when-the-file-cannot-be-written' },
  ACCESS_LOG_DROPPED: { status: 500, logOnly: true, message: 'Access log lines were dropped: the file could not keep up', docs: 'access-log.md#when-the-file-cannot-be-written' },
});

export type AccessLogErrorCode = keyof typeof ACCESS_LOG_ERRORS;

export class AccessLogError extends Error {
  readonly code: AccessLogErrorCode;
  constructor(code: AccessLogErrorCode, message: string, opts?: { cause?: unknown }) {
    super(message, opts);
    this.name = 'AccessLogError';
    this.code = code;
  }
}
