// Stream routes in the config file (docs/streams.md, "In the config file"): `routes.<name>`
// with `scheme: tcp|udp`, GoDoxy's fields; every mistake is an error naming its key.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatConfigErrors, loadConfig, staticRoutes, staticStreams, type Config, type ConfigError } from './index.ts';

let dir: string;
let n = 0;
before(() => { dir = mkdtempSync(join(tmpdir(), 'bellhop-streams-config-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

function load(text: string): ReturnType<typeof loadConfig> {
  const cwd = join(dir, `case-${String(++n)}`);
  mkdirSync(cwd);
  writeFileSync(join(cwd, 'config.yml'), text);
  return loadConfig({ env: {}, cwd });
}

function ok(text: string): Config {
  const r = load(text);
  if (!r.ok) assert.fail(formatConfigErrors(r.errors));
  return r.config;
}

function errs(text: string): Array<Pick<ConfigError, 'code' | 'key' | 'message'>> {
  const r = load(text);
  assert.equal(r.ok, false, 'expected errors');
  return r.ok ? [] : r.errors.map((e) => ({ code: e.code, key: e.key, message: e.message }));
}

describe('stream routes in the config file', () => {
  it('GoDoxy form: scheme tcp, host, port "listen:target"; next to an HTTP route', () => {
    const c = ok('routes:\n  gitea-ssh: { scheme: tcp, host: 10.0.0.5, port: "2222:22" }\n  web: { url: "http://10.0.0.5:3000" }\n');
    const [s] = staticStreams(c);
    assert.deepEqual(s?.stream, { protocol: 'tcp', port: 2222 });
    assert.deepEqual(s?.members.map((m) => [m.id, m.name, m.url, m.healthcheck.disable, m.healthcheck.path]), [['file:gitea-ssh/gitea-ssh', 'gitea-ssh', 'tcp://10.0.0.5:22', false, undefined]]);
    assert.equal(s?.source, 'file');
    assert.deepEqual(staticRoutes(c).map((r) => r.name), ['web'], 'a stream is not an HTTP route');
  });

  it('host defaults to 127.0.0.1 (GoDoxy: localhost); SCHEME in any case; bind', () => {
    const [s] = staticStreams(ok('routes:\n  dns: { scheme: UDP, port: "5353:53", bind: 127.0.0.1 }\n'));
    assert.deepEqual(s?.stream, { protocol: 'udp', port: 5353, bind: '127.0.0.1' });
    assert.equal(s?.members[0]?.url, 'udp://127.0.0.1:53');
    assert.equal(s?.members[0]?.healthcheck.disable, true, 'a udp member has no connect to check');
  });

  it('listen + members (a pool), load_balance.mode, healthcheck', () => {
    const c = ok([
      'routes:',
      '  game:',
      '    scheme: tcp',
      '    listen: 25565',
      '    load_balance: { mode: least_conn }',
      '    healthcheck: { interval: 2s, fall: 2 }',
      '    members:',
      '      - { name: a, url: "10.0.0.1:25565", weight: 30 }',
      '      - { url: "tcp://[fd00::2]:25565" }',
      '',
    ].join('\n'));
    const [s] = staticStreams(c);
    assert.equal(s?.loadBalance.mode, 'leastconn');
    assert.equal(s?.loadBalance.sticky, false);
    assert.deepEqual(s?.members.map((m) => [m.name, m.url, m.weight, m.healthcheck.intervalMs, m.healthcheck.fall]), [
      ['a', 'tcp://10.0.0.1:25565', 30, 2000, 2],
      ['game-2', 'tcp://[fd00::2]:25565', undefined, 2000, 2],
    ]);
  });

  it('udp_idle_timeout on a udp stream', () => {
    const [s] = staticStreams(ok('routes:\n  game: { scheme: udp, port: "27015:27015", udp_idle_timeout: 2m }\n'));
    assert.deepEqual(s?.stream, { protocol: 'udp', port: 27015, udpIdleTimeoutMs: 120_000 });
  });

  it('listen + url', () => {
    const [s] = staticStreams(ok('routes:\n  pg: { scheme: tcp, listen: 5432, url: "db.internal:5432" }\n'));
    assert.equal(s?.members[0]?.url, 'tcp://db.internal:5432');
  });

  it('mistakes are errors naming the key', () => {
    const cases: Array<[string, string, string, RegExp]> = [
      ['bad: { scheme: tcp, port: "2222:99999" }', 'CONFIG_BAD_STREAM', 'routes.bad.port', /1-65535/],
      ['bad: { scheme: tcp, port: "a:b:c" }', 'CONFIG_BAD_STREAM', 'routes.bad.port', /listen:target/],
      ['bad: { scheme: tcp, host: 10.0.0.5, port: 22 }', 'CONFIG_BAD_STREAM', 'routes.bad', /needs a listening port/],
      ['bad: { scheme: udp, listen: 53 }', 'CONFIG_BAD_STREAM', 'routes.bad', /needs a target/],
      ['bad: { scheme: tcp, port: "2222:22", url: "10.0.0.5:22" }', 'CONFIG_BAD_STREAM', 'routes.bad', /give the target once/],
      ['bad: { scheme: tcp, listen: 2222, url: "http://10.0.0.5:22" }', 'CONFIG_BAD_STREAM', 'routes.bad.url', /tcp:\/\/host:port/],
      ['bad: { scheme: tcp, listen: 2222, url: "10.0.0.5" }', 'CONFIG_BAD_STREAM', 'routes.bad.url', /not host:port/],
      ['bad: { scheme: tcp, port: "2222:22", bind: "eth0" }', 'CONFIG_BAD_STREAM', 'routes.bad.bind', /not an IP address/],
      ['bad: { scheme: tcp, port: "2222:22", host: "no host!" }', 'CONFIG_BAD_STREAM', 'routes.bad.host', /not a host name/],
      ['bad: { scheme: tcp, port: "2222:22", middlewares: { oidc: {} } }', 'CONFIG_UNKNOWN_KEY', 'routes.bad.middlewares', /unknown key/],
      ['bad: { scheme: tcp, port: "2222:22", healthcheck: { path: /health } }', 'CONFIG_UNKNOWN_KEY', 'routes.bad.healthcheck.path', /unknown key/],
      ['bad: { scheme: udp, port: "53:53", healthcheck: { disable: false } }', 'CONFIG_BAD_STREAM', 'routes.bad.healthcheck.disable', /no connection to check/],
      ['bad: { scheme: tcp, port: "2222:22", load_balance: { sticky: true } }', 'CONFIG_UNKNOWN_KEY', 'routes.bad.load_balance.sticky', /unknown key/],
      ['bad: { scheme: tcp, port: "2222:22", udp_idle_timeout: 1m }', 'CONFIG_BAD_STREAM', 'routes.bad.udp_idle_timeout', /udp stream routes only/],
      ['bad: { scheme: tcp, listen: 1, members: [{ url: "a:1" }, { name: bad-1, url: "b:1" }] }', 'CONFIG_BAD_STREAM', 'routes.bad.members[1].name', /used twice/],
      ['bad: { scheme: tcp, listen: 1, members: [{ name: "a\\x01b", url: "a:1" }] }', 'CONFIG_BAD_STREAM', 'routes.bad.members[0].name', /control characters/],
    ];
    for (const [route, code, key, message] of cases) {
      const es = errs(`routes:\n  ${route}\n`);
      assert.equal(es.length, 1, `${route}: ${JSON.stringify(es)}`);
      assert.equal(es[0]?.code, code, route);
      assert.equal(es[0]?.key, key, route);
      assert.match(es[0]?.message ?? '', message, route);
    }
  });

  it('two streams on one port: the second is an error; tcp and udp on one port are fine; a bad stream leaves the rest read', () => {
    const es = errs('routes:\n  a: { scheme: tcp, port: "2222:22" }\n  b: { scheme: tcp, port: "2222:23" }\n  c: { scheme: udp, port: "2222:22" }\n  d: { scheme: tcp, port: "x" }\n');
    assert.deepEqual(es.map((e) => [e.code, e.key]), [['CONFIG_DUPLICATE', 'routes.b'], ['CONFIG_BAD_STREAM', 'routes.d.port']]);
    const c = ok('routes:\n  a: { scheme: tcp, port: "2222:22", bind: 127.0.0.1 }\n  b: { scheme: tcp, port: "2222:22", bind: 127.0.0.2 }\n  c: { scheme: udp, port: "2222:22" }\n');
    assert.deepEqual(staticStreams(c).map((s) => s.name), ['a', 'b', 'c']);
  });
});
