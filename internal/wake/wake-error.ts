// Why a wake failed, with a stable code the admin API, the loading page and logs all show.

export type WakeErrorCode =
  | 'WAKE_START_FAILED' // Docker refused the start/unpause
  | 'WAKE_EXITED' // the container exited before it was ready
  | 'WAKE_TIMEOUT' // not ready within wake_timeout
  | 'WAKE_DEPENDENCY_FAILED' // a dependency could not be woken
  | 'WAKE_COOLING_DOWN' // a recent attempt failed; the next one waits for the cool-down
  | 'WAKE_CONTAINER_GONE' // the container was removed while requests waited
  | 'WAKE_SHUTDOWN'; // Bellhop is shutting down

export class WakeError extends Error {
  readonly code: WakeErrorCode;
  /** HTTP status a waiting request gets. */
  readonly status = 503;
  readonly container: string;
  readonly exitCode: number | undefined;
  /** Last log lines of the container, when they explain the failure. */
  readonly logs: string | undefined;

  constructor(
    code: WakeErrorCode,
    message: string,
    details: { container: string; exitCode?: number | undefined; logs?: string | undefined; cause?: unknown },
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'WakeError';
    this.code = code;
    this.container = details.container;
    this.exitCode = details.exitCode;
    this.logs = details.logs;
  }
}
