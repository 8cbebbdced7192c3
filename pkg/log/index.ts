// pkg/log: the logger interface every module takes, so none depends on pino. No I/O of its own.

/** A pino-compatible logger (object first, message second, errors under `err`) and a silent default. */
export { silentLogger, type Logger } from './logger.ts';
