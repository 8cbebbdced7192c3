import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toSwarmRecords, type ContainerRecord } from '../docker/index.ts';
import { parseContainers, type ParseOptions } from '../labels/index.ts';
import { createServiceWakeControl, createWakeControl, type ContainerActions } from './wake-control.ts';
import { matchesLabelFilter } from './label-filter.ts';

const options: ParseOptions = {
  exposeAll: false,
  self: { networks: [] },
  defaults: { healthcheck: { useGet: false, intervalMs: 5000, timeoutMs: 5000, rise: 2, fall: 3, disable: false }, loadBalance: { mode: 'roundrobin', sticky: false, stickyMaxAgeMs: 0 } },
};

function record(name: string, networks: ContainerRecord['networks'], over: Partial<ContainerRecord> = {}): ContainerRecord {
  return {
    id: `id-${name}`,
    name,
    dockerHost: 'tcp://docker-a:2375',
    labels: { 'proxy.app.port': '80', 'proxy.api.port': '8080', 'proxy.idle_timeout': '15m', 'bellhop.instance': 'home' },
    image: 'example/app:1',
    createdAt: 1_000,
    state: 'exited',
    exitCode: 0,
    networkMode: 'bridge',
    networks,
    exposedPorts: [80, 8080],
    publishedPorts: {},
    composeDependsOn: [],
    ...over,
  };
}

/** One Docker host's control that records calls; inspect answers with `fresh`. */
function fakeHost(fresh: () => ContainerRecord) {
  const calls: unknown[][] = [];
  const control: ContainerActions = {
    start: (id) => (calls.push(['start', id]), Promise.resolve()),
    stop: (id, o) => (calls.push(['stop', id, o]), Promise.resolve()),
    kill: (id, s) => (calls.push(['kill', id, s]), Promise.resolve()),
    pause: (id) => (calls.push(['pause', id]), Promise.resolve()),
    unpause: (id) => (calls.push(['unpause', id]), Promise.resolve()),
    inspect: (id) => (calls.push(['inspect', id]), Promise.resolve(fresh())),
    logsTail: (id, n) => (calls.push(['logsTail', id, n]), Promise.resolve('last line\n')),
  };
  return { calls, control };
}

test('inspect after a start: the label parser\'s member URLs at the new address, by the member ids discovery uses', async () => {
  const stopped = record('app', [{ name: 'net', ip: '' }]);
  const host = fakeHost(() => record('app', [{ name: 'net', ip: '172.18.0.9' }], { state: 'running', dockerHealth: 'starting', exitCode: undefined }));
  const control = createWakeControl({ records: () => [stopped], control: (h) => (h === 'tcp://docker-a:2375' ? host.control : undefined), parseOptions: () => options });
  const ids = parseContainers([stopped], options).routes.flatMap((r) => r.members.map((m) => [r.name, m.id] as const));
  assert.equal(ids.length, 2);
  const got = await control.inspect('id-app');
  assert.deepEqual(got, {
    state: 'running',
    host: '172.18.0.9',
    urls: Object.fromEntries(ids.map(([route, id]) => [id, route === 'app' ? 'http://172.18.0.9:80' : 'http://172.18.0.9:8080'])),
    dockerHealth: 'starting',
    exitCode: undefined,
  });
  assert.deepEqual(host.calls, [['inspect', 'id-app']]);
});

test('inspect of a container still without an address: no urls, no host; an IPv6 address loses its brackets', async () => {
  let fresh = record('app', [{ name: 'net', ip: '' }], { exitCode: 137 });
  const host = fakeHost(() => fresh);
  const control = createWakeControl({ records: () => [fresh], control: () => host.control, parseOptions: () => options });
  assert.deepEqual(await control.inspect('id-app'), { state: 'exited', host: undefined, urls: {}, dockerHealth: undefined, exitCode: 137 });
  fresh = record('app', [{ name: 'net', ip: 'fd00::9' }], { state: 'running' });
  const got = await control.inspect('id-app');
  assert.equal(got.host, 'fd00::9');
  assert.ok(Object.values(got.urls ?? {}).includes('http://[fd00::9]:80'));
});

test('every action goes to the container\'s own Docker host; stop passes a signal only when there is one', async () => {
  const app = record('app', [{ name: 'net', ip: '' }]);
  const other = record('other', [{ name: 'net', ip: '' }], { dockerHost: 'tcp://docker-b:2375' });
  const a = fakeHost(() => app);
  const b = fakeHost(() => other);
  const control = createWakeControl({ records: () => [app, other], control: (h) => (h === 'tcp://docker-a:2375' ? a.control : b.control), parseOptions: () => options });
  await control.start('id-app');
  await control.stop('id-app', { timeoutSec: 30 });
  await control.stop('id-other', { timeoutSec: 5, signal: 'SIGINT' });
  await control.kill('id-other', 'SIGKILL');
  await control.pause('id-app');
  await control.unpause('id-app');
  assert.equal(await control.logsTail('id-other', 20), 'last line\n');
  assert.deepEqual(a.calls, [['start', 'id-app'], ['stop', 'id-app', { timeoutSec: 30 }], ['pause', 'id-app'], ['unpause', 'id-app']]);
  assert.deepEqual(b.calls, [['stop', 'id-other', { timeoutSec: 5, signal: 'SIGINT' }], ['kill', 'id-other', 'SIGKILL'], ['logsTail', 'id-other', 20]]);
});

test('a container Bellhop does not see (unknown, or left out by docker.label_filter) is never controlled', async () => {
  const mine = record('mine', [{ name: 'net', ip: '' }]);
  const theirs = record('theirs', [{ name: 'net', ip: '' }], { labels: { 'proxy.theirs.port': '80', 'bellhop.instance': 'work' } });
  const host = fakeHost(() => mine);
  const visible = () => [mine, theirs].filter((r) => matchesLabelFilter(r.labels, ['bellhop.instance=home']));
  const control = createWakeControl({ records: visible, control: () => host.control, parseOptions: () => options });
  assert.throws(() => control.start('id-theirs'), /container id-theirs is not known on any Docker host/);
  await assert.rejects(control.inspect('id-nobody'), /container id-nobody is not known on any Docker host/);
  const noHost = createWakeControl({ records: visible, control: () => undefined, parseOptions: () => options });
  assert.throws(() => noHost.start('id-mine'), /not known on any Docker host/);
  assert.deepEqual(host.calls, []);
});

test('the service variant: inspect maps a running task to the service\'s own member ids and its own; state follows replicas and tasks; calls go to the service\'s host', async () => {
  const labels = { 'proxy.aliases': 'web', 'proxy.web.port': '80', 'proxy.idle_timeout': '10m' };
  const service = { ID: 'svc1', Spec: { Name: 'web', Labels: labels, Mode: { Replicated: { Replicas: 0 } } } };
  const task = (id: string, slot: number, ip: string, state = 'running') => ({
    ID: id, ServiceID: 'svc1', Slot: slot, DesiredState: 'running', Status: { State: state },
    NetworksAttachments: [{ Network: { Spec: { Name: 'overlay-net' } }, Addresses: [`${ip}/24`] }],
  });
  let tasks: ReturnType<typeof task>[] = [];
  const calls: string[] = [];
  const actions = {
    scaleUp: (id: string) => (calls.push(`up ${id}`), Promise.resolve()),
    scaleDown: (id: string, o: { waitMs: number }) => (calls.push(`down ${id} ${String(o.waitMs)}`), Promise.resolve()),
    inspect: (id: string) => (calls.push(`inspect ${id}`), Promise.resolve({ service, tasks })),
    logsTail: (id: string, n: number) => (calls.push(`logs ${id} ${String(n)}`), Promise.resolve('log\n')),
  };
  // Asleep: discovery lists the service's address-less record.
  const records = toSwarmRecords([service], [], 'tcp://manager:2375');
  const control = createServiceWakeControl({ records: () => records, control: (h) => (h === 'tcp://manager:2375' ? actions : undefined), parseOptions: () => ({ ...options, self: { networks: ['overlay-net'] } }) });
  assert.deepEqual(await control.inspect('svc1'), { state: 'exited', urls: {} });
  service.Spec.Mode.Replicated.Replicas = 2;
  tasks = [task('t2', 2, '10.0.1.5', 'starting')];
  assert.equal((await control.inspect('svc1')).state, 'created', 'replicas wanted, none running yet');
  tasks = [task('t1', 1, '10.0.1.4'), task('t2', 2, '10.0.1.5')];
  const awake = await control.inspect('svc1');
  assert.equal(awake.state, 'running');
  assert.equal(awake.host, undefined, 'every task has its own address');
  assert.deepEqual(awake.urls, { svc1: 'http://10.0.1.4:80', t1: 'http://10.0.1.4:80', t2: 'http://10.0.1.5:80' });
  await control.scaleUp('svc1');
  await control.scaleDown('svc1', { waitMs: 7 });
  assert.equal(await control.logsTail('svc1', 5), 'log\n');
  assert.deepEqual(calls.filter((c) => !c.startsWith('inspect')), ['up svc1', 'down svc1 7', 'logs svc1 5']);
  await assert.rejects(control.scaleUp('other'), /not known on any Docker host/);
});
