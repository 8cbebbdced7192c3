// Wake's codes in Bellhop's error catalogue (pkg/errors; all codes: docs/errors.md), and the
// error a failed wake carries: one stable code that the admin API, the loading page, the 503
// and the logs all show.
import { defineErrors } from '../../pkg/errors/index.ts';

const FAILS = 'sleep-and-wake.md#when-it-fails';
const RESERVED = 'sleep-and-wake.md#reserved-paths';

export const WAKE_ERRORS = defineErrors({
  // why a wake failed: a held request gets 503 + Retry-After (the cool-down left)
  WAKE_START_FAILED: { status: 503, message: 'Docker could not start the container', docs: FAILS },
  WAKE_EXITED: { status: 503, message: 'The container exited before it was ready', docs: FAILS },
  WAKE_TIMEOUT: { status: 503, message: 'The container was not ready within wake_timeout', docs: FAILS },
  WAKE_DEPENDENCY_FAILED: { status: 503, message: 'A container it depends on could not be woken', docs: FAILS },
  WAKE_COOLING_DOWN: { status: 503, message: 'A start failed moments ago; the next one waits for the cool-down', docs: FAILS },
  WAKE_CONTAINER_GONE: { status: 503, message: 'The container was removed while requests waited', docs: FAILS },
  WAKE_SHUTDOWN: { status: 503, message: 'Bellhop is shutting down', docs: FAILS },
  // what the gate answers without waking anything
  WAKE_ASLEEP: { status: 503, message: 'The service is asleep and this request does not wake it', docs: 'sleep-and-wake.md#uptime-monitors' },
  WAKE_START_FORBIDDEN: { status: 403, message: 'This service is asleep and can only be started via its start endpoint', docs: 'sleep-and-wake.md#turn-it-on' },
  WAKE_PATH_NOT_FOUND: { status: 404, message: 'No such path under /.bellhop/wake/', docs: RESERVED },
  WAKE_METHOD_NOT_ALLOWED: { status: 405, message: 'The paths under /.bellhop/wake/ take GET or HEAD', docs: RESERVED },
});

/** Every wake code. */
export type WakeCode = keyof typeof WAKE_ERRORS;
/** Why a wake failed (a WakeError's code). */
export type WakeErrorCode = Exclude<WakeCode, 'WAKE_ASLEEP' | 'WAKE_START_FORBIDDEN' | 'WAKE_PATH_NOT_FOUND' | 'WAKE_METHOD_NOT_ALLOWED'>;

export class WakeError extends Error {
  readonly code: WakeErrorCode;
  /** HTTP status a waiting request gets (the catalogue's). */
  readonly status: number;
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
    this.status = WAKE_ERRORS[code].status;
    this.container = details.container;
    this.exitCode = details.exitCode;
    this.logs = details.logs;
  }
}
