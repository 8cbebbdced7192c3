import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listensClash, mergeStreamRoutes, STREAM_TAKEN_BY_FILE, type MemberSpec, type StreamRouteSpec } from './index.ts';

const hc = { useGet: false, intervalMs: 5000, timeoutMs: 5000, rise: 1, fall: 1, disable: false };

function stream(name: string, source: 'file' | 'docker', protocol: 'tcp' | 'udp', port: number, bind?: string): StreamRouteSpec {
  const m: MemberSpec = { id: `${source}:${name}`, identity: name, name, url: `${protocol}://10.0.0.1:22`, noTlsVerify: false, healthcheck: hc, ...(source === 'docker' ? { container: { id: 'c1', name: `ctr-${name}`, dockerHost: 'unix:///x', createdAt: 1, state: 'running' } } : {}) };
  return { name, aliases: [name], source, loadBalance: { mode: 'roundrobin', sticky: false, stickyMaxAgeMs: 0 }, members: [m], stream: { protocol, port, ...(bind !== undefined ? { bind } : {}) } };
}

test('listensClash: same protocol and port on overlapping addresses; port 0 never clashes', () => {
  assert.equal(listensClash({ protocol: 'tcp', port: 22 }, { protocol: 'tcp', port: 22, bind: '127.0.0.1' }), true);
  assert.equal(listensClash({ protocol: 'tcp', port: 22, bind: '127.0.0.1' }, { protocol: 'tcp', port: 22, bind: '127.0.0.2' }), false);
  assert.equal(listensClash({ protocol: 'tcp', port: 22 }, { protocol: 'udp', port: 22 }), false);
  assert.equal(listensClash({ protocol: 'tcp', port: 0 }, { protocol: 'tcp', port: 0 }), false);
});

test('mergeStreamRoutes: the config file wins a name or a port; other label streams are kept; sorted by name', () => {
  const r = mergeStreamRoutes(
    [stream('ssh', 'file', 'tcp', 2222), stream('dns', 'file', 'udp', 53)],
    [stream('ssh', 'docker', 'tcp', 2223), stream('gitea', 'docker', 'tcp', 2222), stream('dns-tcp', 'docker', 'tcp', 53), stream('game', 'docker', 'udp', 27015)],
  );
  assert.deepEqual(r.streams.map((s) => [s.name, s.source]), [['dns', 'file'], ['dns-tcp', 'docker'], ['game', 'docker'], ['ssh', 'file']]);
  assert.deepEqual(r.errors.map((e) => [e.code, e.source, e.key]), [
    [STREAM_TAKEN_BY_FILE, 'ctr-ssh', 'proxy.ssh.port'],
    [STREAM_TAKEN_BY_FILE, 'ctr-gitea', 'proxy.gitea.port'],
  ]);
  assert.match(r.errors[1]!.message, /tcp port 2222 belongs to the config file's stream route "ssh"/);
});
