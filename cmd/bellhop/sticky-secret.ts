// The sticky-cookie HMAC key: read from sticky.secret_file, created with a random key if missing,
// so cookies stay valid across restarts.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export function loadStickySecret(file: string): { secret: Buffer; created: boolean } {
  try {
    const text = readFileSync(file, 'utf8').trim();
    const secret = Buffer.from(text, 'base64url');
    if (secret.length < 16) throw new Error(`sticky.secret_file ${file}: key shorter than 16 bytes; delete it to get a new one`);
    return { secret, created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const secret = randomBytes(32);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${secret.toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  return { secret, created: true };
}
