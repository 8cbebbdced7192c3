import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type Docker from 'dockerode';
import { parseComposeDependsOn, toContainerRecord } from './to-container-record.ts';

// Captured from `docker inspect` on Docker 27 (API 1.41); see fixtures/.
function fixture(name: string): Docker.ContainerInspectInfo {
  return JSON.parse(readFileSync(new URL(`./fixtures/inspect-${name}.json`, import.meta.url), 'utf8')) as Docker.ContainerInspectInfo;
}

const LOCAL = 'unix:///var/run/docker.sock';

test('a paused bridge container with a healthcheck, extra exposed ports and a published port', () => {
  const r = toContainerRecord(fixture('fixture-web'), LOCAL);
  assert.match(r.id, /^7b7021f5de50[0-9a-f]{52}$/);
  assert.equal(r.name, 'fixture-web');
  assert.equal(r.dockerHost, LOCAL);
  assert.equal(r.remoteAddress, undefined);
  assert.deepEqual(r.labels, { 'bellhop.test': 'true', 'proxy.aliases': 'web' });
  assert.equal(r.image, 'bellhop-test/busybox:1');
  assert.equal(r.createdAt, Date.parse('2026-11-22T02:54:55.197Z'));
  assert.equal(r.state, 'paused');
  assert.equal(r.dockerHealth, 'unhealthy');
  assert.equal(r.networkMode, 'bridge', "'default' is recorded as bridge");
  assert.deepEqual(r.networks, [{ name: 'bridge', ip: '172.17.0.2' }]);
  assert.deepEqual(r.exposedPorts, [80, 443], 'udp 53 is not a TCP port');
  assert.deepEqual(r.publishedPorts, { 80: 18080 });
  assert.equal(r.composeProject, undefined);
  assert.equal(r.composeReplica, undefined);
  assert.deepEqual(r.composeDependsOn, []);
});

test('a compose container on two networks', () => {
  const r = toContainerRecord(fixture('app_web_2'), 'tcp://10.0.0.5:2375', '10.0.0.5');
  assert.equal(r.name, 'app_web_2');
  assert.equal(r.remoteAddress, '10.0.0.5');
  assert.equal(r.state, 'running');
  assert.equal(r.dockerHealth, undefined, 'no HEALTHCHECK');
  assert.equal(r.networkMode, 'bellhop-fixture-net');
  assert.deepEqual(r.networks.map((n) => n.name), ['bellhop-fixture-net', 'bridge'], 'sorted by name');
  for (const n of r.networks) assert.match(n.ip, /^172\.\d+\.\d+\.\d+$/);
  assert.equal(r.composeProject, 'app');
  assert.equal(r.composeService, 'web');
  assert.equal(r.composeReplica, 2);
  assert.deepEqual(r.composeDependsOn, ['db', 'cache']);
  assert.deepEqual(r.exposedPorts, [], 'the image exposes nothing');
  assert.deepEqual(r.publishedPorts, {});
});

test('host network mode, created and exited containers', () => {
  const host = toContainerRecord(fixture('fixture-host'), LOCAL);
  assert.equal(host.networkMode, 'host');
  assert.deepEqual(host.networks, [{ name: 'host', ip: '' }]);
  assert.equal(host.state, 'running');

  const created = toContainerRecord(fixture('fixture-created'), LOCAL);
  assert.equal(created.state, 'created');
  assert.deepEqual(created.networks, [{ name: 'bridge', ip: '' }]);

  const exited = toContainerRecord(fixture('fixture-exited'), LOCAL);
  assert.equal(exited.state, 'exited');
  assert.equal(exited.networks[0]?.ip, '');
});

test('published ports fall back to HostConfig.PortBindings once stopped; random and UDP bindings ignored', () => {
  const info = fixture('fixture-exited');
  info.NetworkSettings.Ports = {};
  (info.HostConfig as { PortBindings: unknown }).PortBindings = {
    '8080/tcp': [{ HostIp: '', HostPort: '18081' }],
    '9090/tcp': [{ HostIp: '', HostPort: '' }],
    '53/udp': [{ HostIp: '', HostPort: '5353' }],
  };
  assert.deepEqual(toContainerRecord(info, LOCAL).publishedPorts, { 8080: 18081 });
});

test('missing fields never throw and give safe defaults', () => {
  const bare = { Id: 'abc', Name: '/x' } as unknown as Docker.ContainerInspectInfo;
  const r = toContainerRecord(bare, LOCAL);
  assert.equal(r.name, 'x');
  assert.equal(r.state, 'unknown');
  assert.equal(r.createdAt, 0);
  assert.equal(r.networkMode, 'bridge');
  assert.deepEqual(r.networks, []);
  assert.deepEqual(r.exposedPorts, []);
  assert.deepEqual(r.labels, {});
  assert.equal(r.image, '');
});

test('old engines without State.Status: state derived from the booleans; health none is no health', () => {
  const base = { Id: 'abc', Name: '/x' };
  const mk = (State: object) => toContainerRecord({ ...base, State } as unknown as Docker.ContainerInspectInfo, LOCAL);
  assert.equal(mk({ Running: true }).state, 'running');
  assert.equal(mk({ Running: true, Paused: true }).state, 'paused');
  assert.equal(mk({ Restarting: true }).state, 'restarting');
  assert.equal(mk({ Dead: true }).state, 'dead');
  assert.equal(mk({}).state, 'exited');
  assert.equal(mk({ Status: 'running', Health: { Status: 'none' } }).dockerHealth, undefined);
  assert.equal(mk({ Status: 'running', Health: { Status: 'starting' } }).dockerHealth, 'starting');
});

test('exposed ports: ascending, deduplicated, bare numbers are TCP, junk ignored', () => {
  const info = { Id: 'a', Name: '/a', Config: { ExposedPorts: { '8080/tcp': {}, '80': {}, '443/tcp': {}, '70000/tcp': {}, 'abc/tcp': {}, '53/sctp': {} } } };
  assert.deepEqual(toContainerRecord(info as unknown as Docker.ContainerInspectInfo, LOCAL).exposedPorts, [80, 443, 8080]);
});

test('UDP ports apart: exposed, bound and requested /udp keys, ascending, deduplicated', () => {
  const info = {
    Id: 'a', Name: '/a',
    Config: { ExposedPorts: { '53/udp': {}, '80/tcp': {}, '70000/udp': {} } },
    NetworkSettings: { Ports: { '27015/udp': [{ HostIp: '0.0.0.0', HostPort: '27015' }], '53/udp': null } },
    HostConfig: { PortBindings: { '5353/udp': [{ HostPort: '5353' }] } },
  };
  const r = toContainerRecord(info as unknown as Docker.ContainerInspectInfo, LOCAL);
  assert.deepEqual(r.udpPorts, [53, 5353, 27015]);
  assert.deepEqual(r.exposedPorts, [80]);
});

test('compose replica must be a number', () => {
  const mk = (n: string) => toContainerRecord({ Id: 'a', Name: '/a', Config: { Labels: { 'com.docker.compose.container-number': n } } } as unknown as Docker.ContainerInspectInfo, LOCAL).composeReplica;
  assert.equal(mk('3'), 3);
  assert.equal(mk('x'), undefined);
  assert.equal(mk(''), undefined);
});

test('parseComposeDependsOn handles every compose format', () => {
  assert.deepEqual(parseComposeDependsOn(undefined), []);
  assert.deepEqual(parseComposeDependsOn(''), []);
  assert.deepEqual(parseComposeDependsOn('db:service_healthy:false'), ['db']);
  assert.deepEqual(parseComposeDependsOn('db:service_healthy:false,cache:service_started:true'), ['db', 'cache']);
  assert.deepEqual(parseComposeDependsOn('db:service_started'), ['db'], 'older compose: no restart flag');
  assert.deepEqual(parseComposeDependsOn('db, cache ,db,,'), ['db', 'cache'], 'trimmed, deduplicated, empties dropped');
});
