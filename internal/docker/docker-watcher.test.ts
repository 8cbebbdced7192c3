// The watcher against the fake Docker API: only the faults a real engine cannot produce on
// demand (EOF, dropped socket, 500, hang, 403). The happy path on a real engine is in
// test/e2e/docker-watcher.test.ts.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import Docker from 'dockerode';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { fakeInspect, startFakeDockerApi, type FakeDockerApi } from '../../test/support/fake-docker-api.ts';
import { waitFor } from '../../test/support/docker-test.ts';
import type { ContainerRecord } from './container-record.ts';
import { DockerHub, recordKey } from './docker-hub.ts';
import { DockerWatcher, type DockerWatcherOptions } from './docker-watcher.ts';
import type { Logger } from '../../pkg/log/index.ts';

interface Line {
  level: string;
  obj: Record<string, unknown>;
  msg: string;
}

function recorder(): Logger & { lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: string) => (obj: object, msg: string) => void lines.push({ level, obj: obj as Record<string, unknown>, msg });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

async function setup(t: TestContext, opts: Partial<DockerWatcherOptions> = {}): Promise<{ fake: FakeDockerApi; watcher: DockerWatcher; snapshots: Array<readonly ContainerRecord[]>; log: ReturnType<typeof recorder> }> {
  const fake = await startFakeDockerApi();
  const log = recorder();
  const snapshots: Array<readonly ContainerRecord[]> = [];
  const watcher = new DockerWatcher({ host: fake.dockerHost, logger: log, callTimeoutMs: 500, backoffInitialMs: 20, backoffMaxMs: 200, coalesceMs: 20, onChange: (r) => snapshots.push(r), ...opts });
  t.after(async () => {
    await watcher.stop();
    await fake.close();
  });
  return { fake, watcher, snapshots, log };
}

const names = (records: readonly ContainerRecord[]) => records.map((r) => r.name);

test('subscribes to events before listing, then publishes a full snapshot', async (t) => {
  const { fake, watcher, snapshots } = await setup(t);
  fake.add(fakeInspect({ name: 'b-app', labels: { 'proxy.aliases': 'b' }, ip: '172.17.0.3' }));
  fake.add(fakeInspect({ name: 'a-db', state: 'exited' }));
  watcher.start();
  await watcher.whenSynced();
  assert.deepEqual(names(watcher.records()), ['a-db', 'b-app']);
  assert.equal(snapshots.length, 1);
  assert.equal(snapshots[0], watcher.records(), 'onChange gets the same immutable reference');
  assert.ok(Object.isFrozen(watcher.records()) && Object.isFrozen(watcher.records()[0]));
  const firstEvents = fake.requests.indexOf('GET /events');
  const firstList = fake.requests.indexOf('GET /containers/json');
  assert.ok(firstEvents >= 0 && firstEvents < firstList, `events before list: ${fake.requests.join(', ')}`);
  const status = watcher.status();
  assert.equal(status.state, 'synced');
  assert.equal(status.containers, 2);
  assert.ok(watcher.secondsSinceLastSync() < 5);
  assert.equal(watcher.records().find((r) => r.name === 'b-app')?.networks[0]?.ip, '172.17.0.3');
});

test('an event re-inspects only its container; exec_* noise causes no inspect and no snapshot', async (t) => {
  const { fake, watcher, snapshots, log } = await setup(t);
  const existing = fakeInspect({ name: 'steady' });
  fake.add(existing);
  watcher.start();
  await watcher.whenSynced();
  const inspectsAfterSync = fake.count('inspect');

  for (let i = 0; i < 5; i++) fake.emit('container', 'exec_start: /bin/sh -c healthcheck', existing.Id);
  fake.emit('network', 'create', 'x', { name: 'newnet' });
  const added = fakeInspect({ name: 'newcomer', ip: '172.17.0.9' });
  fake.add(added, { announce: true });
  await waitFor(() => watcher.records().some((r) => r.name === 'newcomer') || undefined, 10_000, 'newcomer to appear');
  assert.equal(fake.count('inspect') - inspectsAfterSync, 1, 'create+start coalesced into one inspect of the new container only');
  assert.equal(fake.count('list'), 1, 'no re-list');
  assert.equal(snapshots.length, 2);
  assert.ok(watcher.stats.ignoredEvents >= 6);
  assert.ok(log.lines.some((l) => l.msg === 'container appeared' && l.obj['container'] === 'newcomer'), 'log line names the container');

  fake.containers.get(added.Id)!.inspect.State.Status = 'exited';
  fake.emit('container', 'die', added.Id);
  await waitFor(() => watcher.records().find((r) => r.name === 'newcomer')?.state === 'exited' || undefined, 10_000, 'exited state');

  fake.remove(added.Id, { announce: true });
  await waitFor(() => !watcher.records().some((r) => r.name === 'newcomer') || undefined, 10_000, 'newcomer to go');
  assert.ok(log.lines.some((l) => l.msg === 'container removed' && l.obj['container'] === 'newcomer'));

  // An event that changes nothing publishes nothing.
  const before = snapshots.length;
  fake.emit('container', 'update', existing.Id);
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(snapshots.length, before);
});

test('a burst of events is coalesced: fewer inspects and snapshots than events', async (t) => {
  const { fake, watcher, snapshots } = await setup(t, { coalesceMs: 40 });
  watcher.start();
  await watcher.whenSynced();
  const ids: string[] = [];
  for (let i = 0; i < 10; i++) {
    const c = fakeInspect({ name: `burst-${i}` });
    ids.push(c.Id);
    fake.add(c, { announce: true }); // create + start each
  }
  for (const id of ids) fake.emit('container', 'health_status: healthy', id);
  await waitFor(() => watcher.records().length === 10 || undefined, 10_000, 'all ten');
  await new Promise((r) => setTimeout(r, 100));
  const events = 30;
  assert.ok(snapshots.length - 1 < events / 3, `snapshots ${snapshots.length - 1} for ${events} events`);
  assert.ok(fake.count('inspect') <= 20, `inspects ${fake.count('inspect')} for ${events} events (each container at most twice)`);
});

test('stream EOF: records stay while away, reconnect at once, full resync picks up what changed', async (t) => {
  const { fake, watcher, snapshots, log } = await setup(t, { backoffInitialMs: 100 });
  const keep = fakeInspect({ name: 'keep' });
  const goes = fakeInspect({ name: 'goes' });
  fake.add(keep);
  fake.add(goes);
  watcher.start();
  await watcher.whenSynced();
  const held = watcher.records();

  // Docker goes away: the stream ends and new subscriptions fail for a while.
  fake.fault('events', { status: 500, message: 'engine restarting', times: 2 });
  fake.endEvents();
  await waitFor(() => watcher.state === 'disconnected' || undefined, 10_000, 'disconnected');
  assert.equal(watcher.records(), held, 'the last good snapshot stays in place');
  assert.ok(log.lines.some((l) => l.level === 'error' && /Docker/.test(l.msg)), 'said loudly');

  // Changes while away (no events seen for them).
  fake.remove(goes.Id);
  fake.add(fakeInspect({ name: 'arrived' }));
  await waitFor(() => watcher.state === 'synced' || undefined, 10_000, 'resynced');
  assert.deepEqual(names(watcher.records()), ['arrived', 'keep']);
  assert.equal(watcher.records()[1], held.find((r) => r.name === 'keep'), 'an unchanged container keeps its record object');
  assert.equal(fake.count('list'), 2, 'one full list per successful session');
  assert.equal(watcher.status().reconnects, 3, 'immediate attempt + two failing ones');
  assert.equal(watcher.status().lastError?.code, 'DOCKER_SERVER_ERROR');
  assert.ok(snapshots.length >= 2);
  assert.equal(fake.openEventStreams(), 1, 'exactly one live subscription');
});

test('a dropped socket reconnects and resyncs; events after it are seen', async (t) => {
  const { fake, watcher } = await setup(t);
  fake.add(fakeInspect({ name: 'one' }));
  watcher.start();
  await watcher.whenSynced();
  const before = watcher.records();
  fake.dropEvents();
  await waitFor(() => (fake.count('list') === 2 && watcher.state === 'synced') || undefined, 10_000, 'resync after drop');
  assert.equal(watcher.records(), before, 'a resync that found no change keeps the same snapshot');
  fake.add(fakeInspect({ name: 'two' }), { announce: true });
  await waitFor(() => watcher.records().length === 2 || undefined, 10_000, 'event on the new stream');
});

test('500 on list: backoff, then recover; nothing known meanwhile is not an error for callers', async (t) => {
  const { fake, watcher } = await setup(t, { random: () => 1 });
  fake.add(fakeInspect({ name: 'late' }));
  fake.fault('list', { status: 500, times: 3 });
  watcher.start();
  await waitFor(() => watcher.status().lastError?.code === 'DOCKER_SERVER_ERROR' || undefined, 10_000, 'first failure');
  assert.deepEqual(watcher.records(), []);
  assert.equal(watcher.secondsSinceLastSync(), Infinity);
  await watcher.whenSynced();
  assert.deepEqual(names(watcher.records()), ['late']);
  assert.equal(fake.count('list'), 4);
  assert.equal(fake.count('events'), 4, 'every attempt subscribes first');
});

test('backoff: at once, then doubling steps with jitter between half and all of each, capped', async (t) => {
  for (const [jitter, expected] of [[1, [20, 40, 80, 100, 100]], [0, [10, 20, 40, 50, 50]], [0.5, [15, 30, 60, 75, 75]]] as const) {
    const { fake, watcher, log } = await setup(t, { random: () => jitter, backoffInitialMs: 20, backoffMaxMs: 100 });
    fake.fault('list', { status: 500, times: 6 });
    watcher.start();
    await watcher.whenSynced();
    const delays = log.lines.filter((l) => l.msg === 'reconnecting to Docker after backoff').map((l) => l.obj['retryInMs']);
    assert.deepEqual(delays, expected, `random() = ${jitter}: the first retry is immediate, then ${expected.join(', ')} ms`);
    assert.equal(fake.count('list'), 7);
    await watcher.stop();
  }
});

test('a hanging inspect times out; the watcher keeps going and retries that container', async (t) => {
  const { fake, watcher, log } = await setup(t, { callTimeoutMs: 150 });
  watcher.start();
  await watcher.whenSynced();
  fake.fault('inspect', { hang: true, times: 1 });
  const slow = fakeInspect({ name: 'slow' });
  fake.add(slow, { announce: true });
  await waitFor(() => watcher.records().some((r) => r.name === 'slow') || undefined, 10_000, 'slow container after retry');
  assert.ok(log.lines.some((l) => l.level === 'warn' && l.obj['code'] === 'DOCKER_TIMEOUT' && l.obj['containerId'] === slow.Id));
  assert.equal(watcher.state, 'synced', 'a bad inspect does not end the session');
  fake.add(fakeInspect({ name: 'after' }), { announce: true });
  await waitFor(() => watcher.records().some((r) => r.name === 'after') || undefined, 10_000, 'later events still processed');
});

test('a hanging inspect during the full sync keeps the previously known record', async (t) => {
  // No retries: what we see after the resync is what the full sync itself published.
  const { fake, watcher, log } = await setup(t, { callTimeoutMs: 150, inspectRetries: 0 });
  const c = fakeInspect({ name: 'known' });
  fake.add(c);
  watcher.start();
  await watcher.whenSynced();
  fake.fault('inspect', { hang: true, times: 1 });
  fake.endEvents();
  await waitFor(() => fake.count('list') === 2 || undefined, 10_000, 'resync');
  await waitFor(() => watcher.state === 'synced' || undefined, 10_000, 'synced again');
  assert.deepEqual(names(watcher.records()), ['known']);
  assert.equal(watcher.records()[0]?.id, c.Id);
  assert.ok(log.lines.some((l) => l.level === 'error' && l.obj['container'] === 'known' && /keeps failing/.test(l.msg)), 'gives up loudly, naming the container');
});

test('a silent dead stream is caught by the liveness ping', async (t) => {
  const { fake, watcher } = await setup(t, { pingIntervalMs: 40, callTimeoutMs: 100 });
  watcher.start();
  await watcher.whenSynced();
  const before = watcher.lastSyncAt!;
  await waitFor(() => (watcher.lastSyncAt! > before) || undefined, 10_000, 'ping refreshes lastSyncAt');
  fake.fault('ping', { hang: true, times: 1 });
  await waitFor(() => fake.count('events') >= 2 || undefined, 10_000, 'resubscribe after failed ping');
  assert.equal(watcher.status().lastError?.code, 'DOCKER_TIMEOUT');
});

test('unreachable from the start: no crash, loud error, stop() ends the backoff at once', async () => {
  const log = recorder();
  // A backoff of 60-120 s: a stop that waited it out would take a minute, a slow machine seconds.
  const watcher = new DockerWatcher({ host: 'unix:///nonexistent/bellhop-docker.sock', logger: log, backoffInitialMs: 120_000, backoffMaxMs: 120_000 });
  watcher.start();
  watcher.start(); // idempotent
  await waitFor(() => watcher.status().lastError || undefined, 10_000, 'first failure');
  assert.equal(watcher.status().lastError?.code, 'DOCKER_UNREACHABLE');
  assert.ok(log.lines.some((l) => l.level === 'error' && /unreachable/.test(l.msg)));
  await waitFor(() => log.lines.find((l) => l.msg === 'reconnecting to Docker after backoff'), 10_000, 'backoff');
  // Deadline, not a figure: a stop that waited out the 120 s backoff never wins this race.
  let deadline: NodeJS.Timeout | undefined;
  const stopped = await Promise.race([
    watcher.stop().then(() => true),
    new Promise<false>((r) => { deadline = setTimeout(() => r(false), 90_000); }),
  ]);
  clearTimeout(deadline);
  assert.equal(stopped, true, 'stop does not wait out the backoff');
  assert.equal(watcher.state, 'stopped');
  await watcher.whenSynced(); // resolves once stopped
});

test('a throwing onChange listener is logged, not fatal', async (t) => {
  const { fake, watcher, log } = await setup(t, {
    onChange: () => {
      throw new Error('listener bug');
    },
  });
  fake.add(fakeInspect({ name: 'x' }));
  watcher.start();
  await watcher.whenSynced();
  assert.ok(log.lines.some((l) => l.msg === 'Docker snapshot listener threw'));
  fake.add(fakeInspect({ name: 'y' }), { announce: true });
  await waitFor(() => watcher.records().length === 2 || undefined, 10_000, 'still watching');
});

test('the fake answers with and without the /v1.xx prefix dockerode may add', async (t) => {
  const fake = await startFakeDockerApi();
  t.after(() => fake.close());
  fake.add(fakeInspect({ name: 'v' }));
  const docker = new Docker({ socketPath: fake.socketPath, version: 'v1.41' });
  const watcher = new DockerWatcher({ host: fake.dockerHost, docker });
  t.after(() => watcher.stop());
  watcher.start();
  await watcher.whenSynced();
  assert.deepEqual(names(watcher.records()), ['v']);
  assert.ok(fake.requests.includes('GET /containers/json'));
  assert.ok(fake.rawPaths.some((p) => p.startsWith('/v1.41/containers/json')), fake.rawPaths.join(' '));
});

test('DockerHub merges several hosts, keys by host+id, one onChange', async (t) => {
  const a = await startFakeDockerApi();
  const b = await startFakeDockerApi();
  const same = fakeInspect({ name: 'web' });
  a.add(same);
  b.add({ ...same }); // same container ID on another host must stay distinct
  b.add(fakeInspect({ name: 'db' }));
  const merged: Array<readonly ContainerRecord[]> = [];
  const hub = new DockerHub({ hosts: [a.dockerHost, b.dockerHost, a.dockerHost], onChange: (r) => merged.push(r), coalesceMs: 10 });
  t.after(async () => {
    await hub.stop();
    await a.close();
    await b.close();
  });
  assert.equal(hub.watchers().length, 2, 'duplicate hosts ignored');
  hub.start();
  await hub.whenSynced();
  assert.equal(hub.records().length, 3);
  assert.equal(new Set(hub.records().map(recordKey)).size, 3);
  assert.deepEqual(hub.records().map((r) => `${r.dockerHost === a.dockerHost ? 'a' : 'b'}:${r.name}`), ['a:web', 'b:db', 'b:web']);
  assert.equal(merged.at(-1), hub.records());
  assert.deepEqual(hub.status().map((s) => s.state), ['synced', 'synced']);
  assert.ok(hub.secondsSinceLastSync() < 5);

  b.add(fakeInspect({ name: 'cache' }), { announce: true });
  await waitFor(() => hub.records().length === 4 || undefined, 10_000, 'event on host b');

  const control = hub.control(a.dockerHost);
  assert.ok(control);
  assert.equal(hub.control('tcp://nowhere:2375'), undefined);
  await control.stop(same.Id, { timeoutSec: 1 });
  await waitFor(() => hub.records().find((r) => r.dockerHost === a.dockerHost && r.name === 'web')?.state === 'exited' || undefined, 10_000, 'stop seen through events');
  assert.equal(hub.records().find((r) => r.dockerHost === b.dockerHost && r.name === 'web')?.state, 'running', 'other host untouched');
});

test('DockerHub with no hosts watches nothing; bad host strings throw at construction', async () => {
  const hub = new DockerHub({ hosts: [] });
  assert.deepEqual(hub.watchers(), []);
  hub.start();
  await hub.whenSynced();
  assert.deepEqual(hub.records(), []);
  assert.equal(hub.secondsSinceLastSync(), 0);
  await hub.stop();
  assert.throws(() => new DockerHub({ hosts: ['ftp://x'] }), /unsupported scheme/);
});

test('tcp:// hosts work and their records carry the remote address', async (t) => {
  const fake = await startFakeDockerApi();
  // A TCP front for the fake's unix socket, like a socket proxy on another machine.
  const front = createServer((client) => {
    const upstream = createConnection(fake.socketPath);
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  const port = (front.address() as AddressInfo).port;
  const hub = new DockerHub({ hosts: [`tcp://127.0.0.1:${port}`] });
  t.after(async () => {
    await hub.stop();
    await new Promise((r) => front.close(r));
    await fake.close();
  });
  fake.add(fakeInspect({ name: 'remote-app' }));
  hub.start();
  await hub.whenSynced();
  const rec = hub.records()[0];
  assert.equal(rec?.name, 'remote-app');
  assert.equal(rec?.dockerHost, `tcp://127.0.0.1:${port}`);
  assert.equal(rec?.remoteAddress, '127.0.0.1');
  assert.equal((await hub.control(`tcp://127.0.0.1:${port}`)!.inspect(rec.id)).remoteAddress, '127.0.0.1');
});

test('an inspect retry never commits over a newer event: retries join the event queue', async (t) => {
  const { PassThrough } = await import('node:stream');
  const ID = 'a'.repeat(64);
  let state: 'running' | 'exited' = 'running';
  let calls = 0;
  const events = new PassThrough();
  const docker = {
    getEvents: () => Promise.resolve(events),
    listContainers: () => Promise.resolve([{ Id: ID }]),
    ping: () => Promise.resolve('OK'),
    getContainer: (id: string) => ({
      inspect: async () => {
        const n = ++calls;
        const seen = state; // what the engine says at the moment it is asked
        if (n === 1) throw Object.assign(new Error('server error'), { statusCode: 500, json: { message: 'busy' } });
        if (n === 2) await new Promise((r) => setTimeout(r, 300)); // the retry answers slowly
        return fakeInspect({ id, name: 'app', state: seen });
      },
    }),
  };
  const watcher = new DockerWatcher({ docker: docker as unknown as Docker, backoffInitialMs: 100, coalesceMs: 20, pingIntervalMs: 0, callTimeoutMs: 2000, logger: recorder() });
  t.after(() => watcher.stop());
  watcher.start();
  await waitFor(() => (calls >= 2 ? true : undefined), 10_000, 'the retry to be in progress');
  state = 'exited';
  events.write(`${JSON.stringify({ Type: 'container', Action: 'die', Actor: { ID, Attributes: {} }, time: 1 })}\n`);
  await waitFor(() => (calls >= 3 && watcher.records()[0]?.state === 'exited' ? true : undefined), 10_000, 'the die to be applied');
  await new Promise((r) => setTimeout(r, 400)); // the slow retry has long answered by now
  assert.equal(watcher.records()[0]?.state, 'exited', 'the stale retry result did not overwrite the newer one');
});

test('a slow inspect does not hold back the next event about another container: inspected and applied at once', async (t) => {
  const { PassThrough } = await import('node:stream');
  const A = 'a'.repeat(64);
  const B = 'b'.repeat(64);
  const events = new PassThrough();
  const live = new Set<string>();
  let releaseA: () => void = () => undefined;
  const asked: string[] = [];
  const docker = {
    getEvents: () => Promise.resolve(events),
    listContainers: () => Promise.resolve([...live].map((Id) => ({ Id }))),
    ping: () => Promise.resolve('OK'),
    getContainer: (id: string) => ({
      inspect: async () => {
        asked.push(id === A ? 'A' : 'B');
        if (id === A) await new Promise<void>((r) => (releaseA = r)); // the engine is slow on A
        return fakeInspect({ id, name: id === A ? 'slow' : 'quick' });
      },
    }),
  };
  const changes: string[][] = [];
  const watcher = new DockerWatcher({ docker: docker as unknown as Docker, coalesceMs: 10, pingIntervalMs: 0, callTimeoutMs: 30_000, logger: recorder(), onChange: (r) => changes.push(r.map((x) => x.name)) });
  t.after(() => watcher.stop());
  watcher.start();
  await watcher.whenSynced();
  changes.length = 0; // the (empty) first sync
  const emit = (id: string) => events.write(`${JSON.stringify({ Type: 'container', Action: 'start', Actor: { ID: id, Attributes: {} }, time: 1 })}\n`);
  live.add(A);
  emit(A);
  await waitFor(() => (asked.includes('A') ? true : undefined), 10_000, 'A to be inspected');
  live.add(B);
  emit(B);
  await waitFor(() => (watcher.records().some((r) => r.name === 'quick') ? true : undefined), 10_000, 'B applied while A is still being inspected');
  assert.deepEqual(changes, [['quick']]);
  releaseA();
  await waitFor(() => (watcher.records().length === 2 ? true : undefined), 10_000, 'A applied when its answer came');
  assert.deepEqual(changes, [['quick'], ['quick', 'slow']]);
});

test('answers about one container that come back out of order: the latest inspect sent wins', async (t) => {
  const { PassThrough } = await import('node:stream');
  const ID = 'c'.repeat(64);
  const events = new PassThrough();
  let state: 'running' | 'exited' = 'running';
  let calls = 0;
  let releaseFirst: () => void = () => undefined;
  const docker = {
    getEvents: () => Promise.resolve(events),
    listContainers: () => Promise.resolve([]),
    ping: () => Promise.resolve('OK'),
    getContainer: (id: string) => ({
      inspect: async () => {
        const n = ++calls;
        const seen = state; // what the engine says at the moment it is asked
        if (n === 1) await new Promise<void>((r) => (releaseFirst = r)); // answered last
        return fakeInspect({ id, name: 'app', state: seen });
      },
    }),
  };
  const watcher = new DockerWatcher({ docker: docker as unknown as Docker, coalesceMs: 10, pingIntervalMs: 0, callTimeoutMs: 30_000, logger: recorder() });
  t.after(() => watcher.stop());
  watcher.start();
  await watcher.whenSynced();
  const emit = (action: string) => events.write(`${JSON.stringify({ Type: 'container', Action: action, Actor: { ID, Attributes: {} }, time: 1 })}\n`);
  emit('start');
  await waitFor(() => (calls === 1 ? true : undefined), 10_000, 'the first inspect to be sent');
  state = 'exited';
  emit('die');
  await waitFor(() => (watcher.records()[0]?.state === 'exited' ? true : undefined), 10_000, 'the second answer applied');
  releaseFirst();
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(watcher.records()[0]?.state, 'exited', 'the older answer, come late, was dropped');
  assert.equal(calls, 2);
});
