// ContainerControl against the fake API for the faults (403 from a socket proxy, hangs, 404);
// the real engine round trip is in test/e2e/docker-watcher.test.ts.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import Docker from 'dockerode';
import { fakeInspect, startFakeDockerApi } from '../../test/support/fake-docker-api.ts';
import { ContainerControl } from './container-control.ts';
import { detectSelf } from './detect-self.ts';
import { DockerError } from './docker-error.ts';
import type { Logger } from '../../pkg/log/index.ts';

function recorder(): Logger & { lines: Array<{ level: string; obj: Record<string, unknown>; msg: string }> } {
  const lines: Array<{ level: string; obj: Record<string, unknown>; msg: string }> = [];
  const at = (level: string) => (obj: object, msg: string) => void lines.push({ level, obj: obj as Record<string, unknown>, msg });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

// The call timeout is generous except where a test makes calls hang on purpose: a busy machine
// must not turn a working call into DOCKER_TIMEOUT.
async function setup(t: TestContext, callTimeoutMs = 10_000) {
  const fake = await startFakeDockerApi();
  t.after(() => fake.close());
  const log = recorder();
  const control = new ContainerControl({ host: fake.dockerHost, logger: log, callTimeoutMs });
  const c = fakeInspect({ name: 'app', state: 'exited', labels: { 'proxy.idle_timeout': '5m' } });
  fake.add(c, { logs: [[1, 'booting\n'], [2, 'error: database unreachable\n'], [1, 'exiting\n']] });
  return { fake, control, log, id: c.Id };
}

test('start, stop, pause, unpause, kill round trip; 304 and already-paused are success', async (t) => {
  const { fake, control, id } = await setup(t);
  assert.equal(control.host, fake.dockerHost);
  await control.start(id);
  assert.equal((await control.inspect(id)).state, 'running');
  await control.start(id); // 304 already started
  await control.pause(id);
  await control.pause(id); // 409 "already paused" counts as done
  assert.equal((await control.inspect(id)).state, 'paused');
  await control.unpause(id);
  await control.unpause(id); // 409 "not paused" counts as done
  await control.stop(id, { timeoutSec: 3, signal: 'SIGINT' });
  assert.ok(fake.rawPaths.some((p) => /\/stop\?(.*&)?t=3/.test(p) && /signal=SIGINT/.test(p)), fake.rawPaths.join(' '));
  await control.stop(id); // 304 already stopped
  assert.equal((await control.inspect(id)).state, 'exited');
  await control.start(id);
  await control.kill(id, 'SIGKILL');
  assert.ok(fake.rawPaths.some((p) => /\/kill\?signal=SIGKILL/.test(p)));
  await assert.rejects(control.kill(id), (err: DockerError) => err.code === 'DOCKER_CONFLICT' && err.status === 409, 'killing a stopped container is a conflict');
  assert.equal(fake.count('start'), 3);
});

test('a socket proxy 403 on start becomes DOCKER_FORBIDDEN, logged with the container, no crash', async (t) => {
  const { fake, control, log, id } = await setup(t);
  fake.fault('start', { status: 403, message: 'Forbidden' });
  await assert.rejects(control.start(id), (err: unknown) => {
    assert.ok(err instanceof DockerError);
    assert.equal(err.code, 'DOCKER_FORBIDDEN');
    assert.equal(err.status, 403);
    assert.equal(err.op, 'start');
    assert.equal(err.containerId, id);
    return true;
  });
  const line = log.lines.find((l) => l.level === 'error' && l.obj['code'] === 'DOCKER_FORBIDDEN');
  assert.ok(line, 'logged');
  assert.equal(line.obj['container'], id);
  assert.ok(line.obj['err'] instanceof DockerError);
});

test('404, 500 and a hung call carry their codes; a hung stop waits its grace period first', async (t) => {
  const { fake, control, id } = await setup(t, 2000);
  await assert.rejects(control.start('nope'), { code: 'DOCKER_NOT_FOUND', status: 404 });
  await assert.rejects(control.inspect('nope'), { code: 'DOCKER_NOT_FOUND' });
  await assert.rejects(control.logsTail('nope', 5), { code: 'DOCKER_NOT_FOUND' });
  fake.fault('pause', { status: 500, times: 1 });
  await assert.rejects(control.pause(id), { code: 'DOCKER_SERVER_ERROR', status: 500 });
  fake.fault('inspect', { hang: true, times: 1 });
  await assert.rejects(control.inspect(id), { code: 'DOCKER_TIMEOUT' });
  fake.fault('unpause', { hang: true, times: 1 });
  await assert.rejects(control.unpause(id), { code: 'DOCKER_TIMEOUT' });
  fake.fault('logs', { hang: true, times: 1 });
  await assert.rejects(control.logsTail(id), { code: 'DOCKER_TIMEOUT' });
  await control.start(id);
  fake.fault('stop', { hang: true, times: 1 });
  const t0 = Date.now();
  await assert.rejects(control.stop(id, { timeoutSec: 0 }), { code: 'DOCKER_TIMEOUT' });
  assert.ok(Date.now() - t0 >= 150, 'deadline = grace + call timeout');
});

test('logsTail demultiplexes stdout and stderr in order and keeps the last lines', async (t) => {
  const { control, id, fake } = await setup(t);
  assert.equal(await control.logsTail(id, 2), 'error: database unreachable\nexiting');
  assert.equal(await control.logsTail(id), 'booting\nerror: database unreachable\nexiting');
  assert.ok(fake.rawPaths.some((p) => /\/logs\?.*stdout=true.*stderr=true.*tail=2/.test(p)), fake.rawPaths.join(' '));
});

test('unreachable Docker gives DOCKER_UNREACHABLE', async () => {
  const control = new ContainerControl({ host: 'unix:///nonexistent/bellhop.sock', callTimeoutMs: 500 });
  await assert.rejects(control.start('x'), { code: 'DOCKER_UNREACHABLE' });
});

test('detectSelf: inspects the candidate and reads its networks; not found or failing → no networks', async (t) => {
  const fake = await startFakeDockerApi();
  t.after(() => fake.close());
  const me = fakeInspect({ name: 'bellhop', network: 'proxy_net' });
  fake.add(me);
  const docker = new Docker({ socketPath: fake.socketPath });
  const hints = { hostname: me.Id.slice(0, 12), mountinfo: '', cgroup: '', dockerenv: true };
  const log = recorder();
  assert.deepEqual(await detectSelf({ docker, hints, logger: log }), { networks: ['proxy_net'] });
  assert.ok(log.lines.some((l) => l.obj['container'] === 'bellhop'));
  assert.deepEqual(await detectSelf({ docker, hints: { ...hints, hostname: 'laptop', dockerenv: false } }), { networks: [] });
  assert.deepEqual(await detectSelf({ docker, hints: { ...hints, hostname: 'deadbeef0000' } }), { networks: [] });
  fake.fault('inspect', { status: 403, times: 1 });
  assert.deepEqual(await detectSelf({ docker, hints, logger: log }), { networks: [] });
  assert.ok(log.lines.some((l) => l.level === 'warn' && l.obj['code'] === 'DOCKER_FORBIDDEN'));
  // Reading the real system never throws.
  const real = await detectSelf({ docker, callTimeoutMs: 200 });
  assert.ok(Array.isArray(real.networks));
});
