/** Stable codes for configuration problems found by this package. */
export type RealIpErrorCode =
  | 'REALIP_BAD_TRUSTED_PROXY' // an entry of a trusted list is not an IP address or CIDR
  | 'REALIP_BAD_HEADER' // load_balance.options.header is not a valid header name
  | 'REALIP_NO_FROM'; // load_balance.options without any `from` range

/**
 * A configuration error (never thrown per request). `entry` is the offending value as the
 * user wrote it, so config and label validation can name it.
 */
export class RealIpError extends Error {
  readonly code: RealIpErrorCode;
  readonly entry: string | undefined;

  constructor(code: RealIpErrorCode, message: string, entry?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RealIpError';
    this.code = code;
    this.entry = entry;
  }
}
