/** Stable codes of the errors pkg/balance throws (only for caller bugs, never for bad input). */
export type BalanceErrorCode = 'BALANCE_DUPLICATE_MEMBER' | 'BALANCE_BAD_MODE' | 'BALANCE_BAD_STICKY_SECRET' | 'BALANCE_BAD_STICKY_MAX_AGE';

/** An error thrown by pkg/balance; `code` is stable and safe to match on. */
export class BalanceError extends Error {
  readonly code: BalanceErrorCode;

  constructor(code: BalanceErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BalanceError';
    this.code = code;
  }
}
