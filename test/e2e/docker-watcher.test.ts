// internal/docker against the real engine: the watcher sees containers come, change and go;
// bursts are coalesced; host network mode is recorded; ContainerControl drives a real container.
// Other suites create containers on the same engine at the same time, so every assertion looks
// only at this file's own containers.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type Docker from 'dockerode';
import { ContainerControl, DockerWatcher, detectSelf, type ContainerRecord } from '../../internal/docker/index.ts';
import { dockerClient, dockerSkip, removeQuietly, runHttpd, uniqueName, waitFor } from '../support/docker-test.ts';

const HOST = process.env['DOCKER_HOST'] ?? 'unix:///var/run/docker.sock';

function track(t: TestContext): (c: Docker.Container) => Docker.Container {
  const created: Docker.Container[] = [];
  t.after(async () => {
    await Promise.all(created.map((c) => removeQuietly(c)));
  });
  return (c) => {
    created.push(c);
    return c;
  };
}

async function startWatcher(t: TestContext, onChange?: (r: readonly ContainerRecord[]) => void): Promise<DockerWatcher> {
  const watcher = new DockerWatcher({ host: HOST, coalesceMs: 30, ...(onChange ? { onChange } : {}) });
  t.after(() => watcher.stop());
  watcher.start();
  await waitFor(async () => {
    await watcher.whenSynced();
    return watcher.state === 'synced' || undefined;
  }, 10_000, 'watcher to sync');
  return watcher;
}

const byId = (w: DockerWatcher, id: string) => w.records().find((r) => r.id === id);

test('a labelled container appears with IP, labels and port, then exits, then goes', { skip: dockerSkip }, async (t) => {
  const docker = dockerClient();
  const keep = track(t);
  const watcher = await startWatcher(t);
  const name = uniqueName('bellhop-watch');
  const container = keep(await runHttpd(docker, { name, labels: { 'proxy.aliases': 'watched', 'proxy.port': '80' } }));

  // Only the events stream can bring it: the watcher lists containers once per session and this
  // one did not exist at its sync. How fast is a figure (npm run bench, BENCH_ONLY=discovery).
  const rec = await waitFor(() => {
    const r = byId(watcher, container.id);
    return r?.state === 'running' && r.networks.some((n) => n.ip) ? r : undefined;
  }, 20_000, 'the record, from the start event');
  assert.equal(rec.name, name);
  assert.equal(rec.labels['proxy.aliases'], 'watched');
  assert.equal(rec.labels['bellhop.test'], 'true');
  assert.deepEqual(rec.exposedPorts, [80]);
  assert.equal(rec.networkMode, 'bridge');
  assert.match(rec.networks.find((n) => n.name === 'bridge')?.ip ?? '', /^\d+\.\d+\.\d+\.\d+$/);
  assert.equal(rec.image, 'bellhop-test/busybox:1');
  assert.equal(rec.dockerHost, HOST);
  assert.ok(Math.abs(rec.createdAt - Date.now()) < 60_000);

  await container.stop({ t: 1 });
  await waitFor(() => byId(watcher, container.id)?.state === 'exited' || undefined, 20_000, 'state exited');
  assert.equal(byId(watcher, container.id)?.networks.find((n) => n.name === 'bridge')?.ip, '', 'no IP once stopped (Docker reuses addresses)');

  await container.remove({ force: true });
  await waitFor(() => !byId(watcher, container.id) || undefined, 20_000, 'record gone');
});

test('a burst of 10 container starts is coalesced into fewer snapshots than events', { skip: dockerSkip }, async (t) => {
  const docker = dockerClient();
  const keep = track(t);
  const tag = uniqueName('burst');
  const mine = (records: readonly ContainerRecord[]) => records.filter((r) => r.labels['bellhop.burst'] === tag);
  const seen: string[] = [];
  const watcher = await startWatcher(t, (records) => {
    // A snapshot "about the burst" is one where our containers' states differ from the last one.
    const key = mine(records).map((r) => `${r.id}:${r.state}`).sort().join(',');
    if (key !== seen.at(-1)) seen.push(key);
  });
  const before = seen.length;
  const containers = await Promise.all(Array.from({ length: 10 }, (_, i) => runHttpd(docker, { name: `${tag}-${i}`, labels: { 'bellhop.burst': tag }, start: false }).then(keep)));
  const events = 20; // 10 create + 10 start
  await Promise.all(containers.map((c) => c.start()));
  await waitFor(() => (mine(watcher.records()).filter((r) => r.state === 'running').length === 10) || undefined, 20_000, 'all ten running');
  const snapshots = seen.length - before;
  t.diagnostic(`burst: ${events} events → ${snapshots} snapshots touching the burst, ${watcher.stats.inspects} inspects in total`);
  assert.ok(snapshots < events, `${snapshots} snapshots for ${events} events`);
});

test('host network mode is recorded', { skip: dockerSkip }, async (t) => {
  const docker = dockerClient();
  const keep = track(t);
  const watcher = await startWatcher(t);
  const port = 20_000 + Math.floor(Math.random() * 40_000);
  const c = keep(await runHttpd(docker, { port, networkMode: 'host' }));
  const rec = await waitFor(() => (byId(watcher, c.id)?.state === 'running' ? byId(watcher, c.id) : undefined), 20_000, 'host-mode record');
  assert.equal(rec.networkMode, 'host');
  assert.deepEqual(rec.exposedPorts, [port]);
  assert.deepEqual(rec.networks.map((n) => n.name), ['host']);
});

test('ContainerControl drives a real container: stop, start, pause, unpause, kill, logsTail, inspect', { skip: dockerSkip }, async (t) => {
  const docker = dockerClient();
  const keep = track(t);
  const control = new ContainerControl({ host: HOST });
  const c = keep(await runHttpd(docker, { extraShell: 'echo ready-to-serve; sleep 0.3; echo oops >&2;' }));
  const id = c.id;

  assert.equal((await control.inspect(id)).state, 'running');
  await control.start(id); // real 304
  await control.pause(id);
  assert.equal((await control.inspect(id)).state, 'paused');
  await control.pause(id); // real 409 "already paused" → done
  await control.unpause(id);
  await control.unpause(id); // real 409 "not paused" → done
  assert.equal((await control.inspect(id)).state, 'running');

  const logs = await waitFor(async () => {
    const text = await control.logsTail(id, 10);
    return text.includes('oops') ? text : undefined;
  }, 20_000, 'logs');
  // stdout and stderr are separate pipes: the sleep in the script orders them in Docker's log.
  assert.equal(logs, 'ready-to-serve\noops');
  assert.equal(await control.logsTail(id, 1), 'oops');

  await control.stop(id, { timeoutSec: 1 });
  assert.equal((await control.inspect(id)).state, 'exited');
  await control.stop(id, { timeoutSec: 1 }); // real 304
  await assert.rejects(control.kill(id), { code: 'DOCKER_CONFLICT', status: 409 });
  await control.start(id);
  assert.equal((await control.inspect(id)).state, 'running');
  await control.kill(id, 'SIGKILL');
  await waitFor(async () => ((await control.inspect(id)).state === 'exited') || undefined, 20_000, 'killed');
  await assert.rejects(control.start('bellhop-no-such-container'), { code: 'DOCKER_NOT_FOUND', status: 404 });
});

test('detectSelf finds a container by its hostname and reads its networks', { skip: dockerSkip }, async (t) => {
  const docker = dockerClient();
  const keep = track(t);
  const c = keep(await runHttpd(docker));
  const info = await c.inspect();
  const self = await detectSelf({ docker, hints: { hostname: info.Config.Hostname, mountinfo: '', cgroup: '', dockerenv: true } });
  assert.deepEqual(self, { networks: ['bridge'] });
});
