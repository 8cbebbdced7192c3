// The shipped socket proxy config (deploy/socket-proxy/haproxy.cfg), run by Debian's haproxy in
// front of the real engine: what Bellhop needs passes, everything else is 403. Only the listen
// socket is moved to a temporary folder; the ACLs are the file's own.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dockerClient, dockerSkip, removeQuietly, runHttpd, uniqueName, waitFor } from '../support/docker-test.ts';
import type Docker from 'dockerode';

const CONFIG = new URL('../../deploy/socket-proxy/haproxy.cfg', import.meta.url);
const haproxyMissing = spawnSync('haproxy', ['-v']).status === 0 ? false : 'haproxy is not installed (apt-get install haproxy)';
// .ci/run installs haproxy: in CI its absence fails the suite (in `before`) instead of skipping it.
const skip = dockerSkip !== false ? dockerSkip : process.env['CI'] ? false : haproxyMissing;

interface Reply {
  status: number;
  body: string;
}

function call(socketPath: string, method: string, path: string, opts: { body?: string; readMs?: number } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers: { host: 'docker', 'content-type': 'application/json' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('error', reject);
      if (opts.readMs !== undefined) {
        // A stream (events): the headers came through; read a moment, then hang up.
        setTimeout(() => {
          res.destroy();
          resolve({ status: res.statusCode ?? 0, body });
        }, opts.readMs);
      } else res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('deploy/socket-proxy/haproxy.cfg in front of the real engine', { skip }, () => {
  let dir = '';
  let sock = '';
  let haproxy: ChildProcess | undefined;
  let docker: Docker;
  let target: Docker.Container | undefined;
  let targetId = '';

  before(async () => {
    if (haproxyMissing !== false) throw new Error(haproxyMissing);
    docker = dockerClient();
    dir = mkdtempSync(join(tmpdir(), 'bellhop-socket-proxy-'));
    sock = join(dir, 'docker.sock');
    const shipped = readFileSync(CONFIG, 'utf8');
    assert.match(shipped, /bind \/run\/docker-proxy\/docker\.sock mode 666/);
    assert.match(shipped, /server engine \/var\/run\/docker\.sock/);
    const cfg = shipped.replace('bind /run/docker-proxy/docker.sock', `bind ${sock}`).replace(/^\s*log stdout.*$/m, '');
    writeFileSync(join(dir, 'haproxy.cfg'), cfg);
    haproxy = spawn('haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    haproxy.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    haproxy.on('error', () => undefined);
    await waitFor(() => (existsSync(sock) ? true : undefined), 10_000, `haproxy socket (${stderr})`);
    target = await runHttpd(docker, { name: uniqueName('bellhop-sp-target') });
    targetId = target.id;
  });

  after(async () => {
    await removeQuietly(target);
    haproxy?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  test('ping, version, list, inspect and logs pass, with or without the /v1.xx prefix', async () => {
    assert.deepEqual(await call(sock, 'GET', '/_ping'), { status: 200, body: 'OK' });
    assert.equal((await call(sock, 'HEAD', '/v1.41/_ping')).status, 200);
    assert.match((await call(sock, 'GET', '/version')).body, /"ApiVersion"/);
    const list = await call(sock, 'GET', '/v1.41/containers/json?all=1');
    assert.equal(list.status, 200);
    assert.ok((JSON.parse(list.body) as Array<{ Id: string }>).some((c) => c.Id === targetId));
    const inspect = await call(sock, 'GET', `/containers/${targetId}/json`);
    assert.equal(inspect.status, 200);
    assert.equal((JSON.parse(inspect.body) as { Id: string }).Id, targetId);
    assert.equal((await call(sock, 'GET', `/containers/${targetId.slice(0, 12)}/logs?stdout=1&tail=5`)).status, 200);
  });

  test('the events stream opens and delivers an event', async () => {
    const since = Math.floor(Date.now() / 1000) - 60;
    const r = await call(sock, 'GET', `/events?since=${String(since)}&filters=${encodeURIComponent(JSON.stringify({ type: ['container'] }))}`, { readMs: 700 });
    assert.equal(r.status, 200);
    assert.match(r.body, /"Type":"container"/);
  });

  test('stop, start, pause, unpause and kill pass', async () => {
    assert.equal((await call(sock, 'POST', `/v1.41/containers/${targetId}/pause`)).status, 204);
    assert.equal((await target!.inspect()).State.Status, 'paused');
    assert.equal((await call(sock, 'POST', `/containers/${targetId}/unpause`)).status, 204);
    assert.equal((await call(sock, 'POST', `/containers/${targetId}/stop?t=1`)).status, 204);
    assert.equal((await target!.inspect()).State.Running, false);
    assert.equal((await call(sock, 'POST', `/containers/${targetId}/start`)).status, 204);
    assert.equal((await target!.inspect()).State.Running, true);
    assert.equal((await call(sock, 'POST', `/containers/${targetId}/kill?signal=SIGKILL`)).status, 204);
  });

  test('create, exec, images, archive, DELETE and odd paths get 403 and never reach Docker', async () => {
    // The create bodies carry a label of their own: other tests create and remove containers on
    // the shared engine meanwhile, so the total count is no measure of what got through.
    const evil = JSON.stringify({ Image: 'bellhop-test/busybox:1', Labels: { 'bellhop.test.socket-proxy-denied': '1' } });
    const denied: Array<[string, string, string?]> = [
      ['POST', '/containers/create', evil],
      ['POST', '/v1.41/containers/create?name=evil', evil],
      ['POST', `/containers/${targetId}/exec`, JSON.stringify({ Cmd: ['id'] })],
      ['GET', '/images/json'],
      ['GET', `/containers/${targetId}/archive?path=/etc/passwd`],
      ['DELETE', `/containers/${targetId}?force=1`],
      ['POST', `/containers/${targetId}/json`],
      ['GET', `/containers/${targetId}/start`],
      ['POST', '/containers/../images/create/start'],
      ['GET', '/containers/%2E%2E/json'],
      ['GET', '/v1.41/containers/json/../../images/json'],
      ['POST', '/build'],
      ['GET', '/volumes'],
      ['POST', '/networks/create', '{}'],
      ['GET', '/_ping/'],
      // Scaling swarm services passes only with BELLHOP_SWARM_WAKE set (not here); the swarm e2e runs it with it.
      ['POST', '/services/abc123/update?version=1', '{}'],
      ['POST', '/v1.41/services/abc123/update', '{}'],
      ['POST', '/services/create', '{}'],
      ['DELETE', '/services/abc123'],
    ];
    for (const [method, path, body] of denied) {
      const r = await call(sock, method, path, body === undefined ? {} : { body });
      assert.equal(r.status, 403, `${method} ${path}`);
    }
    assert.deepEqual(await docker.listContainers({ all: true, filters: { label: ['bellhop.test.socket-proxy-denied'] } }), []);
    assert.notEqual((await target!.inspect()).State.Status, 'removing');
  });
});
