// One error type for every Docker API failure, with a stable code callers can switch on and the
// HTTP status Docker (or a socket proxy in front of it) answered with.

export type DockerErrorCode =
  | 'DOCKER_FORBIDDEN' // 401/403: usually a socket proxy denying the call
  | 'DOCKER_NOT_FOUND' // 404: no such container
  | 'DOCKER_CONFLICT' // 409: e.g. container is being removed, or paused when stopping
  | 'DOCKER_SERVER_ERROR' // 5xx from the engine
  | 'DOCKER_BAD_RESPONSE' // an unexpected status or a body we cannot read
  | 'DOCKER_TIMEOUT' // our per-call deadline passed
  | 'DOCKER_UNREACHABLE' // connection refused / socket missing / reset
  | 'DOCKER_PERMISSION' // EACCES on the unix socket
  | 'DOCKER_SSH_HOST_KEY' // ssh://: the host key is not in known_hosts, differs from it, or is revoked
  | 'DOCKER_SSH_AUTH' // ssh://: no usable identity (key missing or passphrase-protected) or the server refused it
  | 'DOCKER_STREAM_ENDED' // the events stream ended (EOF) or the socket dropped
  | 'DOCKER_ABORTED'; // the watcher or caller cancelled the call

/** An error from talking to Docker. `status` is the HTTP status when the engine answered. */
export class DockerError extends Error {
  readonly code: DockerErrorCode;
  readonly status: number | undefined;
  /** What was being done, e.g. 'inspect', 'start', 'events'. */
  readonly op: string;
  readonly containerId: string | undefined;

  constructor(code: DockerErrorCode, message: string, opts: { op: string; status?: number | undefined; containerId?: string | undefined; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'DockerError';
    this.code = code;
    this.op = opts.op;
    this.status = opts.status;
    this.containerId = opts.containerId;
  }
}

function codeForStatus(status: number): DockerErrorCode {
  if (status === 401 || status === 403) return 'DOCKER_FORBIDDEN';
  if (status === 404) return 'DOCKER_NOT_FOUND';
  if (status === 409) return 'DOCKER_CONFLICT';
  if (status >= 500) return 'DOCKER_SERVER_ERROR';
  return 'DOCKER_BAD_RESPONSE';
}

const unreachable = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET']);

/** Normalises whatever dockerode / the socket threw into a DockerError (idempotent). */
export function toDockerError(err: unknown, op: string, containerId?: string): DockerError {
  if (err instanceof DockerError) return err;
  const e = (err ?? {}) as { statusCode?: unknown; code?: unknown; name?: unknown; message?: unknown; json?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(err);
  const where = containerId === undefined ? op : `${op} ${containerId}`;
  if (typeof e.statusCode === 'number') {
    const detail = dockerMessage(e.json) ?? message.replace(/^\(HTTP code \d+\)\s*/, '').trim();
    return new DockerError(codeForStatus(e.statusCode), `Docker ${where}: HTTP ${e.statusCode}: ${detail}`, { op, status: e.statusCode, containerId, cause: err });
  }
  if (e.name === 'AbortError') return new DockerError('DOCKER_ABORTED', `Docker ${where}: aborted`, { op, containerId, cause: err });
  const sysCode = typeof e.code === 'string' ? e.code : '';
  if (sysCode === 'EACCES') {
    return new DockerError('DOCKER_PERMISSION', `Docker ${where}: permission denied on the Docker socket (${message})`, { op, containerId, cause: err });
  }
  if (unreachable.has(sysCode) || /socket hang up|aborted/i.test(message)) {
    return new DockerError('DOCKER_UNREACHABLE', `Docker ${where}: Docker is unreachable (${message})`, { op, containerId, cause: err });
  }
  return new DockerError('DOCKER_BAD_RESPONSE', `Docker ${where}: ${message}`, { op, containerId, cause: err });
}

function dockerMessage(json: unknown): string | undefined {
  if (json && typeof json === 'object' && 'message' in json && typeof json.message === 'string') return json.message;
  return undefined;
}
