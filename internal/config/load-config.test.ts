import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, configFilePath, defaultHealthcheck, defaultLoadBalance, formatConfigErrors, loadConfig, staticRoutes } from './index.ts';
import type { Config, LoadConfigResult } from './index.ts';

let dir: string;
let n = 0;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'bellhop-config-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Writes `text` as config.yml in a fresh directory and loads it (as the default file). */
function load(text: string | undefined, env: NodeJS.ProcessEnv = {}): LoadConfigResult {
  const cwd = join(dir, `case-${String(++n)}`);
  mkdirSync(cwd);
  if (text !== undefined) writeFileSync(join(cwd, 'config.yml'), text);
  return loadConfig({ env, cwd });
}

function ok(text: string | undefined, env: NodeJS.ProcessEnv = {}): Config {
  const r = load(text, env);
  if (!r.ok) assert.fail(`expected no errors, got:\n${formatConfigErrors(r.errors)}`);
  return r.config;
}

function errors(text: string, env: NodeJS.ProcessEnv = {}): readonly ConfigError[] {
  const r = load(text, env);
  assert.equal(r.ok, false, 'expected errors');
  return r.ok ? [] : r.errors;
}

/** Exactly one error, with this code, key and line; returns its message. */
function one(text: string, code: string, key: string, line: number | undefined): string {
  const es = errors(text);
  assert.equal(es.length, 1, formatConfigErrors(es));
  const [e] = es;
  assert.ok(e);
  assert.deepEqual({ code: e.code, key: e.key, line: e.line }, { code, key, line }, e.format());
  assert.equal(e.file, 'config.yml');
  return e.message;
}

describe('defaults', () => {
  it('with no file at all, every default applies', () => {
    const c = ok(undefined);
    assert.equal(c.entrypoint.http, ':80');
    assert.deepEqual(c.entrypoint.httpAddress, { host: undefined, port: 80 });
    assert.deepEqual(c.entrypoint.trustedProxies, []);
    assert.deepEqual(c.entrypoint.timeouts, { headerMs: 10_000, idleMs: 60_000, upstreamConnectMs: 5000, upstreamResponseMs: 60_000, drainMs: 10_000 });
    assert.equal(c.api.listen, '127.0.0.1:8081');
    assert.deepEqual(c.api.address, { host: '127.0.0.1', port: 8081 });
    assert.deepEqual(c.docker, { hosts: ['unix:///var/run/docker.sock'], exposeAll: false, labelFilter: [], swarm: 'auto' });
    assert.deepEqual(c.matchDomains, []);
    assert.deepEqual(c.defaults.healthcheck, { intervalMs: 5000, timeoutMs: 5000, rise: 2, fall: 3 });
    assert.deepEqual(c.defaults.loadBalance, { mode: 'roundrobin', sticky: false, stickyMaxAgeMs: 3_600_000 });
    assert.match(c.sticky.secretFile, /case-\d+\/data\/sticky\.key$/);
    assert.deepEqual(c.routes, {});
    assert.equal(c.logLevel, 'info');
  });
  it('an empty file or a comment-only file is all defaults', () => {
    assert.equal(ok('').entrypoint.http, ':80');
    assert.equal(ok('# nothing here\n').api.listen, '127.0.0.1:8081');
    assert.equal(ok('entrypoint:\n').entrypoint.http, ':80');
  });
  it('the config is deeply frozen', () => {
    const c = ok('routes:\n  nas: { url: "http://10.0.0.2:5000" }\n');
    assert.ok(Object.isFrozen(c));
    assert.ok(Object.isFrozen(c.entrypoint.timeouts));
    assert.ok(Object.isFrozen(c.routes['nas']?.members[0]));
    assert.throws(() => {
      (c.docker.hosts as string[]).push('x');
    }, TypeError);
  });
  it('defaultHealthcheck / defaultLoadBalance give full specs from defaults', () => {
    const c = ok('defaults:\n  healthcheck: { interval: 7s, rise: 4 }\n  load_balance: { mode: LEAST_CONN, sticky: true, sticky_max_age: 0 }\n');
    assert.deepEqual(defaultHealthcheck(c), { path: undefined, useGet: false, intervalMs: 7000, timeoutMs: 5000, rise: 4, fall: 3, disable: false });
    assert.deepEqual(defaultLoadBalance(c), { mode: 'leastconn', sticky: true, stickyMaxAgeMs: 0 });
  });
});

describe('the file', () => {
  it('loads the docs/configuration.md example exactly, with no errors', () => {
    const text = readFileSync(new URL('./fixtures/spec-example.yml', import.meta.url), 'utf8');
    const r = load(text);
    assert.ok(r.ok, r.ok ? '' : formatConfigErrors(r.errors));
    assert.equal(r.file, 'config.yml');
    const c = r.config;
    assert.equal(c.entrypoint.http, ':80');
    assert.equal(c.api.listen, '127.0.0.1:8081');
    assert.deepEqual(Object.keys(c.routes), ['nas', 'web']);
    const routes = staticRoutes(c);
    assert.deepEqual(routes[0], {
      name: 'nas',
      aliases: ['nas'],
      loadBalance: { mode: 'roundrobin', sticky: false, stickyMaxAgeMs: 3_600_000 },
      members: [{ id: 'file:nas/nas', identity: 'file:nas/nas', name: 'nas', url: 'http://127.0.0.1:5000', weight: undefined, noTlsVerify: false, healthcheck: { path: undefined, useGet: false, intervalMs: 5000, timeoutMs: 5000, rise: 2, fall: 3, disable: false } }],
      source: 'file',
    });
    const web = routes[1];
    assert.ok(web);
    assert.deepEqual(web.loadBalance, { mode: 'roundrobin', sticky: true, stickyMaxAgeMs: 3_600_000 });
    assert.deepEqual(web.members.map((m) => [m.id, m.identity, m.name, m.url, m.weight]), [
      ['file:web/web-1', 'file:web/web-1', 'web-1', 'http://127.0.0.1:9001', 30],
      ['file:web/web-2', 'file:web/web-2', 'web-2', 'http://127.0.0.1:9002', 70],
    ]);
    for (const m of web.members) assert.deepEqual(m.healthcheck, { path: '/health', useGet: false, intervalMs: 2000, timeoutMs: 5000, rise: 2, fall: 3, disable: false });
  });
  it('staticRoutes returns mutable copies', () => {
    const c = ok('routes:\n  nas: { url: "http://10.0.0.2" }\n');
    const [r] = staticRoutes(c);
    assert.ok(r);
    r.aliases.push('more');
    assert.deepEqual(c.routes['nas']?.aliases, ['nas']);
    assert.equal(r.members[0]?.url, 'http://10.0.0.2:80');
  });
  it('reads every key', () => {
    const c = ok(`
entrypoint:
  http: "0.0.0.0:8080"
  trusted_proxies: [10.0.0.0/8, "192.168.1.1", "fd00::/8", "::1"]
  timeouts: { header: 2s, idle: 1m, upstream_connect: 500ms, upstream_response: 1h30m, drain: 0 }
api: { listen: "[::1]:9000" }
docker: { hosts: ["tcp://10.0.0.5:2375", "ssh://me@nas"], expose_all: true, swarm: false }
match_domains: [Home.Example.com., .lan]
defaults:
  healthcheck: { interval: 10s, timeout: 3s, rise: 1, fall: 5 }
  load_balance: { mode: ip_hash, sticky: true, sticky_max_age: 1d }
sticky: { secret_file: /secrets/key }
log_level: DEBUG
routes:
  app:
    aliases: [app.example.com, "*.apps.example.com", APP]
    no_tls_verify: true
    members:
      - { url: "https://10.0.0.9" }
      - { name: b, url: "https://10.0.0.10:8443", weight: 5, no_tls_verify: false }
    load_balance:
      sticky: false
      options: { header: X-Forwarded-For, from: [10.0.0.0/8], recursive: true }
    healthcheck: { path: /ping?x=1, timeout: 1s, rise: 3, fall: 4, use_get: true, disable: false }
  single:
    url: http://host.lan:81/
    load_balance: { mode: Round_Robin, weight: 10, sticky_max_age: 30m }
    healthcheck: { disable: true }
`);
    assert.equal(c.entrypoint.http, '0.0.0.0:8080');
    assert.deepEqual(c.entrypoint.httpAddress, { host: '0.0.0.0', port: 8080 });
    assert.deepEqual(c.entrypoint.trustedProxies, ['10.0.0.0/8', '192.168.1.1', 'fd00::/8', '::1']);
    assert.deepEqual(c.entrypoint.timeouts, { headerMs: 2000, idleMs: 60_000, upstreamConnectMs: 500, upstreamResponseMs: 5_400_000, drainMs: 0 });
    assert.deepEqual(c.api.address, { host: '::1', port: 9000 });
    assert.deepEqual(c.docker, { hosts: ['tcp://10.0.0.5:2375', 'ssh://me@nas'], exposeAll: true, labelFilter: [], swarm: 'off' });
    assert.deepEqual(c.matchDomains, ['home.example.com', 'lan']);
    assert.deepEqual(c.defaults.healthcheck, { intervalMs: 10_000, timeoutMs: 3000, rise: 1, fall: 5 });
    assert.deepEqual(c.defaults.loadBalance, { mode: 'iphash', sticky: true, stickyMaxAgeMs: 86_400_000 });
    assert.equal(c.sticky.secretFile, '/secrets/key');
    assert.equal(c.logLevel, 'debug');
    const [app, single] = staticRoutes(c);
    assert.ok(app && single);
    assert.deepEqual(app.aliases, ['app', 'app.example.com', '*.apps.example.com']);
    assert.deepEqual(app.loadBalance, { mode: 'iphash', sticky: false, stickyMaxAgeMs: 86_400_000, options: { header: 'X-Forwarded-For', from: ['10.0.0.0/8'], recursive: true } });
    assert.deepEqual(app.members.map((m) => [m.id, m.name, m.url, m.weight, m.noTlsVerify]), [
      ['file:app/app-1', 'app-1', 'https://10.0.0.9:443', undefined, true],
      ['file:app/b', 'b', 'https://10.0.0.10:8443', 5, false],
    ]);
    assert.deepEqual(app.members[0]?.healthcheck, { path: '/ping?x=1', useGet: true, intervalMs: 10_000, timeoutMs: 1000, rise: 3, fall: 4, disable: false });
    assert.deepEqual(single.loadBalance, { mode: 'roundrobin', sticky: true, stickyMaxAgeMs: 1_800_000 });
    assert.deepEqual(single.members.map((m) => [m.id, m.identity, m.name, m.url, m.weight]), [['file:single/single', 'file:single/single', 'single', 'http://host.lan:81', 10]]);
    assert.equal(single.members[0]?.healthcheck.disable, true);
  });
  it('options default header is X-Real-IP, recursive false', () => {
    const c = ok('routes:\n  a:\n    url: http://h:1\n    load_balance: { mode: iphash, options: { from: ["10.0.0.1"] } }\n');
    assert.deepEqual(c.routes['a']?.loadBalance.options, { header: 'X-Real-IP', from: ['10.0.0.1'], recursive: false });
  });
  it('follows YAML anchors and aliases', () => {
    const c = ok('defaults:\n  healthcheck: &hc { interval: 9s }\nroutes:\n  a:\n    url: http://h:1\n    healthcheck: *hc\n');
    assert.equal(c.routes['a']?.members[0]?.healthcheck.intervalMs, 9000);
  });
  it('api.listen "" disables the API', () => {
    const c = ok('api:\n  listen: ""\n');
    assert.equal(c.api.listen, '');
    assert.equal(c.api.address, undefined);
  });
  it('docker.label_filter: key or key=value; defaults to none', () => {
    assert.deepEqual(ok(undefined).docker.labelFilter, []);
    assert.deepEqual(ok('docker: { label_filter: [bellhop.instance=home, managed] }\n').docker.labelFilter, ['bellhop.instance=home', 'managed']);
    assert.match(one('docker:\n  label_filter: ["=x"]\n', 'CONFIG_BAD_LABEL_FILTER', 'docker.label_filter[0]', 2), /not a label filter/);
  });
  it('docker.hosts may be empty (file routes only)', () => {
    assert.deepEqual(ok('docker: { hosts: [] }\n').docker.hosts, []);
  });
});

describe('which file', () => {
  it('a missing default config.yml is fine', () => {
    const r = load(undefined);
    assert.ok(r.ok);
    assert.equal(r.file, undefined);
  });
  it('a missing file named by BELLHOP_CONFIG is an error', () => {
    const r = load(undefined, { BELLHOP_CONFIG: 'nope.yml' });
    assert.ok(!r.ok);
    assert.equal(r.errors.length, 1);
    assert.equal(r.errors[0]?.code, 'CONFIG_FILE_MISSING');
    assert.equal(r.errors[0]?.format(), 'nope.yml BELLHOP_CONFIG: config file "nope.yml" does not exist');
  });
  it('BELLHOP_CONFIG beats ./config.yml, and an explicit path beats BELLHOP_CONFIG', () => {
    const cwd = join(dir, 'which');
    mkdirSync(cwd);
    writeFileSync(join(cwd, 'config.yml'), 'log_level: warn\n');
    writeFileSync(join(cwd, 'other.yml'), 'log_level: error\n');
    writeFileSync(join(cwd, 'third.yml'), 'log_level: trace\n');
    const viaEnv = loadConfig({ env: { BELLHOP_CONFIG: 'other.yml' }, cwd });
    assert.ok(viaEnv.ok && viaEnv.config.logLevel === 'error' && viaEnv.file === 'other.yml');
    const explicit = loadConfig({ path: join(cwd, 'third.yml'), env: { BELLHOP_CONFIG: 'other.yml' }, cwd });
    assert.ok(explicit.ok && explicit.config.logLevel === 'trace');
    const dflt = loadConfig({ env: { BELLHOP_CONFIG: '' }, cwd });
    assert.ok(dflt.ok && dflt.config.logLevel === 'warn' && dflt.file === 'config.yml');
    assert.deepEqual(configFilePath({ env: {} }), { path: 'config.yml', required: false });
    assert.deepEqual(configFilePath({ env: { BELLHOP_CONFIG: '/etc/b.yml' } }), { path: '/etc/b.yml', required: true });
  });
  it('an explicit missing path is an error; an unreadable one too', () => {
    const r = loadConfig({ path: 'missing.yml', env: {}, cwd: dir });
    assert.ok(!r.ok && r.errors[0]?.code === 'CONFIG_FILE_MISSING' && r.errors[0].key === '(file)');
    const sub = join(dir, 'is-a-dir');
    mkdirSync(sub);
    const r2 = loadConfig({ path: sub, env: {}, cwd: dir });
    assert.ok(!r2.ok && r2.errors[0]?.code === 'CONFIG_FILE_UNREADABLE');
  });
});

describe('environment overrides', () => {
  const file = 'entrypoint: { http: ":8000" }\napi: { listen: "127.0.0.1:9999" }\ndocker: { hosts: ["tcp://a:2375"] }\nlog_level: warn\n';
  it('each override replaces the file value', () => {
    const c = ok(file, { BELLHOP_HTTP_ADDR: '127.0.0.1:8080', BELLHOP_API_ADDR: ':7000', DOCKER_HOST: 'tcp://docker:2375', LOG_LEVEL: 'debug' });
    assert.equal(c.entrypoint.http, '127.0.0.1:8080');
    assert.deepEqual(c.entrypoint.httpAddress, { host: '127.0.0.1', port: 8080 });
    assert.equal(c.api.listen, ':7000');
    assert.deepEqual(c.docker.hosts, ['tcp://docker:2375']);
    assert.equal(c.logLevel, 'debug');
  });
  it('without overrides the file wins over defaults', () => {
    const c = ok(file);
    assert.equal(c.entrypoint.http, ':8000');
    assert.equal(c.api.listen, '127.0.0.1:9999');
    assert.deepEqual(c.docker.hosts, ['tcp://a:2375']);
    assert.equal(c.logLevel, 'warn');
  });
  it('overrides apply without a file too', () => {
    const c = ok(undefined, { BELLHOP_HTTP_ADDR: ':8081', DOCKER_HOST: 'unix:///run/docker.sock', LOG_LEVEL: 'ERROR' });
    assert.equal(c.entrypoint.http, ':8081');
    assert.deepEqual(c.docker.hosts, ['unix:///run/docker.sock']);
    assert.equal(c.logLevel, 'error');
  });
  it('empty variables are ignored, except BELLHOP_API_ADDR="" which disables the API', () => {
    const c = ok(file, { BELLHOP_HTTP_ADDR: '', DOCKER_HOST: '', LOG_LEVEL: ' ', BELLHOP_API_ADDR: '' });
    assert.equal(c.entrypoint.http, ':8000');
    assert.deepEqual(c.docker.hosts, ['tcp://a:2375']);
    assert.equal(c.logLevel, 'warn');
    assert.equal(c.api.address, undefined);
  });
  it('bad overrides are errors naming the variable, after file errors', () => {
    const es = errors('log_level: loud\n', { BELLHOP_HTTP_ADDR: '80', BELLHOP_API_ADDR: 'x:0', DOCKER_HOST: '/var/run/docker.sock', LOG_LEVEL: 'verbose' });
    assert.deepEqual(es.map((e) => [e.file, e.key, e.code, e.line]), [
      ['config.yml', 'log_level', 'CONFIG_BAD_LOG_LEVEL', 1],
      ['env', 'BELLHOP_HTTP_ADDR', 'CONFIG_BAD_LISTEN', undefined],
      ['env', 'BELLHOP_API_ADDR', 'CONFIG_BAD_LISTEN', undefined],
      ['env', 'DOCKER_HOST', 'CONFIG_BAD_DOCKER_HOST', undefined],
      ['env', 'LOG_LEVEL', 'CONFIG_BAD_LOG_LEVEL', undefined],
    ]);
    assert.match(es[1]?.message ?? '', /did you mean ":80"\?/);
    assert.match(formatConfigErrors(es).split('\n')[1] ?? '', /^env BELLHOP_HTTP_ADDR: /);
  });
});

describe('validation', () => {
  it('unknown keys suggest the nearest key', () => {
    assert.match(one('entrypoint:\n  timeouts:\n    heder: 5s\n', 'CONFIG_UNKNOWN_KEY', 'entrypoint.timeouts.heder', 3), /did you mean "header"\?/);
    assert.match(one('entrypiont: {}\n', 'CONFIG_UNKNOWN_KEY', 'entrypiont', 1), /did you mean "entrypoint"\?/);
    assert.match(one('routes:\n  web:\n    url: http://a:1\n    healthchek: { path: /x }\n', 'CONFIG_UNKNOWN_KEY', 'routes.web.healthchek', 4), /did you mean "healthcheck"\?/);
    assert.match(one('routes:\n  web:\n    members:\n      - { nmae: a, url: "http://a:1" }\n', 'CONFIG_UNKNOWN_KEY', 'routes.web.members[0].nmae', 4), /did you mean "name"\?/);
  });
  it('a key in the wrong section names where it belongs', () => {
    assert.match(one('trusted_proxies: [10.0.0.1]\n', 'CONFIG_UNKNOWN_KEY', 'trusted_proxies', 1), /did you mean entrypoint\.trusted_proxies\?/);
    assert.match(one('foo: 1\n', 'CONFIG_UNKNOWN_KEY', 'foo', 1), /known keys here: entrypoint, api/);
  });
  it('docker.swarm: auto by default, true/false as on/off, anything else is an error', () => {
    assert.equal(ok('').docker.swarm, 'auto');
    assert.equal(ok('docker: { swarm: true }\n').docker.swarm, 'on');
    assert.equal(ok('docker: { swarm: false }\n').docker.swarm, 'off');
    assert.equal(ok('docker: { swarm: Auto }\n').docker.swarm, 'auto');
    assert.equal(ok('docker: { swarm: "true" }\n').docker.swarm, 'on');
    assert.match(one('docker:\n  swarm: maybe\n', 'CONFIG_BAD_TYPE', 'docker.swarm', 2), /expected auto, true or false, got "maybe"/);
    assert.match(one('docker:\n  swarm: 1\n', 'CONFIG_BAD_TYPE', 'docker.swarm', 2), /expected auto, true or false/);
  });
  it('wrong types', () => {
    assert.match(one('entrypoint: [1]\n', 'CONFIG_BAD_TYPE', 'entrypoint', 1), /expected a mapping .*got a list/);
    assert.match(one('docker:\n  expose_all: "yes"\n', 'CONFIG_BAD_TYPE', 'docker.expose_all', 2), /expected true or false, got the string "yes"/);
    assert.match(one('docker:\n  hosts: unix:///x\n', 'CONFIG_BAD_TYPE', 'docker.hosts', 2), /expected a list.*write \[unix:\/\/\/x\]/);
    one('match_domains: [1]\n', 'CONFIG_BAD_TYPE', 'match_domains[0]', 1);
    one('sticky: { secret_file: 5 }\n', 'CONFIG_BAD_TYPE', 'sticky.secret_file', 1);
    one('sticky: { secret_file: "" }\n', 'CONFIG_BAD_PATH', 'sticky.secret_file', 1);
    one('- a\n- b\n', 'CONFIG_BAD_TYPE', '(top level)', 1);
    one('log_level: 3\n', 'CONFIG_BAD_TYPE', 'log_level', 1);
    one('routes:\n  a:\n    url: http://a:1\n    healthcheck: { use_get: 1 }\n', 'CONFIG_BAD_TYPE', 'routes.a.healthcheck.use_get', 4);
    one('routes:\n  a:\n    url: http://a:1\n    aliases: b\n', 'CONFIG_BAD_TYPE', 'routes.a.aliases', 4);
    one('routes:\n  a:\n    url: http://a:1\n    aliases: [{x: 1}]\n', 'CONFIG_BAD_TYPE', 'routes.a.aliases[0]', 4);
    one('routes:\n  a:\n    members: {x: 1}\n', 'CONFIG_BAD_TYPE', 'routes.a.members', 3);
    one('routes:\n  a:\n    members:\n      - http://a:1\n', 'CONFIG_BAD_TYPE', 'routes.a.members[0]', 4);
    one('routes:\n  a:\n    url: http://a:1\n    load_balance: [roundrobin]\n', 'CONFIG_BAD_TYPE', 'routes.a.load_balance', 4);
    one('routes:\n  a:\n    url: [http://a:1]\n', 'CONFIG_BAD_TYPE', 'routes.a.url', 3);
    one('routes: [a]\n', 'CONFIG_BAD_TYPE', 'routes', 1);
    one('{[x]: 3}\n', 'CONFIG_BAD_TYPE', '(top level)', 1);
  });
  it('bad durations, including a bare number with a unit suggestion', () => {
    assert.match(one('entrypoint:\n  timeouts:\n    idle: 30\n', 'CONFIG_BAD_DURATION', 'entrypoint.timeouts.idle', 3), /did you mean 30s\?/);
    assert.match(one('defaults:\n  healthcheck:\n    interval: 1.5\n', 'CONFIG_BAD_DURATION', 'defaults.healthcheck.interval', 3), /did you mean 1\.5s\?/);
    assert.match(one('entrypoint:\n  timeouts:\n    drain: -5s\n', 'CONFIG_BAD_DURATION', 'entrypoint.timeouts.drain', 3), /negative/);
    one('entrypoint:\n  timeouts:\n    drain: soon\n', 'CONFIG_BAD_DURATION', 'entrypoint.timeouts.drain', 3);
    one('entrypoint:\n  timeouts:\n    drain: true\n', 'CONFIG_BAD_TYPE', 'entrypoint.timeouts.drain', 3);
    one('entrypoint:\n  timeouts:\n    drain:\n', 'CONFIG_BAD_TYPE', 'entrypoint.timeouts.drain', 3);
    assert.match(one('routes:\n  a:\n    url: http://a:1\n    healthcheck: { interval: 0 }\n', 'CONFIG_BAD_DURATION', 'routes.a.healthcheck.interval', 4), /more than 0/);
    assert.match(one('entrypoint:\n  timeouts:\n    idle: 30d\n', 'CONFIG_BAD_DURATION', 'entrypoint.timeouts.idle', 3), /too long/);
    // a cookie lifetime is not a timer: long values are fine there
    assert.equal(ok('defaults:\n  load_balance: { sticky_max_age: 400d }\n').defaults.loadBalance.stickyMaxAgeMs, 400 * 86_400_000);
    one('defaults:\n  load_balance: { sticky_max_age: 1 }\n', 'CONFIG_BAD_DURATION', 'defaults.load_balance.sticky_max_age', 2);
  });
  it('bad listen addresses', () => {
    assert.match(one('entrypoint: { http: 80 }\n', 'CONFIG_BAD_LISTEN', 'entrypoint.http', 1), /did you mean ":80"\?/);
    assert.match(one('entrypoint: { http: ":0" }\n', 'CONFIG_BAD_LISTEN', 'entrypoint.http', 1), /outside 1-65535/);
    one('entrypoint: { http: ":65536" }\n', 'CONFIG_BAD_LISTEN', 'entrypoint.http', 1);
    one('entrypoint: { http: ":http" }\n', 'CONFIG_BAD_LISTEN', 'entrypoint.http', 1);
    one('entrypoint: { http: "" }\n', 'CONFIG_BAD_LISTEN', 'entrypoint.http', 1);
    one('entrypoint: { http: "localhost" }\n', 'CONFIG_BAD_LISTEN', 'entrypoint.http', 1);
    assert.match(one('api: { listen: "::1:80" }\n', 'CONFIG_BAD_LISTEN', 'api.listen', 1), /brackets/);
    one('api: { listen: "[nothost]:80" }\n', 'CONFIG_BAD_LISTEN', 'api.listen', 1);
    one('api: { listen: "bad_host!:80" }\n', 'CONFIG_BAD_LISTEN', 'api.listen', 1);
    assert.equal(ok('api: { listen: "localhost:80" }\n').api.address?.host, 'localhost');
  });
  it('bad upstream URLs', () => {
    const url = (u: string): string => one(`routes:\n  web:\n    members:\n      - { name: a, url: "http://ok:1" }\n      - { name: b, url: "${u}" }\n`, 'CONFIG_BAD_URL', 'routes.web.members[1].url', 5);
    assert.match(url('http://h:1/app'), /path/);
    assert.match(url('http://h:1?x=1'), /query/);
    assert.match(url('http://h:1/?'), /query/);
    assert.match(url('http://h:1#top'), /fragment/);
    assert.match(url('http://u:p@h:1'), /credentials/);
    assert.match(url('ftp://h:1'), /scheme must be http, https or h2c/);
    assert.match(url('h:1'), /scheme must be http, https or h2c|not a URL/);
    assert.match(url('h2c://h:1/app'), /path/);
    assert.match(url('not a url'), /not a URL/);
    assert.match(url('http://h:99999'), /not a URL/);
    one('routes:\n  nas:\n    url: "file:///etc/passwd"\n', 'CONFIG_BAD_URL', 'routes.nas.url', 3);
    assert.equal(ok('routes:\n  v6: { url: "http://[::1]:8080/" }\n').routes['v6']?.members[0]?.url, 'http://[::1]:8080');
    // h2c: an http:// member spoken to with HTTP/2 prior knowledge (GoDoxy's scheme name)
    const grpc = ok('routes:\n  grpc: { url: "h2c://10.0.0.5:50051" }\n').routes['grpc']?.members[0];
    assert.equal(grpc?.url, 'http://10.0.0.5:50051');
    assert.equal(grpc?.h2c, true);
    assert.equal(ok('routes:\n  web: { url: "http://10.0.0.5" }\n').routes['web']?.members[0]?.h2c, undefined);
  });
  it('bad CIDRs in trusted_proxies and options.from', () => {
    assert.match(one('entrypoint:\n  trusted_proxies:\n    - 10.0.0.0/8\n    - 10.0.0.0/33\n', 'CONFIG_BAD_CIDR', 'entrypoint.trusted_proxies[1]', 4), /prefix length must be 0-32/);
    one('entrypoint:\n  trusted_proxies: [10.0.0.300]\n', 'CONFIG_BAD_CIDR', 'entrypoint.trusted_proxies[0]', 2);
    one('entrypoint:\n  trusted_proxies: ["fd00::/129"]\n', 'CONFIG_BAD_CIDR', 'entrypoint.trusted_proxies[0]', 2);
    one('entrypoint:\n  trusted_proxies: ["10.0.0.0/x"]\n', 'CONFIG_BAD_CIDR', 'entrypoint.trusted_proxies[0]', 2);
    one('entrypoint:\n  trusted_proxies: ["fe80::1%eth0"]\n', 'CONFIG_BAD_CIDR', 'entrypoint.trusted_proxies[0]', 2);
    one('routes:\n  a:\n    url: http://a:1\n    load_balance:\n      options: { from: [nope] }\n', 'CONFIG_BAD_CIDR', 'routes.a.load_balance.options.from[0]', 5);
    assert.match(one('routes:\n  a:\n    url: http://a:1\n    load_balance:\n      options: { header: X-Real-IP }\n', 'CONFIG_BAD_CIDR', 'routes.a.load_balance.options.from', 5), /at least one/);
    one('routes:\n  a:\n    url: http://a:1\n    load_balance:\n      options:\n        from: []\n', 'CONFIG_BAD_CIDR', 'routes.a.load_balance.options.from', 6);
    one('routes:\n  a:\n    url: http://a:1\n    load_balance:\n      options: { header: "bad header", from: [10.0.0.1] }\n', 'CONFIG_BAD_TYPE', 'routes.a.load_balance.options.header', 5);
    one('routes:\n  a:\n    url: http://a:1\n    load_balance:\n      options: { recursive: 1, from: [10.0.0.1] }\n', 'CONFIG_BAD_TYPE', 'routes.a.load_balance.options.recursive', 5);
  });
  it('an injected CIDR validator is used instead of the built-in one', () => {
    const cwd = join(dir, 'inject');
    mkdirSync(cwd);
    writeFileSync(join(cwd, 'config.yml'), 'entrypoint:\n  trusted_proxies: [10.0.0.1, 10.0.0.2]\n');
    const r = loadConfig({ env: {}, cwd, validateCidr: (s) => (s === '10.0.0.2' ? 'not allowed by the injected check' : undefined) });
    assert.ok(!r.ok);
    assert.equal(r.errors[0]?.format(), 'config.yml:2 entrypoint.trusted_proxies[1]: not allowed by the injected check');
  });
  it('mode names are normalised; unknown modes are errors with a suggestion', () => {
    for (const [given, want] of [['round_robin', 'roundrobin'], ['RoundRobin', 'roundrobin'], ['LEAST_CONN', 'leastconn'], ['leastconn', 'leastconn'], ['ip_hash', 'iphash'], ['IPHash', 'iphash']] as const) {
      assert.equal(ok(`defaults:\n  load_balance: { mode: ${given} }\n`).defaults.loadBalance.mode, want, given);
    }
    assert.match(one('defaults:\n  load_balance: { mode: random }\n', 'CONFIG_BAD_MODE', 'defaults.load_balance.mode', 2), /unknown mode "random" \(modes: roundrobin, leastconn, iphash/);
    assert.match(one('routes:\n  a:\n    url: http://a:1\n    load_balance: { mode: lestconn }\n', 'CONFIG_BAD_MODE', 'routes.a.load_balance.mode', 4), /did you mean "leastconn"\?/);
    one('routes:\n  a:\n    url: http://a:1\n    load_balance: { mode: round-robin }\n', 'CONFIG_BAD_MODE', 'routes.a.load_balance.mode', 4);
  });
  it('weights, rise and fall are positive integers', () => {
    const w = (v: string): string => one(`routes:\n  web:\n    members:\n      - { url: "http://a:1", weight: ${v} }\n`, v.startsWith('"') ? 'CONFIG_BAD_TYPE' : 'CONFIG_BAD_NUMBER', 'routes.web.members[0].weight', 4);
    for (const v of ['0', '-1', '1.5', '"30"']) assert.match(w(v), /positive whole number/);
    one('defaults:\n  healthcheck: { rise: 0 }\n', 'CONFIG_BAD_NUMBER', 'defaults.healthcheck.rise', 2);
    one('defaults:\n  healthcheck: { fall: 2.5 }\n', 'CONFIG_BAD_NUMBER', 'defaults.healthcheck.fall', 2);
    one('defaults:\n  healthcheck: { fall: many }\n', 'CONFIG_BAD_TYPE', 'defaults.healthcheck.fall', 2);
    one('routes:\n  a:\n    url: http://a:1\n    healthcheck: { rise: -2 }\n', 'CONFIG_BAD_NUMBER', 'routes.a.healthcheck.rise', 4);
    one('routes:\n  a:\n    url: http://a:1\n    load_balance: { weight: 0 }\n', 'CONFIG_BAD_NUMBER', 'routes.a.load_balance.weight', 4);
    assert.match(one('routes:\n  a:\n    members: [{ url: "http://a:1" }]\n    load_balance: { weight: 5 }\n', 'CONFIG_BAD_ROUTE', 'routes.a.load_balance.weight', 4), /set weight on each member/);
  });
  it('healthcheck path must start with /', () => {
    for (const p of ['health', '"//evil/x"', '"/a b"', '"/a#b"', '"/a\\tb"']) {
      assert.match(one(`routes:\n  a:\n    url: http://a:1\n    healthcheck:\n      path: ${p}\n`, 'CONFIG_BAD_PATH', 'routes.a.healthcheck.path', 5), /must start with "\/"/);
    }
  });
  it('docker hosts, domains, aliases and log level', () => {
    one('docker:\n  hosts: [/var/run/docker.sock]\n', 'CONFIG_BAD_DOCKER_HOST', 'docker.hosts[0]', 2);
    one('match_domains: ["bad domain"]\n', 'CONFIG_BAD_DOMAIN', 'match_domains[0]', 1);
    one('routes:\n  "bad name":\n    url: http://a:1\n', 'CONFIG_BAD_ALIAS', 'routes.bad name', 2);
    one('routes:\n  a:\n    url: http://a:1\n    aliases: [ok, "x.*.com"]\n', 'CONFIG_BAD_ALIAS', 'routes.a.aliases[1]', 4);
    // The route table's grammar (internal/routes): no label ends or starts with "-", none is
    // longer than 63 characters. The file used to accept these and the table then dropped them.
    for (const bad of ['app-', '-app', 'a-.example.com', '*.example-', 'x'.repeat(64)]) {
      one(`routes:\n  a:\n    url: http://a:1\n    aliases: ["${bad}"]\n`, 'CONFIG_BAD_ALIAS', 'routes.a.aliases[0]', 4);
    }
    one('routes:\n  app-:\n    url: http://a:1\n', 'CONFIG_BAD_ALIAS', 'routes.app-', 2);
    one('match_domains: [example-.com]\n', 'CONFIG_BAD_DOMAIN', 'match_domains[0]', 1);
    assert.match(one('log_level: warning\n', 'CONFIG_BAD_LOG_LEVEL', 'log_level', 1), /did you mean "warn"\?/);
  });
  it('route shape problems', () => {
    assert.match(one('routes:\n  a:\n', 'CONFIG_BAD_ROUTE', 'routes.a', 2), /needs "url:" or "members:"/);
    one('routes:\n  a:\n    aliases: [b]\n', 'CONFIG_BAD_ROUTE', 'routes.a', 2);
    assert.match(one('routes:\n  a:\n    url: http://a:1\n    members: [{ url: "http://b:1" }]\n', 'CONFIG_BAD_ROUTE', 'routes.a', 4), /not both/);
    assert.match(one('routes:\n  a:\n    members: []\n', 'CONFIG_BAD_ROUTE', 'routes.a.members', 3), /at least one/);
    assert.match(one('routes:\n  a:\n    members:\n      - { name: x }\n', 'CONFIG_BAD_ROUTE', 'routes.a.members[0].url', 4), /needs a url/);
    assert.match(one('routes:\n  a:\n    members:\n      - { name: x, url: "http://a:1" }\n      - { name: x, url: "http://a:2" }\n', 'CONFIG_DUPLICATE', 'routes.a.members[1].name', 5), /used twice/);
    one('routes:\n  a:\n    members:\n      - { name: "x/y", url: "http://a:1" }\n', 'CONFIG_BAD_ROUTE', 'routes.a.members[0].name', 4);
    one('routes:\n  a:\n    members:\n      - { name: 3, url: "http://a:1" }\n', 'CONFIG_BAD_TYPE', 'routes.a.members[0].name', 4);
    one('routes:\n  a:\n    members:\n      - { url: "http://a:1", no_tls_verify: 1 }\n', 'CONFIG_BAD_TYPE', 'routes.a.members[0].no_tls_verify', 4);
    one('routes:\n  a:\n    url: "http://a:1"\n    no_pipelining: 1\n', 'CONFIG_BAD_TYPE', 'routes.a.no_pipelining', 4);
    one('routes:\n  a:\n    url: http://a:1\n    no_tls_verify: 1\n', 'CONFIG_BAD_TYPE', 'routes.a.no_tls_verify', 4);
    assert.match(one('routes:\n  a:\n    url: http://a:1\n  b:\n    url: http://b:1\n    aliases: [A]\n', 'CONFIG_DUPLICATE', 'routes.b', 6), /already used by route "a"/);
  });
  it('YAML syntax errors and duplicate keys carry their line', () => {
    const es = errors('entrypoint:\n  http: ":80"\n  http: ":81"\n');
    assert.equal(es[0]?.code, 'CONFIG_YAML_SYNTAX');
    assert.equal(es[0]?.line, 3);
    const es2 = errors('routes:\n  a:\n    url: [http://a:1\n');
    assert.equal(es2[0]?.code, 'CONFIG_YAML_SYNTAX');
    assert.ok(es2[0]?.line !== undefined && es2[0].line >= 3);
    assert.doesNotMatch(formatConfigErrors(es2), /\n\s*\^/); // one line per problem
  });
  it('collects every problem, in file order, one line each', () => {
    const es = errors(`entrypoint:
  http: 80
  timeouts:
    idle: 30
routes:
  web:
    members:
      - { name: web-1, url: "http://127.0.0.1:9001/app", weight: 0 }
    load_balance: { mode: fastest }
    healthcheck: { path: health }
log_levl: info
`);
    assert.deepEqual(
      formatConfigErrors(es).split('\n').map((l) => l.replace(/: .*$/, '')),
      [
        'config.yml:2 entrypoint.http',
        'config.yml:4 entrypoint.timeouts.idle',
        'config.yml:8 routes.web.members[0].url',
        'config.yml:8 routes.web.members[0].weight',
        'config.yml:9 routes.web.load_balance.mode',
        'config.yml:10 routes.web.healthcheck.path',
        'config.yml:11 log_levl',
      ],
    );
  });
  it('converts to the admin API error shape', () => {
    const [e] = errors('log_level: x\n');
    assert.deepEqual({ ...e?.toRouteError() }, { code: 'CONFIG_BAD_LOG_LEVEL', source: 'config.yml', key: 'log_level', message: e?.message, line: 1 });
    assert.equal(new ConfigError('CONFIG_BAD_TYPE', 'k', 'm').toRouteError().source, 'config');
    assert.equal(new ConfigError('CONFIG_BAD_TYPE', 'k', 'm').format(), 'k: m');
  });
  it('an alias-heavy file is walked only along the schema', () => {
    // 12 levels of 10× aliases would be 10^12 nodes if expanded; only schema paths are visited.
    const lines = ['l0: &l0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i <= 12; i++) lines.push(`l${String(i)}: &l${String(i)} [${Array.from({ length: 10 }, () => `*l${String(i - 1)}`).join(', ')}]`);
    const es = errors(`x:\n${lines.map((l) => `  ${l}`).join('\n')}\nmatch_domains: *l12\n`);
    assert.deepEqual([...new Set(es.map((e) => e.code))], ['CONFIG_UNKNOWN_KEY', 'CONFIG_BAD_TYPE']);
    assert.equal(es.length, 11); // x, and match_domains[0..9] are lists, not strings
  });
});

describe('healthcheck.status', () => {
  it('in a route, in defaults.healthcheck (inherited by routes and labels), or absent (default)', () => {
    const c = ok(`defaults:
  healthcheck: { status: "200-499" }
routes:
  a:
    url: http://h:1
    healthcheck: { path: /health, status: " 200, 204 ,301 - 302" }
  b:
    url: http://h:2
  c:
    url: http://h:3
    healthcheck: { status: 204 }
`);
    assert.deepEqual(c.defaults.healthcheck.status, [[200, 499]]);
    assert.deepEqual(c.routes['a']?.members[0]?.healthcheck.status, [[200, 200], [204, 204], [301, 302]]);
    assert.deepEqual(c.routes['b']?.members[0]?.healthcheck.status, [[200, 499]], 'from defaults.healthcheck');
    assert.deepEqual(c.routes['c']?.members[0]?.healthcheck.status, [[204, 204]], 'a YAML number is one code');
    assert.deepEqual(defaultHealthcheck(c).status, [[200, 499]], 'labels start from the defaults');
    const plain = ok('routes:\n  a:\n    url: http://h:1\n');
    assert.equal('status' in (plain.routes['a']?.members[0]?.healthcheck ?? {}), false, 'absent: the default 200-399');
    assert.equal('status' in defaultHealthcheck(plain), false);
  });
  it('a bad value is one error with the key path and line', () => {
    assert.equal(
      one('routes:\n  a:\n    url: http://a:1\n    healthcheck:\n      status: 399-200\n', 'CONFIG_BAD_STATUS', 'routes.a.healthcheck.status', 5),
      'range "399-200" runs backwards; write 200-399',
    );
    assert.equal(one('defaults:\n  healthcheck:\n    status: "200,700"\n', 'CONFIG_BAD_STATUS', 'defaults.healthcheck.status', 3), 'status code 700 in "200,700" is outside 100-599');
    assert.match(one('routes:\n  a:\n    url: http://a:1\n    healthcheck: { status: ok }\n', 'CONFIG_BAD_STATUS', 'routes.a.healthcheck.status', 4), /"ok" is not a status code or range/);
    assert.match(one('routes:\n  a:\n    url: http://a:1\n    healthcheck: { status: [200, 204] }\n', 'CONFIG_BAD_TYPE', 'routes.a.healthcheck.status', 4), /expected status codes like "200-399".*got a list/);
    one('defaults:\n  healthcheck: { status: "" }\n', 'CONFIG_BAD_STATUS', 'defaults.healthcheck.status', 2);
    one('defaults:\n  healthcheck: { status: 2.5 }\n', 'CONFIG_BAD_TYPE', 'defaults.healthcheck.status', 2);
  });
  it('a misspelt key suggests status', () => {
    assert.match(one('routes:\n  a:\n    url: http://a:1\n    healthcheck: { stauts: 200-499 }\n', 'CONFIG_UNKNOWN_KEY', 'routes.a.healthcheck.stauts', 4), /did you mean "status"\?/);
    assert.match(one('defaults:\n  healthcheck: { statu: 200-499 }\n', 'CONFIG_UNKNOWN_KEY', 'defaults.healthcheck.statu', 2), /did you mean "status"\?/);
  });
});

describe('middlewares in the config file (docs/middlewares.md)', () => {
  it('entrypoint.middlewares: an ordered list of { use, …options }; names and options fold case and "_"', () => {
    const c = ok('entrypoint:\n  middlewares:\n    - use: CIDRWhitelist\n      Allow: [10.0.0.0/8]\n    - use: modify_request\n      set_headers: { X-A: b }\n      bypass: ["path /health"]\n');
    assert.deepEqual(c.entrypoint.middlewares.map((m) => [m.name, m.priority, m.bypass, m.options, m.key]), [
      ['cidr_whitelist', 10, [], { allow: ['10.0.0.0/8'] }, 'entrypoint.middlewares[0]'],
      ['request', 10, ['path /health'], { set_headers: { 'X-A': 'b' } }, 'entrypoint.middlewares[1]'],
    ]);
    assert.deepEqual(ok('entrypoint: {}\n').entrypoint.middlewares, []);
  });

  it('routes.<name>.middlewares: a mapping name → options, carried on the route spec', () => {
    const c = ok('routes:\n  nas:\n    url: http://127.0.0.1:5000\n    middlewares:\n      rate_limit: { average: 10, burst: 20, priority: 1 }\n      redirect_http:\n');
    assert.deepEqual(c.routes.nas?.middlewares?.map((m) => [m.name, m.priority, m.options, m.key]), [
      ['rate_limit', 1, { average: 10, burst: 20 }, 'routes.nas.middlewares.rate_limit'],
      ['redirect_http', 10, {}, 'routes.nas.middlewares.redirect_http'],
    ]);
    const plain = ok('entrypoint:\n  middlewares: []\nroutes:\n  nas:\n    url: http://127.0.0.1:5000\n    middlewares: {}\n    rules: []\n');
    assert.equal(plain.routes.nas?.middlewares, undefined);
  });

  it('an unknown middleware or option is an error with its key, line and a did-you-mean', () => {
    assert.match(one('entrypoint:\n  middlewares:\n    - use: ip_whitelist\n', 'CONFIG_UNKNOWN_MIDDLEWARE', 'entrypoint.middlewares[0]', 3), /unknown middleware "ip_whitelist" \(did you mean "cidr_whitelist"\?\)/);
    assert.match(one('routes:\n  nas:\n    url: http://127.0.0.1:5000\n    middlewares:\n      rate_limit:\n        average: 10\n        brust: 5\n', 'CONFIG_BAD_MIDDLEWARE', 'routes.nas.middlewares.rate_limit.brust', 7), /rate_limit has no option "brust" \(did you mean "burst"\?\)/);
    assert.match(one('routes:\n  nas:\n    url: http://127.0.0.1:5000\n    middlewares:\n      cidr_whitelist: { allow: [nope] }\n', 'CONFIG_BAD_MIDDLEWARE', 'routes.nas.middlewares.cidr_whitelist.allow', 5), /cidr_whitelist\.allow/);
    assert.match(one('entrypoint:\n  middlewares:\n    - { allow: [10.0.0.0/8] }\n', 'CONFIG_BAD_MIDDLEWARE', 'entrypoint.middlewares[0]', 3), /needs a name/);
  });

  it('a middleware Bellhop cannot apply yet stops the config from loading, naming it by key and line, never its options', () => {
    const es = errors('entrypoint:\n  middlewares:\n    - use: crowdsec\n      api_key: secret\nroutes:\n  nas:\n    url: http://127.0.0.1:5000\n    middlewares:\n      hcaptcha: { secret: "$2y$05$x" }\n    rules:\n      - on: path /admin\n        do: serve /srv\n');
    assert.deepEqual(es.map((e) => [e.code, e.key, e.line]), [
      ['CONFIG_UNSUPPORTED', 'entrypoint.middlewares[0]', 3],
      ['CONFIG_UNSUPPORTED', 'routes.nas.middlewares.hcaptcha', 9],
      ['CONFIG_UNSUPPORTED', 'routes.nas.rules', 10],
    ]);
    assert.match(es[0]!.message, /"crowdsec" restricts access.*rather than serving every route without it/);
    assert.match(es[1]!.message, /"hcaptcha" restricts access.*rather than serving this route without it/);
    assert.ok(!es.some((e) => e.message.includes('$2y$') || e.message.includes('secret')), 'messages name the middleware, never its options');
  });
});

describe('routes.<name>.rules (docs/rules.md)', () => {
  it('block text or a list of rules becomes the route\'s first stage; a mistake is an error with its line', () => {
    const c = ok('routes:\n  nas:\n    url: http://127.0.0.1:5000\n    rules: |\n      path glob(/admin/*) {\n        error 403 Forbidden\n      }\n');
    assert.deepEqual(c.routes.nas?.middlewares?.map((m) => [m.name, m.key]), [['rules', 'routes.nas.rules']]);
    const l = ok('routes:\n  nas:\n    url: http://127.0.0.1:5000\n    middlewares: { rate_limit: { average: 5 } }\n    rules:\n      - on: path /admin\n        do: error 403 Forbidden\n');
    assert.deepEqual(l.routes.nas?.middlewares?.map((m) => m.name), ['rules', 'rate_limit']);
    assert.match(one('routes:\n  nas:\n    url: http://127.0.0.1:5000\n    rules: |\n      default {\n        teleport /x\n      }\n', 'CONFIG_BAD_MIDDLEWARE', 'routes.nas.rules', 4), /unknown command "teleport"/);
  });
});

describe('wake.show_logs (docs/sleep-and-wake.md)', () => {
  it('defaults to private; always, private and never are accepted (any case)', () => {
    assert.deepEqual(ok(undefined).wake, { showLogs: 'private' });
    assert.equal(ok('wake: {}\n').wake.showLogs, 'private');
    assert.equal(ok('wake:\n  show_logs: always\n').wake.showLogs, 'always');
    assert.equal(ok('wake:\n  show_logs: Never\n').wake.showLogs, 'never');
    assert.equal(ok('wake:\n  show_logs: private\n').wake.showLogs, 'private');
  });

  it('anything else is an error naming the key and line, with a suggestion', () => {
    assert.match(one('wake:\n  show_logs: privat\n', 'CONFIG_BAD_SHOW_LOGS', 'wake.show_logs', 2), /unknown value "privat"; did you mean "private"\?.*always, private, never/);
    assert.match(one('wake:\n  show_logs: lan\n', 'CONFIG_BAD_SHOW_LOGS', 'wake.show_logs', 2), /expected one of always, private, never/);
    assert.match(one('wake:\n  show_logs: false\n', 'CONFIG_BAD_SHOW_LOGS', 'wake.show_logs', 2), /write never/);
    assert.match(one('wake:\n  show_logs: true\n', 'CONFIG_BAD_SHOW_LOGS', 'wake.show_logs', 2), /write always/);
    assert.match(one('wake:\n  show_logs: [always]\n', 'CONFIG_BAD_TYPE', 'wake.show_logs', 2), /expected one of always, private, never/);
    assert.match(one('wake:\n  show_log: never\n', 'CONFIG_UNKNOWN_KEY', 'wake.show_log', 2), /did you mean "show_logs"\?/);
    assert.match(one('show_logs: never\n', 'CONFIG_UNKNOWN_KEY', 'show_logs', 1), /did you mean wake\.show_logs\?/);
  });
});

describe('routes.<name>.no_pipelining (docs/proxy.md, "Pipelining")', () => {
  it('opts every member of the route out of upstream pipelining', () => {
    const c = ok('routes:\n  nas:\n    url: "http://127.0.0.1:5000"\n    no_pipelining: true\n  web:\n    url: "http://127.0.0.1:5001"\n');
    const members = staticRoutes(c);
    assert.equal(members.find((r) => r.name === 'nas')?.members[0]?.noPipelining, true);
    assert.equal(members.find((r) => r.name === 'web')?.members[0]?.noPipelining, undefined);
  });
});
