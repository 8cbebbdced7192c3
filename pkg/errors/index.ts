// pkg/errors: the one shape of a server's own error answers and the catalogue type behind it.
// Generic (no codes of its own, no I/O beyond writing the answer): each module of Bellhop
// defines its codes with defineErrors, and cmd/bellhop merges them into the one catalogue
// that docs/errors.md lists.

/** Code → status, default sentence and docs section; defineErrors checks and freezes one. */
export { defineErrors, mergeCatalogues } from './error-catalogue.ts';
export type { ErrorCatalogue, ErrorEntry } from './error-catalogue.ts';
/** `{"error":{code,status,message,…}}` as JSON, a small HTML page or a line of text. */
export { ErrorWriter, renderError } from './error-answer.ts';
export type { ErrorAnswer, ErrorFields, ErrorFormat, ErrorSendOptions } from './error-answer.ts';
