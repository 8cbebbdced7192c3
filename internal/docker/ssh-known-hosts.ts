// OpenSSH known_hosts, read the way `ssh -o StrictHostKeyChecking=yes` reads it (sshd(8),
// "SSH_KNOWN_HOSTS FILE FORMAT"): comma-separated host patterns with `*`/`?` wildcards and `!`
// negation, hashed names (`|1|base64 salt|base64 HMAC-SHA1(salt, name)`), `@revoked` lines, and
// a non-standard port written as `[host]:port`. `@cert-authority` lines are skipped: the SSH
// client (ssh2) does not check host certificates. Pure: text in, verdict out.

const { createHash, createHmac, timingSafeEqual } = process.getBuiltinModule('node:crypto');

export type HostKeyVerdict =
  | { kind: 'match' }
  /** The host is listed, with a key of this type, but a different key: a changed host or a MITM. */
  | { kind: 'mismatch' }
  /** The presented key is listed as @revoked for this host. */
  | { kind: 'revoked' }
  /** No key of the presented type is listed for the host (maybe keys of `knownTypes`). */
  | { kind: 'unknown'; knownTypes: string[] };

interface KnownHostLine {
  marker: '' | 'revoked';
  patterns: string;
  keyType: string;
  key: Buffer;
}

/** The name known_hosts stores for a host: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${String(port)}`;
}

/** Key type named inside an SSH public key blob (`ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`). */
export function keyBlobType(blob: Buffer): string {
  if (blob.length < 4) return '';
  const len = blob.readUInt32BE(0);
  return len > 0 && 4 + len <= blob.length ? blob.subarray(4, 4 + len).toString('latin1') : '';
}

/** `SHA256:…` as `ssh-keygen -l` and OpenSSH's warnings print it. */
export function keyFingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

function parseLines(text: string): KnownHostLine[] {
  const out: KnownHostLine[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    let marker: KnownHostLine['marker'] = '';
    if (fields[0]?.startsWith('@')) {
      const m = fields.shift();
      if (m === '@revoked') marker = 'revoked';
      else continue; // @cert-authority (or an unknown marker): not usable without certificate support
    }
    const [patterns, keyType, b64] = fields;
    if (patterns === undefined || keyType === undefined || b64 === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) continue;
    const key = Buffer.from(b64, 'base64');
    // A line whose blob does not name its own type is corrupt; OpenSSH ignores it too.
    if (keyBlobType(key) !== keyType) continue;
    out.push({ marker, patterns, keyType, key });
  }
  return out;
}

function globMatch(pattern: string, name: string): boolean {
  // OpenSSH match_pattern(): `*` any run, `?` one character, compared case-insensitively.
  const re = pattern.toLowerCase().replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 's').test(name.toLowerCase());
}

function hashedMatch(entry: string, name: string): boolean {
  const parts = entry.split('|'); // ['', '1', salt, hash]
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2] ?? '', 'base64');
  const want = Buffer.from(parts[3] ?? '', 'base64');
  const got = createHmac('sha1', salt).update(name).digest();
  return want.length === got.length && timingSafeEqual(want, got);
}

/** True when a known_hosts host field names `name` (OpenSSH match_hostname: any positive, no negated match). */
function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|')) return hashedMatch(field, name);
  let positive = false;
  for (const p of field.split(',')) {
    if (p === '') continue;
    if (p.startsWith('!')) {
      if (globMatch(p.slice(1), name)) return false;
    } else if (globMatch(p, name)) {
      positive = true;
    }
  }
  return positive;
}

/** Checks the key a server presented (raw SSH blob) against known_hosts text. */
export function checkHostKey(text: string, host: string, port: number, presented: Buffer): HostKeyVerdict {
  const name = knownHostsName(host, port);
  const type = keyBlobType(presented);
  const lines = parseLines(text).filter((l) => hostFieldMatches(l.patterns, name));
  if (lines.some((l) => l.marker === 'revoked' && l.key.equals(presented))) return { kind: 'revoked' };
  const sameType = lines.filter((l) => l.marker === '' && l.keyType === type);
  if (sameType.some((l) => l.key.equals(presented))) return { kind: 'match' };
  if (sameType.length > 0) return { kind: 'mismatch' };
  return { kind: 'unknown', knownTypes: knownKeyTypes(text, host, port) };
}

/** Key types listed for the host, in file order, without duplicates. */
export function knownKeyTypes(text: string, host: string, port: number): string[] {
  const name = knownHostsName(host, port);
  const types = parseLines(text).filter((l) => l.marker === '' && hostFieldMatches(l.patterns, name)).map((l) => l.keyType);
  return [...new Set(types)];
}

// ssh2's default host key algorithms (lib/protocol/constants.js, with Ed25519, which Node 24 has).
const DEFAULT_HOST_KEY_ALGORITHMS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
const ALGORITHMS_FOR_TYPE: Readonly<Record<string, readonly string[]>> = {
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
  'ssh-dss': ['ssh-dss'],
};

/**
 * Host key algorithms to offer, the ones whose keys known_hosts already has first. OpenSSH does
 * the same, so a server with several host keys presents the one we can check instead of, say,
 * its Ed25519 key when only its ECDSA key was scanned.
 */
export function hostKeyAlgorithms(knownTypes: readonly string[]): string[] {
  const first = knownTypes.flatMap((t) => ALGORITHMS_FOR_TYPE[t] ?? (DEFAULT_HOST_KEY_ALGORITHMS.includes(t) ? [t] : []));
  return [...new Set([...first, ...DEFAULT_HOST_KEY_ALGORITHMS])];
}
