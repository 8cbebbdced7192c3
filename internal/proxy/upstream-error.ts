// The error Bellhop's own upstream clients (h1-pipeline.ts, h2c-upstream.ts) fail a request
// with: a code the retry policy (retry-policy.ts) knows — undici's names where undici would have
// failed the same way (UND_ERR_SOCKET, UND_ERR_HEADERS_TIMEOUT, …), so one rule set serves all.
export class UpstreamError extends Error {
  readonly code: string;
  constructor(code: string, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.name = 'UpstreamError';
  }
}
