import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isSwarmManager, taskName, toSwarmRecords, type SwarmServiceJson, type SwarmTaskJson } from './swarm-records.ts';

// Captured from a single-node swarm on Docker 27 (GET /services, GET /tasks with
// desired-state=running, GET /info): `fx-web` (2 replicas on the attachable overlay `fx-net`,
// port 80 published through the ingress mesh, stack namespace fx) and `fx-idle` (0 replicas).
function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./fixtures/swarm-${name}.json`, import.meta.url), 'utf8')) as T;
}
const services = fixture<SwarmServiceJson[]>('services');
const tasks = fixture<SwarmTaskJson[]>('tasks');
const LOCAL = 'unix:///var/run/docker.sock';

test('each running task of a service is one record named <service>.<slot>, with the service labels', () => {
  const records = toSwarmRecords(services, tasks, LOCAL);
  const web = records.filter((r) => r.composeService === 'fx-web');
  assert.deepEqual(web.map((r) => r.name), ['fx-web.1', 'fx-web.2']);
  assert.deepEqual(web.map((r) => r.id), ['q9x1rxe8h9c9y4tncavbtgpi6', 'oyvzoffr2425ne2zeyjlwoefw'], 'members are keyed by task ID');
  for (const r of web) {
    assert.deepEqual(r.labels, { 'com.docker.stack.namespace': 'fx', 'proxy.aliases': 'web', 'proxy.web.port': '80' });
    assert.equal(r.state, 'running');
    assert.equal(r.dockerHost, LOCAL);
    assert.equal(r.image, 'bellhop-test/busybox:1');
    assert.equal(r.composeProject, 'fx', 'the stack namespace is the project: the tasks share one pool');
    assert.deepEqual(r.exposedPorts, [80]);
    assert.deepEqual(r.publishedPorts, { 80: 18099 });
    assert.equal(r.networkMode, 'swarm');
    assert.deepEqual(r.composeDependsOn, []);
  }
  assert.deepEqual(web.map((r) => r.composeReplica), [1, 2]);
  assert.equal(web[0]?.createdAt, Date.parse('2026-12-05T14:01:11.207438009Z'));
});

test('task addresses: the overlay address without its prefix length, never the ingress mesh', () => {
  const [one, two] = toSwarmRecords(services, tasks, LOCAL).filter((r) => r.composeService === 'fx-web');
  assert.deepEqual(one?.networks, [{ name: 'fx-net', ip: '10.0.1.3' }]);
  assert.deepEqual(two?.networks, [{ name: 'fx-net', ip: '10.0.1.4' }]);
});

test('a service with no running task keeps one address-less record (its route stays: 503 or hold, not 404)', () => {
  const idle = toSwarmRecords(services, tasks, LOCAL).filter((r) => r.composeService === 'fx-idle');
  assert.equal(idle.length, 1);
  assert.equal(idle[0]?.id, 'pgmkqv5nsdqzwkndfhxqcwqiq');
  assert.equal(idle[0]?.name, 'fx-idle');
  assert.equal(idle[0]?.state, 'exited');
  assert.deepEqual(idle[0]?.networks, []);
  assert.equal(idle[0]?.composeProject, '', 'outside a stack the project is empty (still one pool)');
  assert.deepEqual(idle[0]?.labels, { 'proxy.idle_timeout': '5m' });
});

test('tasks whose container does not run are not members; one being replaced serves until it stops', () => {
  const [t1, t2] = [tasks[0]!, tasks[1]!];
  const starting = { ...t2, Status: { State: 'starting' } };
  const stopped = { ...t1, DesiredState: 'shutdown', Status: { State: 'shutdown' } };
  const web = (ts: SwarmTaskJson[]): string[] => toSwarmRecords(services, ts, LOCAL).filter((r) => r.composeService === 'fx-web').map((r) => `${r.name} ${r.state}`);
  assert.deepEqual(web([stopped, starting]), ['fx-web exited'], 'no running task left: the service placeholder');
  assert.deepEqual(web([{ ...t1, DesiredState: 'shutdown' }, starting]), ['fx-web.2 running'], 'still running, being replaced: still a member');
  assert.deepEqual(web([{ ...t2, Status: { State: 'failed' } }, t1]), ['fx-web.2 running']);
});

test('a digest-pinned image is recorded by name; a global task is named by its node', () => {
  const pinned: SwarmServiceJson = { ID: 's1', Spec: { Name: 'g', TaskTemplate: { ContainerSpec: { Image: 'nginx:1@sha256:' + 'a'.repeat(64) } }, Mode: { Global: {} } } };
  const task: SwarmTaskJson = { ID: 't1', ServiceID: 's1', NodeID: 'node0123456789abcdef', DesiredState: 'running', Status: { State: 'running' } };
  const [r] = toSwarmRecords([pinned], [task], LOCAL);
  assert.equal(r?.image, 'nginx:1');
  assert.equal(r?.name, 'g.node01234567');
  assert.equal(taskName('g', { ID: 't2', Slot: 3 }), 'g.3');
});

test('never throws on sparse JSON: unnamed services are skipped, missing fields default', () => {
  const records = toSwarmRecords([{ ID: 'x' }, { ID: 'y', Spec: { Name: 'y', Labels: null, EndpointSpec: { Ports: null } } }], [{ ID: 't', ServiceID: 'y', Status: { State: 'running' }, NetworksAttachments: null }], 'tcp://10.0.0.5:2375', '10.0.0.5');
  assert.equal(records.length, 1);
  assert.equal(records[0]?.name, 'y.t', 'no slot, no node: named by the task ID');
  assert.equal(records[0]?.remoteAddress, '10.0.0.5');
  assert.deepEqual(records[0]?.networks, []);
  assert.deepEqual(records[0]?.labels, {});
});

test('only an active manager is asked for services', () => {
  assert.equal(isSwarmManager(fixture('info')), true);
  assert.equal(isSwarmManager({ Swarm: { LocalNodeState: 'active', ControlAvailable: false } }), false, 'a worker cannot list services');
  assert.equal(isSwarmManager({ Swarm: { LocalNodeState: 'inactive' } }), false);
  assert.equal(isSwarmManager({}), false);
  assert.equal(isSwarmManager(undefined), false);
});
