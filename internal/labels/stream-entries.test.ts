// Stream aliases from labels (docs/streams.md), with GoDoxy's expectation beside each case
// (GoDoxy: internal/route/port.go, routevalidate/finalize.go).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { container, options, replica } from '../../test/fixtures/labels/containers.ts';
import { parseContainers } from './index.ts';
import type { LabelledContainer, ParseResult } from './index.ts';

function parse(list: LabelledContainer[]): ParseResult {
  return parseContainers(list, options());
}

test('Gitea: an HTTP alias on 3000 and an SSH stream "2222:22" with no scheme (GoDoxy: a listening port means tcp)', () => {
  const r = parse([container({ name: 'gitea', exposedPorts: [22, 3000], labels: { 'proxy.aliases': 'gitea, gitea-ssh', 'proxy.gitea.port': '3000', 'proxy.gitea-ssh.port': '2222:22' } })]);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.routes.map((x) => [x.name, x.members[0]?.url]), [['gitea', 'http://172.18.0.5:3000']]);
  assert.equal(r.streams.length, 1);
  const s = r.streams[0]!;
  assert.equal(s.name, 'gitea-ssh');
  assert.deepEqual(s.stream, { protocol: 'tcp', port: 2222 });
  assert.equal(s.members[0]?.url, 'tcp://172.18.0.5:22');
  assert.equal(s.members[0]?.id, 'id-gitea:22/tcp', 'a stream member has its own id');
  assert.equal(s.members[0]?.healthcheck.disable, false, 'TCP streams get the TCP connect check');
});

test('scheme udp with "53:53": a UDP stream, health checks off (no connect to check); tcp and udp on one port are two routes', () => {
  const r = parse([container({ name: 'dns', exposedPorts: [53], labels: { 'proxy.aliases': 'dns-udp, dns-tcp', 'proxy.dns-udp.scheme': 'udp', 'proxy.dns-udp.port': '53:53', 'proxy.dns-tcp.scheme': 'tcp', 'proxy.dns-tcp.port': '53:53' } })]);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.streams.map((x) => [x.name, x.stream.protocol, x.stream.port, x.members[0]?.url, x.members[0]?.id]), [
    ['dns-tcp', 'tcp', 53, 'tcp://172.18.0.5:53', 'id-dns:53/tcp'],
    ['dns-udp', 'udp', 53, 'udp://172.18.0.5:53', 'id-dns:53/udp'],
  ]);
  assert.equal(r.streams[1]?.members[0]?.healthcheck.disable, true);
});

test('scheme tcp with a bare port listens on any free port, with a warning (GoDoxy: listening port 0)', () => {
  const r = parse([container({ name: 'mc', exposedPorts: [25565], labels: { 'proxy.mc.scheme': 'tcp' } })]);
  assert.deepEqual(r.streams.map((x) => x.stream), [{ protocol: 'tcp', port: 0 }]);
  assert.equal(r.streams[0]?.members[0]?.url, 'tcp://172.18.0.5:25565');
  assert.deepEqual(r.warnings.map((w) => w.code), ['LABEL_STREAM_ANY_PORT']);
});

test('bind sets the listening address of a stream; on an HTTP alias it is ignored with a warning', () => {
  const r = parse([container({ name: 'ssh', exposedPorts: [22], labels: { 'proxy.ssh.port': '2222:22', 'proxy.ssh.bind': '127.0.0.1' } })]);
  assert.deepEqual(r.streams[0]?.stream, { protocol: 'tcp', port: 2222, bind: '127.0.0.1' });
  const h = parse([container({ name: 'web', labels: { 'proxy.web.bind': '127.0.0.1' } })]);
  assert.deepEqual(h.warnings.map((w) => w.code), ['LABEL_FIELD_NOT_APPLICABLE']);
  assert.equal(h.routes.length, 1);
  const bad = parse([container({ name: 'ssh', labels: { 'proxy.ssh.port': '2222:22', 'proxy.ssh.bind': 'localhost' } })]);
  assert.deepEqual(bad.errors.map((e) => e.code), ['LABEL_BAD_HOST']);
});

test('replicas of one compose service form one stream pool on one listener; load_balance.mode applies', () => {
  const labels = { 'proxy.aliases': 'ssh', 'proxy.ssh.port': '2222:22', 'proxy.ssh.load_balance.mode': 'least_conn' };
  const r = parse([replica('p', 'git', 1, { exposedPorts: [22], labels }), replica('p', 'git', 2, { exposedPorts: [22], labels })]);
  assert.deepEqual(r.errors, []);
  assert.equal(r.streams.length, 1);
  assert.equal(r.streams[0]?.loadBalance.mode, 'leastconn');
  assert.deepEqual(r.streams[0]?.members.map((m) => m.url), ['tcp://172.20.0.11:22', 'tcp://172.20.0.12:22']);
});

test('two stream routes on one port: the oldest keeps it, the other is an error; different protocols do not clash', () => {
  const r = parse([
    container({ name: 'old', createdAt: 1, exposedPorts: [22], labels: { 'proxy.a.port': '2222:22' } }),
    container({ name: 'new', createdAt: 2, exposedPorts: [22], labels: { 'proxy.b.port': '2222:22' } }),
    container({ name: 'udp', createdAt: 3, exposedPorts: [22], labels: { 'proxy.c.port': '2222:22', 'proxy.c.scheme': 'udp' } }),
  ]);
  assert.deepEqual(r.streams.map((x) => x.name), ['a', 'c']);
  assert.deepEqual(r.errors.map((e) => [e.code, e.source]), [['LABEL_STREAM_PORT_CONFLICT', 'new']]);
  assert.match(r.errors[0]!.message, /already used by stream "a"/);
});

test('members of a linked stream pool that disagree on the listening port are left out', () => {
  const r = parse([
    container({ name: 'one', createdAt: 1, exposedPorts: [22], labels: { 'proxy.x.port': '2222:22', 'proxy.x.load_balance.link': 'ssh' } }),
    container({ name: 'two', createdAt: 2, exposedPorts: [22], labels: { 'proxy.y.port': '2223:22', 'proxy.y.load_balance.link': 'ssh' } }),
  ]);
  assert.deepEqual(r.streams[0]?.members.map((m) => m.name), ['one']);
  assert.deepEqual(r.errors.map((e) => [e.code, e.source]), [['LABEL_STREAM_PORT_CONFLICT', 'two']]);
});

test('a stream alias with middlewares is not served (HTTP-only access control never opens a raw port)', () => {
  const r = parse([container({ name: 'db', exposedPorts: [5432], labels: { 'proxy.db.port': '5432:5432', 'proxy.db.middlewares.cidr_whitelist.allow': '10.0.0.0/8' } })]);
  assert.deepEqual(r.streams, []);
  assert.deepEqual(r.errors.map((e) => e.code), ['LABEL_STREAM_ACCESS_CONTROL']);
});

test('port forms (GoDoxy port_test.go): "1234:5678", ":1234", "0:22" parse; "1234:1234:1234", "-1:1234", "0:65536" do not', () => {
  assert.deepEqual(parse([container({ name: 'a', labels: { 'proxy.a.port': '1234:5678' } })]).streams[0]?.stream, { protocol: 'tcp', port: 1234 });
  assert.equal(parse([container({ name: 'a', labels: { 'proxy.a.port': ':1234' } })]).routes[0]?.members[0]?.url, 'http://172.18.0.5:1234');
  assert.equal(parse([container({ name: 'a', labels: { 'proxy.a.port': '0:22' } })]).routes.length, 1, '0:22 without a scheme is HTTP, as in GoDoxy (listening port 0)');
  for (const bad of ['1234:1234:1234', '-1:1234', '0:65536', 'qwerty', '123:']) {
    assert.deepEqual(parse([container({ name: 'a', labels: { 'proxy.a.port': bad } })]).errors.map((e) => e.code), ['LABEL_BAD_PORT'], bad);
  }
});

// UDP guessed from a /udp port (GoDoxy: a port offered only as /udp is a UDP route; docs/streams.md)
test('no scheme, "5353:53" and 53 offered only as 53/udp: a UDP stream on 5353, with a note (GoDoxy: udp)', () => {
  const r = parse([container({ name: 'dns', exposedPorts: [], udpPorts: [53], labels: { 'proxy.aliases': 'dns', 'proxy.dns.port': '5353:53' } })]);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.routes, []);
  assert.deepEqual(r.streams.map((x) => [x.name, x.stream, x.members[0]?.url, x.members[0]?.healthcheck.disable]), [['dns', { protocol: 'udp', port: 5353 }, 'udp://172.18.0.5:53', true]]);
  assert.deepEqual(r.warnings.map((w) => [w.code, w.key]), [['LABEL_UDP_FROM_PORT', 'proxy.dns.port']]);
});

test('no port label, the only offered port is 53/udp: a UDP stream on any free port (GoDoxy: udp, random listening port)', () => {
  const r = parse([container({ name: 'dns', exposedPorts: [], udpPorts: [53], labels: { 'proxy.aliases': 'dns' } })]);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.streams.map((x) => [x.stream, x.members[0]?.url]), [[{ protocol: 'udp', port: 0 }, 'udp://172.18.0.5:53']]);
  assert.deepEqual(r.warnings.map((w) => w.code).sort(), ['LABEL_STREAM_ANY_PORT', 'LABEL_UDP_FROM_PORT']);
});

test('no guess: 53 offered as tcp too, an explicit scheme, two udp ports, or an HTTP port beside the udp one', () => {
  const both = parse([container({ name: 'dns', exposedPorts: [53], udpPorts: [53], labels: { 'proxy.aliases': 'dns', 'proxy.dns.port': '5353:53' } })]);
  assert.deepEqual(both.streams.map((x) => x.stream), [{ protocol: 'tcp', port: 5353 }], 'a listening port without a scheme is TCP');
  const told = parse([container({ name: 'dns', exposedPorts: [], udpPorts: [53], labels: { 'proxy.aliases': 'dns', 'proxy.dns.scheme': 'tcp', 'proxy.dns.port': '5353:53' } })]);
  assert.deepEqual(told.streams.map((x) => x.stream), [{ protocol: 'tcp', port: 5353 }], 'the scheme label wins');
  assert.deepEqual(told.warnings, []);
  const two = parse([container({ name: 'game', exposedPorts: [], udpPorts: [27015, 27016], labels: { 'proxy.aliases': 'game' } })]);
  assert.deepEqual(two.errors.map((e) => e.code), ['LABEL_NO_PORT'], 'which of two UDP ports is not guessed');
  const web = parse([container({ name: 'game', exposedPorts: [80], udpPorts: [27015], labels: { 'proxy.aliases': 'game, game-udp', 'proxy.game-udp.port': '27015:27015' } })]);
  assert.deepEqual(web.routes.map((x) => [x.name, x.members[0]?.url]), [['game', 'http://172.18.0.5:80']]);
  assert.deepEqual(web.streams.map((x) => [x.name, x.stream]), [['game-udp', { protocol: 'udp', port: 27015 }]]);
});

test('docker.expose_all never opens a UDP listener by itself: a container without proxy labels is not guessed', () => {
  const r = parseContainers([container({ name: 'dns', exposedPorts: [], udpPorts: [53] })], options({ exposeAll: true }));
  assert.deepEqual(r.streams, []);
  assert.deepEqual(r.errors, []);
});

test('udp_idle_timeout (Bellhop\'s; GoDoxy has a fixed 5 min): on a udp stream it sets the session timeout; elsewhere a warning', () => {
  const r = parse([container({ name: 'game', exposedPorts: [80, 27015], labels: {
    'proxy.aliases': 'game, game-udp, game-tcp',
    'proxy.game-udp.scheme': 'udp', 'proxy.game-udp.port': '27015:27015', 'proxy.game-udp.udp_idle_timeout': '30s',
    'proxy.game-tcp.port': '27016:27015', 'proxy.game-tcp.udp_idle_timeout': '30s',
    'proxy.game.udp_idle_timeout': '1m',
  } })]);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.streams.map((x) => [x.name, x.stream]), [
    ['game-tcp', { protocol: 'tcp', port: 27016 }],
    ['game-udp', { protocol: 'udp', port: 27015, udpIdleTimeoutMs: 30_000 }],
  ]);
  assert.deepEqual(r.warnings.map((w) => [w.code, w.key]).sort(), [
    ['LABEL_FIELD_NOT_APPLICABLE', 'proxy.game-tcp.udp_idle_timeout'],
    ['LABEL_FIELD_NOT_APPLICABLE', 'proxy.game.udp_idle_timeout'],
  ]);
  const bad = parse([container({ name: 'g', exposedPorts: [1], labels: { 'proxy.aliases': 'g', 'proxy.g.scheme': 'udp', 'proxy.g.port': '1:1', 'proxy.g.udp_idle_timeout': 'soon' } })]);
  assert.deepEqual(bad.errors.map((e) => [e.code, e.key]), [['LABEL_BAD_DURATION', 'proxy.g.udp_idle_timeout']]);
});
