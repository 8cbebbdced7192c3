// Stable codes of stream problems (docs/errors.md). Streams answer no HTTP: every code is log
// only (and /api/routes lists a listener that could not open under `errors`).
import { defineErrors } from '../../pkg/errors/index.ts';

const DOCS = 'streams.md#when-something-fails';

export const STREAM_ERRORS = defineErrors({
  STREAM_LISTEN_FAILED: { status: 503, logOnly: true, message: 'A stream route could not open its listening port', docs: DOCS },
  STREAM_NO_MEMBER: { status: 503, logOnly: true, message: 'A stream connection found no usable member', docs: DOCS },
  STREAM_UPSTREAM_CONNECT: { status: 502, logOnly: true, message: 'No member of the stream accepted the connection', docs: DOCS },
});

export type StreamErrorCode = keyof typeof STREAM_ERRORS;
