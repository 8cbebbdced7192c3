// Certificate storage on disk: atomic writes (temp file in the same folder, then rename, so a
// reader never sees half a file) with keys 0600, and reads that say which file failed.
import { basename, dirname, join } from 'node:path';
import { CertsError } from './certs-error.ts';

const { randomBytes } = process.getBuiltinModule('node:crypto');
const { mkdir, readFile, rename, rm, writeFile } = process.getBuiltinModule('node:fs/promises');

/** Writes `data` to `path` atomically; mode 0600 for keys. */
export async function writeFileAtomic(path: string, data: string, mode: number): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(tmp, data, { mode, flag: 'wx' });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new CertsError('CERTS_WRITE_FAILED', `cannot write ${path}: ${(err as Error).message}`, { subject: path, cause: err });
  }
}

/** The file's text, undefined when it does not exist; other failures throw CERTS_FILE_UNREADABLE. */
export async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CertsError('CERTS_FILE_UNREADABLE', `cannot read ${path}: ${(err as Error).message}`, { subject: path, cause: err });
  }
}

/** Writes a certificate chain and its key: the key first, so a cert on disk never lacks its key for long. */
export async function writeCertPair(certPath: string, keyPath: string, certPem: string, keyPem: string): Promise<void> {
  await writeFileAtomic(keyPath, keyPem, 0o600);
  await writeFileAtomic(certPath, certPem, 0o644);
}
