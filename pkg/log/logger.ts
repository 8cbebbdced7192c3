// The logging surface Bellhop's modules take: pino's Logger satisfies it structurally, so the
// composition root passes a pino child logger down, tests pass a recorder, and only cmd/ knows
// pino (DESIGN.md: pino → cmd, passed down as child loggers).

/** A pino-compatible logger: object first, message second, errors under `err`. */
export interface Logger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Discards everything; the default when no logger is injected. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
