// ssh:// hosts: which identity is used (agent, else ~/.ssh/id_ed25519, id_ecdsa, id_rsa), and
// that a missing or passphrase-protected key fails every call with DOCKER_SSH_AUTH instead of
// throwing at parse time. The real handshake and host key checks: test/e2e/docker-ssh.test.ts.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { dockerClientFor, parseDockerHost } from './docker-host.ts';
import { withTimeout } from './call-timeout.ts';

function home(t: TestContext, keys: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'bellhop-ssh-home-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, '.ssh'));
  for (const [name, text] of Object.entries(keys)) writeFileSync(join(dir, '.ssh', name), text);
  return dir;
}

const plainKey = (type: 'ed25519' | 'ecdsa' | 'rsa') => ssh2.utils.generateKeyPairSync(type, type === 'rsa' ? { bits: 2048 } : type === 'ecdsa' ? { bits: 256 } : {}).private;

test('ssh://: host string, port, user, remote address, known_hosts under HOME', (t) => {
  const h = home(t, { id_ed25519: plainKey('ed25519') });
  const target = parseDockerHost('ssh://deploy@nas.lan:2222', { HOME: h });
  assert.equal(target.host, 'ssh://deploy@nas.lan:2222');
  assert.equal(target.remoteAddress, 'nas.lan');
  assert.deepEqual(target.ssh, { host: 'nas.lan', port: 2222, username: 'deploy', knownHostsFile: join(h, '.ssh', 'known_hosts'), identity: join(h, '.ssh', 'id_ed25519'), identityProblem: undefined });
  assert.equal(target.options.protocol, 'http', 'dockerode speaks plain HTTP over the dial-stdio channel');
  const v6 = parseDockerHost('ssh://[fd00::5]', { HOME: h });
  assert.equal(v6.host, 'ssh://[fd00::5]:22');
  assert.equal(v6.ssh?.username, 'root', 'root by default, like ssh to a Docker host usually is');
  assert.equal(v6.remoteAddress, 'fd00::5');
});

test('ssh://: SSH_AUTH_SOCK wins over key files', (t) => {
  const h = home(t, { id_ed25519: plainKey('ed25519') });
  assert.equal(parseDockerHost('ssh://nas', { HOME: h, SSH_AUTH_SOCK: '/run/agent.sock' }).ssh?.identity, 'agent');
});

test('ssh://: the first existing of id_ed25519, id_ecdsa, id_rsa', (t) => {
  const both = home(t, { id_rsa: plainKey('rsa'), id_ecdsa: plainKey('ecdsa') });
  assert.equal(parseDockerHost('ssh://nas', { HOME: both }).ssh?.identity, join(both, '.ssh', 'id_ecdsa'));
  const rsa = home(t, { id_rsa: plainKey('rsa') });
  assert.equal(parseDockerHost('ssh://nas', { HOME: rsa }).ssh?.identity, join(rsa, '.ssh', 'id_rsa'));
});

test('ssh://: no identity → every call fails with DOCKER_SSH_AUTH naming the path to mount, without a connection', async (t) => {
  const h = home(t);
  const target = parseDockerHost('ssh://root@127.0.0.1:1', { HOME: h });
  assert.match(target.ssh?.identityProblem ?? '', new RegExp(`mount a private key at ${join(h, '.ssh', 'id_ed25519')}`));
  const docker = dockerClientFor(target);
  await assert.rejects(withTimeout(5000, 'ping', () => docker.ping()), (err: { code?: string; message?: string }) => {
    assert.equal(err.code, 'DOCKER_SSH_AUTH');
    assert.match(err.message ?? '', /ssh:\/\/root@127\.0\.0\.1:1: no SSH identity: mount a private key at .*id_ed25519.*SSH_AUTH_SOCK/);
    return true;
  });
});

test('ssh://: a passphrase-protected key → DOCKER_SSH_AUTH that says so', async (t) => {
  const h = home(t, { id_ed25519: ssh2.utils.generateKeyPairSync('ed25519', { passphrase: 'secret', cipher: 'aes256-ctr', rounds: 16 }).private });
  const target = parseDockerHost('ssh://root@127.0.0.1:1', { HOME: h });
  assert.match(target.ssh?.identityProblem ?? '', /id_ed25519 is protected by a passphrase/);
  await assert.rejects(dockerClientFor(target).listContainers(), { code: 'DOCKER_SSH_AUTH' });
});

test('ssh://: an unreadable key file is a problem too, not a crash', (t) => {
  const h = home(t, { id_ed25519: 'not a key' });
  assert.match(parseDockerHost('ssh://nas', { HOME: h }).ssh?.identityProblem ?? '', /id_ed25519 cannot be used/);
});
