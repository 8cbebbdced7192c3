// known_hosts matching: plain, [host]:port, hashed, wildcards and negation, @revoked, and the
// host key algorithm order offered to the server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { checkHostKey, hostKeyAlgorithms, keyBlobType, keyFingerprint, knownHostsName, knownKeyTypes } from './ssh-known-hosts.ts';

function sshString(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

/** A structurally valid public key blob (type name + random body), as ssh2 hands it to hostVerifier. */
function blob(type = 'ssh-ed25519'): Buffer {
  return Buffer.concat([sshString(Buffer.from(type)), sshString(randomBytes(32))]);
}

const line = (hosts: string, key: Buffer) => `${hosts} ${keyBlobType(key)} ${key.toString('base64')}`;

function hashed(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

test('knownHostsName: port 22 bare, other ports bracketed (IPv6 too)', () => {
  assert.equal(knownHostsName('nas.lan', 22), 'nas.lan');
  assert.equal(knownHostsName('nas.lan', 2222), '[nas.lan]:2222');
  assert.equal(knownHostsName('fd00::5', 2222), '[fd00::5]:2222');
});

test('plain entries: match, mismatch, unknown host, other port', () => {
  const key = blob();
  const text = `# comment\n\n${line('other.lan,nas.lan,10.0.0.5', key)}\n`;
  assert.deepEqual(checkHostKey(text, 'nas.lan', 22, key), { kind: 'match' });
  assert.deepEqual(checkHostKey(text, 'NAS.lan', 22, key), { kind: 'match' }, 'host names compare case-insensitively');
  assert.deepEqual(checkHostKey(text, '10.0.0.5', 22, key), { kind: 'match' });
  assert.deepEqual(checkHostKey(text, 'nas.lan', 22, blob()), { kind: 'mismatch' });
  assert.deepEqual(checkHostKey(text, 'nas.lan', 2222, key), { kind: 'unknown', knownTypes: [] }, 'a bare name is port 22 only');
  assert.deepEqual(checkHostKey(text, 'evil.lan', 22, key), { kind: 'unknown', knownTypes: [] });
  assert.deepEqual(checkHostKey('', 'nas.lan', 22, key), { kind: 'unknown', knownTypes: [] });
});

test('[host]:port entries', () => {
  const key = blob();
  const text = line('[127.0.0.1]:2222', key);
  assert.deepEqual(checkHostKey(text, '127.0.0.1', 2222, key), { kind: 'match' });
  assert.deepEqual(checkHostKey(text, '127.0.0.1', 22, key).kind, 'unknown');
  assert.deepEqual(checkHostKey(text, '127.0.0.1', 2223, key).kind, 'unknown');
  assert.deepEqual(checkHostKey(text, '127.0.0.1', 2222, blob()).kind, 'mismatch');
});

test('hashed entries (ssh-keygen -H / HashKnownHosts): HMAC-SHA1 of the name', () => {
  const key = blob('ecdsa-sha2-nistp256');
  const text = [line(hashed('nas.lan'), key), line(hashed('[nas.lan]:2222'), key)].join('\n');
  assert.deepEqual(checkHostKey(text, 'nas.lan', 22, key), { kind: 'match' });
  assert.deepEqual(checkHostKey(text, 'nas.lan', 2222, key), { kind: 'match' });
  assert.equal(checkHostKey(text, 'nas.lan', 2223, key).kind, 'unknown');
  assert.equal(checkHostKey(text, 'nas2.lan', 22, key).kind, 'unknown');
  assert.equal(checkHostKey(text, 'nas.lan', 22, blob('ecdsa-sha2-nistp256')).kind, 'mismatch');
  assert.equal(checkHostKey('|1|bad|entry ssh-ed25519 AAAA', 'nas.lan', 22, key).kind, 'unknown', 'garbage is ignored');
});

test('wildcards and negation, as OpenSSH match_hostname', () => {
  const key = blob();
  const text = line('*.lan,!router.lan,nas?', key);
  assert.equal(checkHostKey(text, 'nas.lan', 22, key).kind, 'match');
  assert.equal(checkHostKey(text, 'nas1', 22, key).kind, 'match');
  assert.equal(checkHostKey(text, 'nas12', 22, key).kind, 'unknown');
  assert.equal(checkHostKey(text, 'router.lan', 22, key).kind, 'unknown', 'a negated match wins');
  assert.equal(checkHostKey(line('nas.lan', key), 'nasXlan', 22, key).kind, 'unknown', 'a dot is not a wildcard');
});

test('key types: a host known only by another type is unknown for this one (no false mismatch)', () => {
  const ecdsa = blob('ecdsa-sha2-nistp256');
  const rsa = blob('ssh-rsa');
  const text = [line('nas.lan', ecdsa), line('nas.lan', rsa), line('other', blob())].join('\n');
  assert.deepEqual(checkHostKey(text, 'nas.lan', 22, blob('ssh-ed25519')), { kind: 'unknown', knownTypes: ['ecdsa-sha2-nistp256', 'ssh-rsa'] });
  assert.equal(checkHostKey(text, 'nas.lan', 22, rsa).kind, 'match');
  assert.deepEqual(knownKeyTypes(text, 'nas.lan', 22), ['ecdsa-sha2-nistp256', 'ssh-rsa']);
  assert.deepEqual(knownKeyTypes(text, 'nowhere', 22), []);
});

test('a line whose blob names another type than its type field is ignored', () => {
  const key = blob('ssh-ed25519');
  assert.equal(checkHostKey(`nas.lan ssh-rsa ${key.toString('base64')}`, 'nas.lan', 22, key).kind, 'unknown');
});

test('@revoked refuses the key even when also listed; @cert-authority lines are skipped', () => {
  const key = blob();
  const text = [`@revoked ${line('*', key)}`, line('nas.lan', key)].join('\n');
  assert.deepEqual(checkHostKey(text, 'nas.lan', 22, key), { kind: 'revoked' });
  assert.equal(checkHostKey(`@cert-authority ${line('*.lan', key)}`, 'nas.lan', 22, key).kind, 'unknown');
});

test('hostKeyAlgorithms: known types first (RSA as its SHA-2 signatures), then ssh2 defaults', () => {
  const all = hostKeyAlgorithms([]);
  assert.equal(all[0], 'ssh-ed25519');
  const pref = hostKeyAlgorithms(['ssh-rsa', 'ecdsa-sha2-nistp256']);
  assert.deepEqual(pref.slice(0, 4), ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ecdsa-sha2-nistp256']);
  assert.equal(new Set(pref).size, pref.length);
  assert.deepEqual([...pref].sort(), [...all].sort(), 'same set, other order');
  assert.equal(hostKeyAlgorithms(['sk-ssh-ed25519@openssh.com'])[0], 'ssh-ed25519', 'types ssh2 cannot verify are left out');
});

test('keyFingerprint is OpenSSH SHA256 without padding', () => {
  assert.match(keyFingerprint(blob()), /^SHA256:[A-Za-z0-9+/]{43}$/);
});

test('property: any text, host and key never throw and an unlisted host is never a match', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 400 }), fc.domain(), fc.integer({ min: 1, max: 65535 }), fc.uint8Array({ maxLength: 80 }), (text, host, port, raw) => {
      const key = Buffer.from(raw);
      const verdict = checkHostKey(text, host, port, key);
      if (!text.includes(key.toString('base64')) || key.length === 0) assert.notEqual(verdict.kind, 'match');
      hostKeyAlgorithms(knownKeyTypes(text, host, port));
    }),
  );
});
