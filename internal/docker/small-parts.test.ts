// Host parsing, error mapping, deadlines, log demultiplexing, self-detection hints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withTimeout } from './call-timeout.ts';
import { selfContainerCandidates } from './detect-self.ts';
import { DockerError, toDockerError } from './docker-error.ts';
import { parseDockerHost } from './docker-host.ts';
import { demuxDockerLogs, isMultiplexed, lastLines } from './log-demux.ts';

test('parseDockerHost: unix, tcp, ssh, bare host:port, errors', () => {
  assert.deepEqual(parseDockerHost('unix:///var/run/docker.sock'), { host: 'unix:///var/run/docker.sock', remoteAddress: undefined, options: { socketPath: '/var/run/docker.sock' } });
  assert.equal(parseDockerHost('').host, 'unix:///var/run/docker.sock');
  assert.equal(parseDockerHost('unix://').host, 'unix:///var/run/docker.sock');
  assert.equal(parseDockerHost('/tmp/d.sock').host, 'unix:///tmp/d.sock');
  const tcp = parseDockerHost('tcp://10.0.0.5:2375');
  assert.deepEqual(tcp, { host: 'tcp://10.0.0.5:2375', remoteAddress: '10.0.0.5', options: { host: '10.0.0.5', port: '2375', protocol: 'http' } });
  assert.equal(parseDockerHost('nas.lan:2375').host, 'tcp://nas.lan:2375');
  assert.equal(parseDockerHost('tcp://nas.lan').host, 'tcp://nas.lan:2375', 'default port');
  assert.equal(parseDockerHost('tcp://[fd00::5]:2375').remoteAddress, 'fd00::5');
  const ssh = parseDockerHost('ssh://deploy@nas.lan', { HOME: '/nonexistent' });
  assert.equal(ssh.host, 'ssh://deploy@nas.lan:22');
  assert.equal(ssh.remoteAddress, 'nas.lan');
  assert.equal(ssh.ssh?.username, 'deploy', 'ssh:// details: docker-host-ssh.test.ts');
  assert.deepEqual(parseDockerHost('npipe:////./pipe/docker_engine').options, { socketPath: '//./pipe/docker_engine' });
  assert.equal(parseDockerHost('npipe://').host, 'npipe:////./pipe/docker_engine');
  assert.throws(() => parseDockerHost('ftp://x'), /unsupported scheme/);
  assert.throws(() => parseDockerHost('tcp://a b'), /not a valid address/);
  const https = parseDockerHost('https://nas.lan', {});
  assert.equal(https.host, 'https://nas.lan:2376');
  assert.equal(https.options.protocol, 'https');
  assert.equal(parseDockerHost('tcp://nas.lan:2376', { DOCKER_TLS_VERIFY: '1' }).options.protocol, 'https', 'DOCKER_TLS_VERIFY like the docker CLI');
  const certs = mkdtempSync(join(tmpdir(), 'bellhop-certs-'));
  for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(certs, f), `-- ${f} --`);
  const withCerts = parseDockerHost('https://nas.lan:2376', { DOCKER_CERT_PATH: certs });
  assert.equal((withCerts.options.ca as Buffer).toString(), '-- ca.pem --');
  assert.equal((withCerts.options.key as Buffer).toString(), '-- key.pem --');
  rmSync(certs, { recursive: true });
  assert.throws(() => parseDockerHost('tcp://'), /not a valid address|no host name/);
});

test('toDockerError: HTTP statuses, socket errors, idempotence', () => {
  const http = (statusCode: number, message: string) => Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${message} `), { statusCode, json: { message } });
  const forbidden = toDockerError(http(403, 'forbidden by proxy'), 'start', 'abc');
  assert.equal(forbidden.code, 'DOCKER_FORBIDDEN');
  assert.equal(forbidden.status, 403);
  assert.equal(forbidden.containerId, 'abc');
  assert.equal(forbidden.op, 'start');
  assert.match(forbidden.message, /start abc: HTTP 403: forbidden by proxy/);
  assert.equal(toDockerError(http(401, 'x'), 'x').code, 'DOCKER_FORBIDDEN');
  assert.equal(toDockerError(http(404, 'No such container'), 'inspect').code, 'DOCKER_NOT_FOUND');
  assert.equal(toDockerError(http(409, 'paused'), 'stop').code, 'DOCKER_CONFLICT');
  assert.equal(toDockerError(http(500, 'boom'), 'list').code, 'DOCKER_SERVER_ERROR');
  assert.equal(toDockerError(http(418, 'teapot'), 'list').code, 'DOCKER_BAD_RESPONSE');
  assert.equal(toDockerError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'ping').code, 'DOCKER_UNREACHABLE');
  assert.equal(toDockerError(Object.assign(new Error('connect ENOENT /x.sock'), { code: 'ENOENT' }), 'ping').code, 'DOCKER_UNREACHABLE');
  assert.equal(toDockerError(Object.assign(new Error('connect EACCES'), { code: 'EACCES' }), 'ping').code, 'DOCKER_PERMISSION');
  assert.equal(toDockerError(new Error('socket hang up'), 'events').code, 'DOCKER_UNREACHABLE');
  assert.equal(toDockerError(Object.assign(new Error('The operation was aborted'), { name: 'AbortError' }), 'x').code, 'DOCKER_ABORTED');
  assert.equal(toDockerError('weird', 'x').code, 'DOCKER_BAD_RESPONSE');
  const e = new DockerError('DOCKER_TIMEOUT', 't', { op: 'x' });
  assert.equal(toDockerError(e, 'y'), e);
});

test('withTimeout: settles on time even when the call ignores its signal; passes results and maps errors', async () => {
  await assert.rejects(withTimeout(20, 'inspect', () => new Promise(() => undefined), 'abc'), (err: DockerError) => err.code === 'DOCKER_TIMEOUT' && err.containerId === 'abc');
  let aborted = false;
  await assert.rejects(withTimeout(10, 'inspect', (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => {
    aborted = true;
    reject(new Error('aborted by signal'));
  }))), /no answer within 10 ms/);
  assert.ok(aborted, 'the signal fires so the request is torn down');
  assert.equal(await withTimeout(100, 'x', () => Promise.resolve(42)), 42);
  await assert.rejects(withTimeout(100, 'x', () => Promise.reject(Object.assign(new Error('no'), { statusCode: 500 }))), { code: 'DOCKER_SERVER_ERROR' });
  const outer = new AbortController();
  const p = withTimeout(1000, 'x', (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('stop')))), undefined, outer.signal);
  outer.abort();
  await assert.rejects(p, { code: 'DOCKER_ABORTED' });
  await assert.rejects(withTimeout(1000, 'x', () => Promise.resolve(1), undefined, outer.signal), { code: 'DOCKER_ABORTED' });
});

function frame(stream: number, text: string): Buffer {
  const payload = Buffer.from(text);
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
}

test('log demux: frames joined in order, raw TTY output kept, last lines', () => {
  const muxed = Buffer.concat([frame(1, 'starting\n'), frame(2, 'error: port in use\n'), frame(1, 'bye\n')]);
  assert.ok(isMultiplexed(muxed));
  assert.equal(demuxDockerLogs(muxed), 'starting\nerror: port in use\nbye\n');
  assert.equal(demuxDockerLogs(Buffer.from('{"level":"info"}\nplain tty\n')), '{"level":"info"}\nplain tty\n');
  assert.ok(!isMultiplexed(Buffer.from([1, 0, 0, 0, 0, 0, 0, 9, 65])), 'truncated frame');
  assert.ok(!isMultiplexed(Buffer.from('short')));
  assert.equal(demuxDockerLogs(Buffer.alloc(0)), '');
  assert.equal(lastLines('a\nb\nc\n', 2), 'b\nc');
  assert.equal(lastLines('a\r\nb\r\n', 5), 'a\nb');
  assert.equal(lastLines('', 5), '');
});

const ID = '3f'.repeat(32);

test('self detection hints: mountinfo, cgroup, hostname', () => {
  const none = { hostname: 'laptop', mountinfo: '', cgroup: '0::/\n', dockerenv: false };
  assert.deepEqual(selfContainerCandidates(none), []);
  const mountinfo = [
    `1510 1489 0:134 / / rw,relatime master:412 - overlay overlay rw`,
    `1530 1510 8:1 /var/lib/docker/containers/${ID}/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/sda1 rw`,
    `1531 1510 8:1 /var/lib/docker/containers/${ID}/hostname /etc/hostname rw,relatime - ext4 /dev/sda1 rw`,
  ].join('\n');
  assert.deepEqual(selfContainerCandidates({ ...none, mountinfo }), [ID]);
  // On the host itself, mountinfo shows every container's shm mount: must not match.
  const hostMountinfo = `611 29 0:60 / /var/lib/docker/containers/${ID}/mounts/shm rw - tmpfs shm rw`;
  assert.deepEqual(selfContainerCandidates({ ...none, mountinfo: hostMountinfo }), []);
  assert.deepEqual(selfContainerCandidates({ ...none, cgroup: `12:memory:/docker/${ID}\n` }), [ID]);
  assert.deepEqual(selfContainerCandidates({ ...none, cgroup: `0::/system.slice/docker-${ID}.scope\n` }), [ID]);
  assert.deepEqual(selfContainerCandidates({ ...none, hostname: ID.slice(0, 12) }), [ID.slice(0, 12)]);
  assert.deepEqual(selfContainerCandidates({ ...none, hostname: 'bellhop', dockerenv: true }), ['bellhop']);
  assert.deepEqual(selfContainerCandidates({ hostname: ID.slice(0, 12), mountinfo, cgroup: `12:memory:/docker/${ID}`, dockerenv: true }), [ID, ID.slice(0, 12)], 'deduplicated, best first');
});
