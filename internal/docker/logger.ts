// The logging surface internal/docker needs. pino's Logger satisfies it structurally, so the
// composition root passes a pino child logger and tests pass a recorder; dockerode never logs.

/** A pino-compatible logger: object first, message second, errors under `err`. */
export interface DockerLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Discards everything; the default when no logger is injected. */
export const silentLogger: DockerLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
