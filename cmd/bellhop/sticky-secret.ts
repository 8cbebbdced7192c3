// The sticky-cookie HMAC key: read from sticky.secret_file, created with a random key if missing,
// so cookies stay valid across restarts.
import { dirname } from 'node:path';

const { randomBytes } = process.getBuiltinModule('node:crypto');
const { mkdirSync, readFileSync, writeFileSync } = process.getBuiltinModule('node:fs');

/** Shorter keys make forgeable cookies; a file that short is a mistake, not a key. */
const MIN_KEY_BYTES = 16;

export type StickySecretErrorCode = 'STICKY_KEY_TOO_SHORT' | 'STICKY_KEY_UNREADABLE' | 'STICKY_KEY_UNWRITABLE';

/** Why Bellhop cannot start with this sticky.secret_file; the message names the file and the fix. */
export class StickySecretError extends Error {
  readonly code: StickySecretErrorCode;
  readonly file: string;
  constructor(code: StickySecretErrorCode, file: string, message: string, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'StickySecretError';
    this.code = code;
    this.file = file;
  }
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The key in `file`, or undefined when there is no such file. */
function readKey(file: string): Buffer | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StickySecretError('STICKY_KEY_UNREADABLE', file, `sticky.secret_file ${file}: cannot read the key: ${reason(err)}`, { cause: err });
  }
  const secret = Buffer.from(text.trim(), 'base64url');
  if (secret.length < MIN_KEY_BYTES) {
    throw new StickySecretError('STICKY_KEY_TOO_SHORT', file, `sticky.secret_file ${file}: key shorter than ${String(MIN_KEY_BYTES)} bytes; delete it to get a new one`);
  }
  return secret;
}

/**
 * Reads the key (base64url text) from `file`, or creates the file (mode 0600, its folder 0700
 * if missing) with 32 random bytes. Throws {@link StickySecretError} for a key that is too
 * short, a file that cannot be read, or a missing file that cannot be created.
 */
export function loadStickySecret(file: string): { secret: Buffer; created: boolean } {
  const existing = readKey(file);
  if (existing !== undefined) return { secret: existing, created: false };
  const secret = randomBytes(32);
  const unwritable = (err: unknown): StickySecretError =>
    new StickySecretError('STICKY_KEY_UNWRITABLE', file, `sticky.secret_file ${file}: no key yet and cannot create one: ${reason(err)}; make its folder writable by Bellhop (e.g. a volume) or set sticky.secret_file elsewhere`, { cause: err });
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  } catch (err) {
    throw unwritable(err);
  }
  try {
    // wx: never overwrite a key another process wrote since we looked.
    writeFileSync(file, `${secret.toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      const theirs = readKey(file);
      if (theirs !== undefined) return { secret: theirs, created: false };
    }
    throw unwritable(err);
  }
  return { secret, created: true };
}
