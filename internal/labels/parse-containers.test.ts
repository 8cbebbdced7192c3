// Fixture tests: containers with labels → routes and errors. Covers docs/labels.md, docs/discovery.md and the behaviours
// GoDoxy's own label tests assert (research/godoxy.md §7), with Bellhop's precedence where it
// differs (explicit alias > #N > *; dotted label > same field in a YAML value).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RouteSpec } from '../routes/index.ts';
import { container, defaultHealthcheck, options, replica } from '../../test/fixtures/labels/containers.ts';
import { parseContainers } from './index.ts';
import type { LabelledContainer, ParseOptions, ParseResult } from './index.ts';

function parse(list: LabelledContainer[], over: Partial<ParseOptions> = {}): ParseResult {
  return parseContainers(list, options(over));
}
function route(r: ParseResult, name: string): RouteSpec {
  const found = r.routes.find((x) => x.name === name);
  assert.ok(found, `route ${name} missing; have ${r.routes.map((x) => x.name).join(', ')}; errors ${JSON.stringify(r.errors)}`);
  return found;
}
function url(r: ParseResult, name: string, i = 0): string {
  return route(r, name).members[i]?.url ?? '<none>';
}
function codes(r: ParseResult): string[] {
  return r.errors.map((e) => e.code);
}
function one(labels: Record<string, string>, over: Partial<LabelledContainer> = {}, opts: Partial<ParseOptions> = {}): ParseResult {
  return parse([container({ name: 'app', labels, ...over })], opts);
}
function errorFor(r: ParseResult, code: string): { key: string; message: string; source: string } {
  const e = r.errors.find((x) => x.code === code);
  assert.ok(e, `expected ${code}, got ${JSON.stringify(r.errors)}`);
  return e;
}

describe('which containers are routed', () => {
  test('an unlabelled container is ignored without expose_all', () => {
    const r = parse([container({ name: 'whoami' })]);
    assert.deepEqual(r.routes, []);
    assert.deepEqual(r.errors, []);
  });

  test('expose_all routes an unlabelled container by name at its network IP and only port', () => {
    const r = parse([container({ name: 'whoami', image: 'traefik/whoami' })], { exposeAll: true });
    assert.equal(url(r, 'whoami'), 'http://172.18.0.5:80');
    assert.equal(route(r, 'whoami').source, 'docker');
    assert.deepEqual(route(r, 'whoami').aliases, ['whoami']);
  });

  test('expose_all skips databases and caches by image name unless labelled', () => {
    const dbs = ['postgres:16', 'docker.io/library/redis:7-alpine', 'valkey/valkey:8', 'mariadb', 'mongo@sha256:abc', 'memcached:1', 'elasticsearch:8.1'];
    const r = parse(dbs.map((image, i) => container({ name: `db${String(i)}`, image, exposedPorts: [8080] })), { exposeAll: true });
    assert.deepEqual(r.routes, []);
    const labelled = parse([container({ name: 'pg', image: 'postgres:16', exposedPorts: [5432], labels: { 'proxy.aliases': 'pg' } })], { exposeAll: true });
    assert.equal(url(labelled, 'pg'), 'http://172.18.0.5:5432');
  });

  test('expose_all skips a container exposing only database ports, and one with no port (warning only)', () => {
    const r = parse([container({ name: 'cache', exposedPorts: [6379] }), container({ name: 'worker', exposedPorts: [] })], { exposeAll: true });
    assert.deepEqual(r.routes, []);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.warnings.map((w) => [w.code, w.source]), [['LABEL_SKIPPED_NO_PORT', 'worker']]);
  });

  test('proxy.exclude: true hides the container, even with broken labels', () => {
    const r = one({ 'proxy.exclude': 'true', 'proxy.app.port': 'abc' });
    assert.deepEqual(r.routes, []);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(parse([container({ name: 'x', labels: { 'proxy.exclude': 'true' } })], { exposeAll: true }).routes, []);
  });

  test('proxy.exclude with a non-boolean is an error', () => {
    const r = one({ 'proxy.exclude': 'banana' });
    assert.equal(errorFor(r, 'LABEL_BAD_BOOL').key, 'proxy.exclude');
    assert.deepEqual(r.routes, []);
  });

  test('any proxy. label makes a container explicit (proxy.idle_timeout alone)', () => {
    const r = one({ 'proxy.idle_timeout': '15m' });
    assert.equal(url(r, 'app'), 'http://172.18.0.5:80');
  });
});

describe('aliases and per-alias labels', () => {
  test('default alias is the container name (GoDoxy), and for compose the service name too', () => {
    const r = parse([container({ name: 'Blog', labels: { 'proxy.exclude': 'false' } }), replica('p', 'shop', 1, { labels: { 'proxy.exclude': 'false' } })]);
    assert.deepEqual(r.routes.map((x) => x.name), ['blog', 'p-shop-1', 'shop']);
    assert.deepEqual(r.warnings, []);
  });

  test('proxy.aliases with #N: FQDN alias addressed by index (GoDoxy 1.7 #2)', () => {
    const r = one({ 'proxy.aliases': 'app, app.example.org', 'proxy.#1.port': '8080', 'proxy.#2.port': '8081' }, { exposedPorts: [8080, 8081] });
    assert.equal(url(r, 'app'), 'http://172.18.0.5:8080');
    assert.equal(url(r, 'app.example.org'), 'http://172.18.0.5:8081');
  });

  test('aliases a,b,c named per alias (GoDoxy docker_test)', () => {
    const labels = { 'proxy.aliases': 'a,b c', 'proxy.a.port': '3333', 'proxy.b.port': '1234', 'proxy.c.scheme': 'https' };
    const r = one(labels);
    assert.equal(url(r, 'a'), 'http://172.18.0.5:3333');
    assert.equal(url(r, 'b'), 'http://172.18.0.5:1234');
    assert.equal(url(r, 'c'), 'https://172.18.0.5:80');
    // without an exposed port, c has none: c is in error, a and b keep their routes (GoDoxy)
    const none = one(labels, { exposedPorts: [] });
    assert.deepEqual(none.routes.map((x) => x.name), ['a', 'b']);
    assert.equal(errorFor(none, 'LABEL_NO_PORT').key, 'proxy.c.port');
  });

  test('aliases a,b,c by index, host and scheme (GoDoxy docker_test)', () => {
    const r = one({ 'proxy.aliases': 'a,b,c', 'proxy.#1.host': 'localhost', 'proxy.#1.port': '4444', 'proxy.#2.port': '9999', 'proxy.#3.port': '1111', 'proxy.#3.scheme': 'https' });
    assert.equal(url(r, 'a'), 'http://localhost:4444');
    assert.equal(url(r, 'b'), 'http://172.18.0.5:9999');
    assert.equal(url(r, 'c'), 'https://172.18.0.5:1111');
  });

  test('#N out of range (#4 with two aliases, #0) is an error and the container gets no routes', () => {
    const r = one({ 'proxy.aliases': 'a,b', 'proxy.#4.port': '80', 'proxy.#0.port': '80' });
    assert.deepEqual(r.routes, []);
    const keys = r.errors.filter((e) => e.code === 'LABEL_ALIAS_INDEX').map((e) => e.key).sort();
    assert.deepEqual(keys, ['proxy.#0.port', 'proxy.#4.port']);
    assert.match(errorFor(r, 'LABEL_ALIAS_INDEX').message, /2 alias/);
    assert.equal(errorFor(r, 'LABEL_ALIAS_INDEX').source, 'app');
  });

  test('wildcard basics: explicit alias beats * (GoDoxy had * win)', () => {
    const r = one({ 'proxy.aliases': 'a,b', 'proxy.a.host': 'localhost', 'proxy.b.port': '4444', 'proxy.b.scheme': 'http', 'proxy.*.port': '5555', 'proxy.*.healthcheck.disable': 'true' });
    assert.equal(url(r, 'a'), 'http://localhost:5555');
    assert.equal(url(r, 'b'), 'http://172.18.0.5:4444');
    assert.equal(route(r, 'a').members[0]?.healthcheck.disable, true);
    assert.equal(route(r, 'b').members[0]?.healthcheck.disable, true);
  });

  test('a label naming an undeclared alias adds a route, and * applies to it too (GoDoxy dynamic aliases)', () => {
    const r = one({ 'proxy.aliases': 'a,b', 'proxy.c.host': 'localhost', 'proxy.*.port': '5555' });
    assert.deepEqual(r.routes.map((x) => x.name), ['a', 'b', 'c']);
    assert.equal(url(r, 'c'), 'http://localhost:5555');
    const d = parse([container({ name: 'app1', exposedPorts: [1234, 5678], labels: { 'proxy.app1.port': '1234', 'proxy.app1_backend.port': '5678' } })]);
    assert.equal(url(d, 'app1'), 'http://172.18.0.5:1234');
    assert.equal(url(d, 'app1_backend'), 'http://172.18.0.5:5678');
  });

  test('explicit alias beats #N beats * (GoDoxy: #1.host=host1, a.host=host2)', () => {
    const r = one({ 'proxy.aliases': 'a,b', 'proxy.#1.host': 'host1', 'proxy.a.host': 'host2', 'proxy.*.host': 'host3', 'proxy.*.port': '5555' });
    assert.equal(url(r, 'a'), 'http://host2:5555');
    assert.equal(url(r, 'b'), 'http://host3:5555');
    const s = one({ 'proxy.aliases': 'a,b', 'proxy.#2.host': 'host1', 'proxy.*.host': 'host3' });
    assert.equal(url(s, 'b'), 'http://host1:80');
  });

  test('YAML wildcard with tabs: alias labels beat it, fields merge (GoDoxy TestExpandWildcard YAML)', () => {
    const r = one({
      'proxy.aliases': 'a',
      'proxy.*': 'host: app.internal\nport: 5555\nhealthcheck:\n\tdisable: true\n',
      'proxy.a.port': '4444',
      'proxy.a.healthcheck.disable': 'false',
      'proxy.a.healthcheck.path': '/health',
    });
    assert.equal(url(r, 'a'), 'http://app.internal:4444');
    assert.equal(route(r, 'a').members[0]?.healthcheck.disable, false);
    assert.equal(route(r, 'a').members[0]?.healthcheck.path, '/health');
  });

  test('invalid YAML is an error (GoDoxy ignored it silently)', () => {
    const r = one({ 'proxy.*': 'port: [unclosed' });
    assert.equal(errorFor(r, 'LABEL_BAD_YAML').key, 'proxy.*');
    assert.deepEqual(r.routes, []);
  });

  test('whole route as a YAML value; a dotted label beats the same field inside it', () => {
    const r = one({
      'proxy.app': 'port: 80\nscheme: http\nno_tls_verify: true\nload_balance:\n  mode: least_conn\n  weight: 30\nhealthcheck: {path: /ping, interval: 10s}\n',
      'proxy.app.port': '81',
    });
    const m = route(r, 'app').members[0];
    assert.equal(m?.url, 'http://172.18.0.5:81');
    assert.equal(m?.noTlsVerify, true);
    assert.equal(m?.weight, 30);
    assert.equal(m?.healthcheck.path, '/ping');
    assert.equal(m?.healthcheck.intervalMs, 10_000);
    assert.equal(route(r, 'app').loadBalance.mode, 'leastconn');
  });

  test('object + flat merge: healthcheck YAML plus a dotted path (GoDoxy 8)', () => {
    const r = one({ 'proxy.app.healthcheck': 'path: /a\ninterval: 3s', 'proxy.app.healthcheck.path': '/b' });
    const hc = route(r, 'app').members[0]?.healthcheck;
    assert.equal(hc?.path, '/b');
    assert.equal(hc?.intervalMs, 3000);
  });

  test('the deeper YAML label beats the shallower: proxy.app.load_balance over proxy.app', () => {
    const r = one({ 'proxy.app': 'load_balance: {mode: leastconn}', 'proxy.app.load_balance': 'mode: iphash' });
    assert.equal(route(r, 'app').loadBalance.mode, 'iphash');
  });

  test('alias beats * even when the alias value is YAML and the wildcard is dotted', () => {
    const r = one({ 'proxy.app': 'port: 81', 'proxy.*.port': '82' });
    assert.equal(url(r, 'app'), 'http://172.18.0.5:81');
  });

  test('scalar / mapping mismatches are errors (GoDoxy "expect mapping")', () => {
    assert.equal(errorFor(one({ 'proxy.app.healthcheck.path.x': '1' }), 'LABEL_NOT_MAPPING').key, 'proxy.app.healthcheck.path.x');
    assert.ok(codes(one({ 'proxy.app': 'load_balance: roundrobin' })).includes('LABEL_NOT_MAPPING'));
    assert.ok(codes(one({ 'proxy.app': 'just a string' })).includes('LABEL_NOT_MAPPING'));
    assert.ok(codes(one({ 'proxy.app': '- a\n- b' })).includes('LABEL_NOT_MAPPING'));
  });

  test('the bare label "proxy" and empty segments are errors (GoDoxy ErrInvalidLabel)', () => {
    assert.equal(errorFor(one({ proxy: 'invalid', 'other.label': 'value' }), 'LABEL_INVALID_KEY').key, 'proxy');
    assert.ok(codes(one({ 'proxy..port': '80' })).includes('LABEL_INVALID_KEY'));
    assert.ok(codes(one({ 'proxy.#x.port': '80' })).includes('LABEL_INVALID_KEY'));
  });

  test('GoDoxy TestApplyLabel: container idle settings shared by aliases, * fields, ignored GoDoxy fields', () => {
    const r = one({
      'proxy.aliases': 'a,b',
      'proxy.idle_timeout': '10s',
      'proxy.stop_method': 'stop',
      'proxy.stop_signal': 'SIGTERM',
      'proxy.stop_timeout': '1h',
      'proxy.wake_timeout': '10s',
      'proxy.*.no_tls_verify': 'true',
      'proxy.*.scheme': 'https',
      'proxy.*.host': 'app',
      'proxy.*.port': '4567',
      'proxy.a.middlewares.request.set_headers': 'X-Header: value1',
      'proxy.a.homepage.icon': '@selfhst/adguard-home.png',
      'proxy.a.healthcheck.path': '/ping',
      'proxy.a.healthcheck.interval': '10s',
    });
    for (const name of ['a', 'b']) {
      const m = route(r, name).members[0];
      assert.equal(m?.url, 'https://app:4567');
      assert.equal(m?.noTlsVerify, true);
      assert.deepEqual(m?.container?.idle, { idleTimeoutMs: 10_000, wakeTimeoutMs: 10_000, stopTimeoutMs: 3_600_000, stopMethod: 'stop', stopSignal: 'SIGTERM', startEndpoint: undefined, noLoadingPage: false, dependsOn: [] });
    }
    assert.equal(route(r, 'a').members[0]?.healthcheck.path, '/ping');
    assert.equal(route(r, 'a').members[0]?.healthcheck.intervalMs, 10_000);
    assert.equal(route(r, 'b').members[0]?.healthcheck.path, undefined);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(route(r, 'a').middlewares?.map((m) => [m.name, m.options]), [['request', { set_headers: 'X-Header: value1' }]]);
    assert.equal(route(r, 'b').middlewares, undefined);
    assert.deepEqual(r.warnings.map((w) => w.code), ['LABEL_IGNORED_FIELD'], 'homepage only: request is a middleware Bellhop runs');
  });

  test('no_pipelining: the alias opts its members out of upstream pipelining; others keep the default', () => {
    const r = one({ 'proxy.aliases': 'a,b', 'proxy.a.no_pipelining': 'true', 'proxy.b.port': '81' });
    assert.deepEqual(r.errors, []);
    assert.equal(route(r, 'a').members[0]?.noPipelining, true);
    assert.equal(route(r, 'b').members[0]?.noPipelining, undefined);
    assert.ok(codes(one({ 'proxy.a.no_pipelining': 'maybe' })).length > 0, 'not a boolean: an error');
  });

  test('FQDN and wildcard aliases via proxy.aliases', () => {
    const r = one({ 'proxy.aliases': 'App.Example.com., *.apps.example.com' });
    assert.deepEqual(r.routes.map((x) => x.name), ['*.apps.example.com', 'app.example.com']);
    assert.ok(codes(one({ 'proxy.aliases': 'a.*.b' })).includes('LABEL_BAD_ALIAS'));
    assert.ok(codes(one({ 'proxy.aliases': 'bad alias!' })).includes('LABEL_BAD_ALIAS'));
  });

  test('list labels: comma/space lists, one-line [a, b] and YAML "- a" lines (GoDoxy); other line breaks are errors', () => {
    assert.deepEqual(one({ 'proxy.aliases': '[a, "b"]' }).routes.map((x) => x.name), ['a', 'b']);
    assert.deepEqual(one({ 'proxy.aliases': ' a,,b  c ' }).routes.map((x) => x.name), ['a', 'b', 'c']);
    assert.deepEqual(one({ 'proxy.aliases': '- a\n- b\n' }).routes.map((x) => x.name), ['a', 'b']);
    assert.ok(codes(one({ 'proxy.aliases': 'a\nb' })).includes('LABEL_CONTROL_CHAR'));
    assert.ok(codes(one({ 'proxy.aliases': '- a\n- [b' })).includes('LABEL_BAD_YAML'));
    assert.ok(codes(one({ 'proxy.aliases': '- a\n- {x: 1}' })).includes('LABEL_BAD_VALUE'));
    assert.ok(codes(one({ 'proxy.aliases': '[a, {x: 1}]' })).includes('LABEL_BAD_VALUE'));
    assert.ok(codes(one({ 'proxy.aliases': '[a, b' })).includes('LABEL_BAD_YAML'));
    assert.ok(codes(one({ 'proxy.aliases': '{a: 1}' })).includes('LABEL_BAD_ALIAS'));
  });

  test('a dotted FQDN in a label key is an unknown field with a #N hint', () => {
    const e = errorFor(one({ 'proxy.aliases': 'app.example.com', 'proxy.app.example.com.port': '80' }), 'LABEL_UNKNOWN_FIELD');
    assert.match(e.message, /proxy\.#N/);
  });

  test('scalar shortcuts proxy.ports / proxy.schemes (GoDoxy)', () => {
    const r = one({ 'proxy.aliases': 'a,b,c', 'proxy.ports': '8080, 9090  , 10000', 'proxy.schemes': 'http, https' });
    assert.equal(url(r, 'a'), 'http://172.18.0.5:8080');
    assert.equal(url(r, 'b'), 'https://172.18.0.5:9090');
    assert.equal(url(r, 'c'), 'http://172.18.0.5:10000');
  });

  test('a shortcut with a full label for the same field is a conflict naming both', () => {
    for (const full of [{ 'proxy.#1.port': '1' }, { 'proxy.app.port': '2' }, { 'proxy.app': 'port: 3' }, { 'proxy.*.port': '4' }]) {
      const e = errorFor(one({ 'proxy.ports': '8080', ...full }), 'LABEL_SHORTCUT_CONFLICT');
      assert.match(e.message, /proxy\.ports/);
      assert.match(e.message, new RegExp(Object.keys(full)[0]!.replace(/[.*#]/g, '\\$&')));
    }
    assert.ok(codes(one({ 'proxy.aliases': 'a', 'proxy.ports': '1,2' })).includes('LABEL_ALIAS_INDEX'));
  });

  test('the same field twice at one precedence is an error naming both labels', () => {
    const e = errorFor(one({ 'proxy.App.port': '80', 'proxy.app.port': '81' }), 'LABEL_DUPLICATE');
    assert.match(e.message, /proxy\.App\.port/);
    assert.match(e.message, /proxy\.app\.port/);
  });

  test('an unparsable port label on a container that exposes none is one error, not also "no port"', () => {
    const r = one({ 'proxy.aliases': 'app', 'proxy.app.port': 'http' }, { exposedPorts: [] });
    assert.deepEqual(r.errors.map((e) => [e.code, e.key]), [['LABEL_BAD_PORT', 'proxy.app.port']]);
  });

  test('field names ignore case, _ and - (GoDoxy), with healthcheck.disabled and retries spellings', () => {
    const r = one({ 'proxy.app.NoTLSVerify': 'true', 'proxy.app.healthcheck.disabled': 'true', 'proxy.app.HealthCheck.Retries': '5', 'proxy.app.load-balance.sticky-max-age': '2h' });
    const m = route(r, 'app').members[0];
    assert.equal(m?.noTlsVerify, true);
    assert.equal(m?.healthcheck.disable, true);
    assert.equal(m?.healthcheck.fall, 5);
    assert.equal(route(r, 'app').loadBalance.stickyMaxAgeMs, 7_200_000);
  });
});

describe('value errors', () => {
  const cases: Array<[string, Record<string, string>, string, RegExp]> = [
    ['port abc', { 'proxy.app.port': 'abc' }, 'LABEL_BAD_PORT', /not a number/],
    ['port 70000', { 'proxy.app.port': '70000' }, 'LABEL_BAD_PORT', /out of range/],
    ['port 0', { 'proxy.app.port': '0' }, 'LABEL_BAD_PORT', /out of range/],
    ['port -1', { 'proxy.app.port': '-1' }, 'LABEL_BAD_PORT', /not a number/],
    ['port 1:2:3', { 'proxy.app.port': '1234:1234:1234' }, 'LABEL_BAD_PORT', /not a number/],
    ['port 123:', { 'proxy.app.port': '123:' }, 'LABEL_BAD_PORT', /not a number/],
    ['unknown mode', { 'proxy.app.load_balance.mode': 'random' }, 'LABEL_BAD_MODE', /unknown load_balance\.mode "random"/],
    ['CR/LF in a value', { 'proxy.app.healthcheck.path': '/x\r\nX-Evil: 1' }, 'LABEL_CONTROL_CHAR', /line break/],
    ['CR/LF inside a YAML value', { 'proxy.app': 'healthcheck:\n  path: "/x\\r\\nX: 1"' }, 'LABEL_CONTROL_CHAR', /line break/],
    ['bare-number duration', { 'proxy.idle_timeout': '10' }, 'LABEL_BAD_DURATION', /did you mean 10s\?/],
    ['bad duration', { 'proxy.app.healthcheck.interval': '5 seconds' }, 'LABEL_BAD_DURATION', /invalid duration/],
    ['zero interval', { 'proxy.app.healthcheck.interval': '0' }, 'LABEL_BAD_DURATION', /more than 0/],
    ['scheme ftp', { 'proxy.app.scheme': 'ftp' }, 'LABEL_BAD_SCHEME', /http, https, h2c, tcp or udp/],
    ['host with a path', { 'proxy.app.host': 'http://evil/x' }, 'LABEL_BAD_HOST', /not a host name/],
    ['weight -1', { 'proxy.app.load_balance.weight': '-1' }, 'LABEL_BAD_WEIGHT', /whole number/],
    ['weight 1.5', { 'proxy.app.load_balance.weight': '1.5' }, 'LABEL_BAD_WEIGHT', /whole number/],
    ['rise 0', { 'proxy.app.healthcheck.rise': '0' }, 'LABEL_BAD_NUMBER', /whole number/],
    ['health path without /', { 'proxy.app.healthcheck.path': 'health' }, 'LABEL_BAD_PATH', /absolute path/],
    ['health path //evil', { 'proxy.app.healthcheck.path': '//evil/x' }, 'LABEL_BAD_PATH', /absolute path/],
    ['start_endpoint ../foo', { 'proxy.start_endpoint': '../foo' }, 'LABEL_BAD_PATH', /absolute path/],
    ['start_endpoint #', { 'proxy.start_endpoint': '#' }, 'LABEL_BAD_PATH', /absolute path/],
    ['stop_method', { 'proxy.stop_method': 'nuke' }, 'LABEL_BAD_STOP_METHOD', /stop, pause, kill/],
    ['stop_signal', { 'proxy.stop_signal': 'SIGNOPE' }, 'LABEL_BAD_SIGNAL', /signal name/],
    ['bad bool', { 'proxy.app.load_balance.sticky': 'sure' }, 'LABEL_BAD_BOOL', /not a boolean/],
    ['bad header', { 'proxy.app.load_balance.options.header': 'X Real', 'proxy.app.load_balance.options.from': '10.0.0.0/8' }, 'LABEL_BAD_HEADER', /header name/],
    ['bad cidr', { 'proxy.app.load_balance.options.from': '10.0.0.0/33' }, 'LABEL_BAD_CIDR', /CIDR/],
    ['zone id in from', { 'proxy.app.load_balance.options.from': 'fe80::1%eth0' }, 'LABEL_BAD_CIDR', /CIDR/],
    ['bad link', { 'proxy.app.load_balance.link': 'not a name' }, 'LABEL_BAD_LINK', /pool name/],
    ['unknown field', { 'proxy.app.prot': '80' }, 'LABEL_UNKNOWN_FIELD', /did you mean "port"/],
    ['unknown nested field', { 'proxy.app.load_balance.mdoe': 'iphash' }, 'LABEL_UNKNOWN_FIELD', /did you mean "load_balance\.mode"/],
    ['unknown field in YAML', { 'proxy.app': 'helthcheck: {path: /x}' }, 'LABEL_UNKNOWN_FIELD', /did you mean "healthcheck/],
    ['typo of a container-level label', { 'proxy.idle_timout': '10m' }, 'LABEL_UNKNOWN_FIELD', /did you mean proxy\.idle_timeout/],
    ['container-level label per alias (GoDoxy #107)', { 'proxy.app.idle_timeout': '10m' }, 'LABEL_CONTAINER_LEVEL', /proxy\.idle_timeout/],
    ['depends_on garbage', { 'proxy.depends_on': 'db, !!' }, 'LABEL_BAD_DEPENDENCY', /not a container/],
    ['healthcheck.status backwards', { 'proxy.app.healthcheck.status': '399-200' }, 'LABEL_BAD_STATUS', /^healthcheck\.status: range "399-200" runs backwards; write 200-399$/],
    ['healthcheck.status 600', { 'proxy.app.healthcheck.status': '200,600' }, 'LABEL_BAD_STATUS', /status code 600 in "200,600" is outside 100-599/],
    ['healthcheck.status words', { 'proxy.app.healthcheck.status': 'ok' }, 'LABEL_BAD_STATUS', /"ok" is not a status code or range; write e\.g\. 200-399/],
    ['healthcheck.status empty', { 'proxy.app.healthcheck.status': '' }, 'LABEL_BAD_STATUS', /no status codes given/],
    ['healthcheck.status in YAML', { 'proxy.app.healthcheck': 'status: 2xx' }, 'LABEL_BAD_STATUS', /"2xx" is not supported; write 200-299/],
    ['healthcheck.status typo', { 'proxy.app.healthcheck.stauts': '200-499' }, 'LABEL_UNKNOWN_FIELD', /did you mean "healthcheck\.status"/],
    ['healthcheck.status typo in YAML', { 'proxy.app': 'healthcheck: {statsu: 204}' }, 'LABEL_UNKNOWN_FIELD', /did you mean "healthcheck\.status"/],
    ['healthcheck.status as a mapping', { 'proxy.app.healthcheck.status.code': '200' }, 'LABEL_NOT_MAPPING', /healthcheck\.status is a single value/],
  ];
  for (const [name, labels, code, message] of cases) {
    test(`${name} → ${code}, container has no routes`, () => {
      const r = one(labels, { exposedPorts: [80] });
      const e = errorFor(r, code);
      assert.match(e.message, message);
      assert.equal(e.source, 'app');
      assert.ok(e.key.startsWith('proxy.'), e.key);
      assert.deepEqual(r.routes, []);
    });
  }

  test('one broken container does not affect another', () => {
    const r = parse([container({ name: 'bad', labels: { 'proxy.bad.port': '70000' } }), container({ name: 'good', labels: { 'proxy.good.port': '80' } })]);
    assert.deepEqual(r.routes.map((x) => x.name), ['good']);
    assert.deepEqual(r.errors.map((e) => [e.code, e.source, e.key]), [['LABEL_BAD_PORT', 'bad', 'proxy.bad.port']]);
  });

  test('mode names are normalised in any case and spelling', () => {
    for (const [text, mode] of [['round_robin', 'roundrobin'], ['LEAST_CONN', 'leastconn'], ['Ip_Hash', 'iphash'], ['iphash', 'iphash'], ['RoundRobin', 'roundrobin']] as const) {
      assert.equal(route(one({ 'proxy.app.load_balance.mode': text }), 'app').loadBalance.mode, mode, text);
    }
  });

  test('GoDoxy listen:target port: with an HTTP scheme the target with a warning (without one it is a TCP stream); :target is the target', () => {
    const r = one({ 'proxy.app.port': '8080:80', 'proxy.app.scheme': 'http' });
    assert.equal(url(r, 'app'), 'http://172.18.0.5:80');
    assert.equal(r.warnings[0]?.code, 'LABEL_IGNORED_LISTEN_PORT');
    assert.deepEqual(one({ 'proxy.app.port': '8080:80' }).streams.map((s) => s.stream), [{ protocol: 'tcp', port: 8080 }]);
    assert.equal(url(one({ 'proxy.app.port': ':1234' }), 'app'), 'http://172.18.0.5:1234');
  });
});

describe('ports, schemes and addresses', () => {
  test('default port: the only one, else 80/8080/3000/8000/443/8443 in order, else the lowest', () => {
    const pick = (ports: number[]): string => url(one({ 'proxy.exclude': 'false' }, { exposedPorts: ports }), 'app');
    assert.equal(pick([9000]), 'http://172.18.0.5:9000');
    assert.equal(pick([22, 1000, 3000]), 'http://172.18.0.5:3000');
    assert.equal(pick([22, 80, 8080]), 'http://172.18.0.5:80');
    assert.equal(pick([8443, 8000]), 'http://172.18.0.5:8000');
    assert.equal(pick([8443, 9000]), 'https://172.18.0.5:8443');
    assert.equal(pick([42069, 38080]), 'http://172.18.0.5:38080');
  });

  test('published-only ports count; no port at all is an error naming the label to set', () => {
    assert.equal(url(one({ 'proxy.exclude': 'false' }, { exposedPorts: [], publishedPorts: { 9090: 19090 } }), 'app'), 'http://172.18.0.5:9090');
    const e = errorFor(one({ 'proxy.aliases': 'app' }, { exposedPorts: [] }), 'LABEL_NO_PORT');
    assert.match(e.message, /proxy\.app\.port/);
  });

  test('scheme is https for 443 and ports ending in 443; explicit scheme wins', () => {
    assert.equal(url(one({ 'proxy.app.port': '443' }), 'app'), 'https://172.18.0.5:443');
    assert.equal(url(one({ 'proxy.app.port': '10443' }), 'app'), 'https://172.18.0.5:10443');
    assert.equal(url(one({ 'proxy.app.port': '4430' }), 'app'), 'http://172.18.0.5:4430');
    assert.equal(url(one({ 'proxy.app.port': '8443', 'proxy.app.scheme': 'HTTP' }), 'app'), 'http://172.18.0.5:8443');
  });

  test('a label port equal to a published host port maps back to the container port (GoDoxy)', () => {
    assert.equal(url(one({ 'proxy.app.port': '8081' }, { publishedPorts: { 80: 8081 } }), 'app'), 'http://172.18.0.5:80');
  });

  test('proxy.host (container-wide) and per-alias host override the address; IPv6 hosts are bracketed', () => {
    const r = one({ 'proxy.aliases': 'a,b', 'proxy.host': '10.0.0.9', 'proxy.b.host': '::1' });
    assert.equal(url(r, 'a'), 'http://10.0.0.9:80');
    assert.equal(url(r, 'b'), 'http://[::1]:80');
  });

  test('host network mode → 127.0.0.1, or the remote host address', () => {
    assert.equal(url(one({ 'proxy.app.port': '8096' }, { networkMode: 'host', networks: [] }), 'app'), 'http://127.0.0.1:8096');
    assert.equal(url(one({ 'proxy.app.port': '8096' }, { networkMode: 'host', networks: [], remoteAddress: '192.168.2.100' }), 'app'), 'http://192.168.2.100:8096');
  });

  test('remote Docker host → host address + published port, even with a private IP; unpublished is an error', () => {
    const remote = { dockerHost: 'tcp://192.168.2.100:2375', remoteAddress: '192.168.2.100' };
    assert.equal(url(one({ 'proxy.exclude': 'false' }, { ...remote, publishedPorts: { 80: 8080 } }), 'app'), 'http://192.168.2.100:8080');
    const r = one({ 'proxy.exclude': 'false' }, remote);
    assert.match(errorFor(r, 'LABEL_NOT_PUBLISHED').message, /not published/);
  });

  test('a tcp:// host on the same engine (socket proxy): a network shared with Bellhop beats published ports', () => {
    const remote = { dockerHost: 'tcp://socket-proxy:2375', remoteAddress: 'socket-proxy', networks: [{ name: 'proxy', ip: '10.5.0.7' }] };
    assert.equal(url(one({ 'proxy.exclude': 'false' }, remote, { self: { networks: ['proxy'] } }), 'app'), 'http://10.5.0.7:80');
    assert.equal(url(one({ 'proxy.network': 'proxy' }, remote), 'app'), 'http://10.5.0.7:80');
    // not shared and no proxy.network: still the remote road
    assert.ok(codes(one({ 'proxy.exclude': 'false' }, remote, { self: { networks: ['other'] } })).includes('LABEL_NOT_PUBLISHED'));
  });

  test('network choice: proxy.network, then <project>_<network>; unknown network is an error with a suggestion', () => {
    const nets = [{ name: 'frontend', ip: '10.1.0.2' }, { name: 'proj_backend', ip: '10.2.0.2' }, { name: 'a_first', ip: '10.0.0.2' }];
    assert.equal(url(one({ 'proxy.network': 'frontend' }, { networks: nets }), 'app'), 'http://10.1.0.2:80');
    assert.equal(url(one({ 'proxy.network': 'backend' }, { networks: nets, composeProject: 'proj', composeService: 'app' }), 'app'), 'http://10.2.0.2:80');
    const e = errorFor(one({ 'proxy.network': 'frontned' }, { networks: nets }), 'LABEL_BAD_NETWORK');
    assert.equal(e.key, 'proxy.network');
    assert.match(e.message, /did you mean "frontend"/);
  });

  test('network choice without a label: shared with Bellhop, else first by name — never Docker order', () => {
    const nets = [{ name: 'zeta', ip: '10.9.0.2' }, { name: 'proxy', ip: '10.5.0.2' }, { name: 'alpha', ip: '10.1.0.2' }];
    assert.equal(url(one({ 'proxy.exclude': 'false' }, { networks: nets }), 'app'), 'http://10.1.0.2:80');
    assert.equal(url(one({ 'proxy.exclude': 'false' }, { networks: [...nets].reverse() }), 'app'), 'http://10.1.0.2:80');
    assert.equal(url(one({ 'proxy.exclude': 'false' }, { networks: nets }, { self: { networks: ['proxy'] } }), 'app'), 'http://10.5.0.2:80');
    assert.equal(url(one({ 'proxy.exclude': 'false' }, { networks: [{ name: 'v6', ip: 'fd00::5' }] }), 'app'), 'http://[fd00::5]:80');
  });

  test('a stopped container keeps its route with an empty URL (no address until it runs)', () => {
    const r = one({ 'proxy.idle_timeout': '10m' }, { state: 'exited', networks: [{ name: 'net', ip: '' }] });
    assert.equal(url(r, 'app'), '');
    assert.equal(route(r, 'app').members[0]?.container?.state, 'exited');
    assert.equal(url(one({ 'proxy.exclude': 'false' }, { state: 'created', networks: [] }), 'app'), '');
    // Docker shows no port mappings / networks for some stopped containers: no error until it runs
    const remote = { dockerHost: 'tcp://192.168.2.100:2375', remoteAddress: '192.168.2.100', state: 'exited' };
    assert.equal(url(one({ 'proxy.exclude': 'false' }, remote), 'app'), '');
    assert.equal(url(one({ 'proxy.network': 'backend' }, { state: 'exited', networks: [] }), 'app'), '');
    assert.ok(codes(one({ 'proxy.network': 'backend' }, { state: 'exited' })).includes('LABEL_BAD_NETWORK'));
  });
});

describe('container-level settings', () => {
  test('idle defaults: wake 3m, stop 30s, stop method stop; depends_on merges compose', () => {
    const r = parse([replica('p', 'app', 1, { labels: { 'proxy.idle_timeout': '15m', 'proxy.depends_on': 'db:service_healthy, cache', 'proxy.start_endpoint': '/start', 'proxy.no_loading_page': 'yes', 'proxy.stop_signal': 'term' }, composeDependsOn: ['cache', 'queue'] })]);
    assert.deepEqual(route(r, 'app').members[0]?.container?.idle, { idleTimeoutMs: 900_000, wakeTimeoutMs: 180_000, stopTimeoutMs: 30_000, stopMethod: 'stop', stopSignal: 'SIGTERM', startEndpoint: '/start', noLoadingPage: true, dependsOn: ['db', 'cache', 'queue'] });
  });

  test('no idle_timeout (or 0) → no idle spec, but the other idle labels are still validated', () => {
    assert.equal(route(one({ 'proxy.stop_method': 'PAUSE' }), 'app').members[0]?.container?.idle, undefined);
    assert.equal(route(one({ 'proxy.idle_timeout': '0' }), 'app').members[0]?.container?.idle, undefined);
    assert.ok(codes(one({ 'proxy.wake_timeout': 'soon' })).includes('LABEL_BAD_DURATION'));
  });

  test('member identity and ids: compose project/service/replica, else the container name', () => {
    const r = parse([replica('p', 'web', 2, { id: 'abc' }), container({ name: 'solo', id: 'def', labels: { 'proxy.exclude': '0' } })], { exposeAll: true });
    const web = route(r, 'web').members[0];
    assert.equal(web?.identity, 'p/web/2');
    assert.equal(web?.id, 'abc');
    assert.equal(web?.container?.id, 'abc');
    assert.equal(web?.name, 'p-web-2');
    assert.equal(route(r, 'solo').members[0]?.identity, 'solo');
  });

  test('healthcheck defaults come from the options and fields override one by one', () => {
    const r = one({ 'proxy.app.healthcheck.rise': '4', 'proxy.app.healthcheck.use_get': 'true', 'proxy.app.healthcheck.timeout': '2s' });
    assert.deepEqual(route(r, 'app').members[0]?.healthcheck, { useGet: true, intervalMs: 5000, timeoutMs: 2000, rise: 4, fall: 3, disable: false });
  });
});

describe('pools', () => {
  test('compose replicas of one service pool automatically under the alias, oldest first', () => {
    const r = parse([replica('p', 'web', 2, { createdAt: 20 }), replica('p', 'web', 1, { createdAt: 10 })], { exposeAll: true });
    assert.deepEqual(r.routes.map((x) => x.name), ['p-web-1', 'p-web-2', 'web']);
    assert.deepEqual(route(r, 'web').members.map((m) => m.identity), ['p/web/1', 'p/web/2']);
    assert.deepEqual(r.errors, []);
  });

  test('members with the same load_balance.link form one pool served at the link only (GoDoxy 1.7 #8)', () => {
    const r = parse([
      container({ name: 'web-1', labels: { 'proxy.#1.load_balance.link': 'web', 'proxy.#1.load_balance.weight': '30' }, networks: [{ name: 'net', ip: '10.0.0.1' }] }),
      container({ name: 'web-2', labels: { 'proxy.#1.load_balance.link': 'web' }, networks: [{ name: 'net', ip: '10.0.0.2' }] }),
    ]);
    assert.deepEqual(r.routes.map((x) => x.name), ['web']);
    assert.deepEqual(route(r, 'web').members.map((m) => [m.name, m.url, m.weight]), [['web-1', 'http://10.0.0.1:80', 30], ['web-2', 'http://10.0.0.2:80', undefined]]);
  });

  test('two unrelated containers claiming one alias: the oldest keeps it, conflict reported; other aliases unaffected', () => {
    const r = parse([
      container({ name: 'new', createdAt: 200, labels: { 'proxy.aliases': 'app, extra' }, networks: [{ name: 'net', ip: '10.0.0.2' }] }),
      container({ name: 'old', createdAt: 100, labels: { 'proxy.aliases': 'app' }, networks: [{ name: 'net', ip: '10.0.0.1' }] }),
    ]);
    assert.deepEqual(route(r, 'app').members.map((m) => m.name), ['old']);
    assert.deepEqual(route(r, 'extra').members.map((m) => m.name), ['new']);
    const e = errorFor(r, 'ALIAS_CONFLICT');
    assert.equal(e.source, 'new');
    assert.match(e.message, /old/);
    assert.deepEqual(r.conflicts.map((c) => [c.code, c.route, c.kept, c.overruled]), [['ALIAS_CONFLICT', 'app', ['old'], ['new']]]);
  });

  test('same creation time: the name that sorts first is oldest', () => {
    const r = parse([container({ name: 'b', createdAt: 5, labels: { 'proxy.aliases': 'x' } }), container({ name: 'a', createdAt: 5, labels: { 'proxy.aliases': 'x' } })]);
    assert.deepEqual(route(r, 'x').members.map((m) => m.name), ['a']);
  });

  test('a container linking to an alias another container owns joins its pool', () => {
    const r = parse([
      container({ name: 'web', createdAt: 1, labels: { 'proxy.aliases': 'web' } }),
      container({ name: 'canary', createdAt: 2, labels: { 'proxy.canary.load_balance.link': 'web', 'proxy.canary.load_balance.weight': '10' } }),
    ]);
    assert.deepEqual(r.routes.map((x) => x.name), ['web']);
    assert.deepEqual(route(r, 'web').members.map((m) => m.name), ['web', 'canary']);
    assert.deepEqual(r.errors, []);
  });

  test('pool setting conflicts: the oldest member wins, the conflict names the members; unset settings never conflict', () => {
    const r = parse([
      replica('p', 'api', 2, { createdAt: 20, labels: { 'proxy.api.load_balance.mode': 'leastconn', 'proxy.api.load_balance.sticky': 'true' } }),
      replica('p', 'api', 1, { createdAt: 10, labels: { 'proxy.api.load_balance.mode': 'ip_hash' } }),
      replica('p', 'api', 3, { createdAt: 30, labels: { 'proxy.api.load_balance.weight': '50' } }),
    ]);
    const lb = route(r, 'api').loadBalance;
    assert.equal(lb.mode, 'iphash');
    assert.equal(lb.sticky, true);
    assert.equal(lb.stickyMaxAgeMs, 3_600_000);
    const e = errorFor(r, 'POOL_SETTINGS_CONFLICT');
    assert.equal(e.source, 'p-api-2');
    assert.equal(e.key, 'proxy.api.load_balance.mode');
    assert.match(e.message, /p-api-1="iphash"/);
    assert.match(e.message, /p-api-2="leastconn"/);
    assert.equal(r.errors.length, 1);
    assert.deepEqual(r.conflicts.map((c) => c.setting), ['mode']);
  });

  test('sticky_max_age 0 is a session cookie; options reach the pool', () => {
    const r = one({ 'proxy.app.load_balance': 'sticky: true\nsticky_max_age: 0\nmode: iphash\noptions:\n  header: X-Forwarded-For\n  from: [10.0.0.0/8, "::1"]\n  recursive: true\n' });
    assert.deepEqual(route(r, 'app').loadBalance, { mode: 'iphash', sticky: true, stickyMaxAgeMs: 0, options: { header: 'X-Forwarded-For', from: ['10.0.0.0/8', '::1'], recursive: true } });
  });

  test('one container joining one pool through two aliases is kept once', () => {
    const r = one({ 'proxy.aliases': 'a,b', 'proxy.*.load_balance.link': 'pool' });
    assert.deepEqual(route(r, 'pool').members.length, 1);
    assert.equal(errorFor(r, 'POOL_DUPLICATE_MEMBER').source, 'app');
  });

  test('the result does not depend on input order, and a repeated container id counts once', () => {
    const list = [
      replica('p', 'web', 1, { createdAt: 3 }),
      replica('p', 'web', 2, { createdAt: 1 }),
      container({ name: 'x', createdAt: 2, labels: { 'proxy.aliases': 'web' } }),
      container({ name: 'y', labels: { 'proxy.y.port': 'nope' } }),
    ];
    const a = parse(list, { exposeAll: true });
    const b = parse([...list].reverse(), { exposeAll: true });
    assert.deepEqual(a, b);
    assert.deepEqual(parse([...list, list[0]!], { exposeAll: true }), a);
    // x names "web" as its alias: the replicas' service name yields to it, whatever the age
    assert.deepEqual(route(a, 'web').members.map((m) => m.name), ['x']);
    assert.deepEqual(a.warnings.filter((w) => w.code === 'LABEL_SERVICE_ALIAS_TAKEN').map((w) => w.source), ['p-web-2', 'p-web-1']);
  });
});

describe('member ids', () => {
  test('two aliases on two ports of one container are two members with distinct ids', () => {
    const r = one({ 'proxy.aliases': 'web, admin', 'proxy.web.port': '8080', 'proxy.admin.port': '9090' }, { exposedPorts: [8080, 9090] });
    const web = route(r, 'web').members[0]!;
    const admin = route(r, 'admin').members[0]!;
    assert.equal(web.id, web.container?.id);
    assert.equal(admin.id, `${admin.container?.id ?? ''}:9090`);
    assert.notEqual(web.id, admin.id);
  });

  test('two aliases on the same port share one member id', () => {
    const r = one({ 'proxy.aliases': 'a, b' }, { exposedPorts: [80] });
    assert.equal(route(r, 'a').members[0]!.id, route(r, 'b').members[0]!.id);
  });
});

describe('healthcheck.status', () => {
  test('dotted, *, #N and explicit alias labels, with the usual precedence', () => {
    const r = one({
      'proxy.aliases': 'a,b,c,d',
      'proxy.*.port': '80',
      'proxy.*.healthcheck.status': '200-499',
      'proxy.#2.healthcheck.status': '204',
      'proxy.#3.healthcheck.status': '500',
      'proxy.c.healthcheck.status': ' 301 - 302 , 200 ',
    });
    assert.deepEqual(route(r, 'a').members[0]?.healthcheck.status, [[200, 499]], '* applies');
    assert.deepEqual(route(r, 'b').members[0]?.healthcheck.status, [[204, 204]], '#N beats *');
    assert.deepEqual(route(r, 'c').members[0]?.healthcheck.status, [[200, 200], [301, 302]], 'explicit alias beats #N; sorted');
    assert.deepEqual(route(r, 'd').members[0]?.healthcheck.status, [[200, 499]]);
    assert.deepEqual(r.errors, []);
  });

  test('inside a YAML value (a number is one code); a dotted label beats the YAML field', () => {
    const r = parse([
      container({ name: 'y1', labels: { 'proxy.y1': 'port: 80\nhealthcheck:\n  path: /h\n  status: 200-499\n' } }),
      container({ name: 'y2', labels: { 'proxy.y2.healthcheck': 'status: 204' } }),
      container({ name: 'y3', labels: { 'proxy.y3.healthcheck': 'status: 204', 'proxy.y3.healthcheck.status': '200,204' } }),
    ]);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(route(r, 'y1').members[0]?.healthcheck, { path: '/h', useGet: false, intervalMs: 5000, timeoutMs: 5000, rise: 2, fall: 3, disable: false, status: [[200, 499]] });
    assert.deepEqual(route(r, 'y2').members[0]?.healthcheck.status, [[204, 204]]);
    assert.deepEqual(route(r, 'y3').members[0]?.healthcheck.status, [[200, 200], [204, 204]]);
  });

  test('defaults.healthcheck.status is inherited; a label overrides it', () => {
    const withDefault = { defaults: { healthcheck: { ...defaultHealthcheck, status: [[200, 499]] as const }, loadBalance: { mode: 'roundrobin' as const, stickyMaxAgeMs: 3_600_000 } } };
    const r = parse([container({ name: 'plain', labels: { 'proxy.aliases': 'plain' } }), container({ name: 'own', labels: { 'proxy.own.healthcheck.status': '204' } })], withDefault);
    assert.deepEqual(route(r, 'plain').members[0]?.healthcheck.status, [[200, 499]]);
    assert.deepEqual(route(r, 'own').members[0]?.healthcheck.status, [[204, 204]]);
  });

  test('a bad status skips only that container, with one error naming the label', () => {
    const r = parse([
      container({ name: 'bad', labels: { 'proxy.bad.healthcheck.status': '200-700' } }),
      container({ name: 'good', labels: { 'proxy.good.healthcheck.status': '200-499' } }),
    ]);
    assert.deepEqual(r.routes.map((x) => x.name), ['good']);
    assert.deepEqual(r.errors.map((e) => ({ code: e.code, source: e.source, key: e.key, message: e.message })), [
      { code: 'LABEL_BAD_STATUS', source: 'bad', key: 'proxy.bad.healthcheck.status', message: 'healthcheck.status: status code 700 in "200-700" is outside 100-599' },
    ]);
  });
});

describe('proxy.idle_ignore (uptime monitors)', () => {
  const idleOf = (r: ParseResult) => route(r, 'app').members[0]?.container?.idle;

  test('dotted labels: user agents split on commas only (spaces kept), IPs/CIDRs and paths on commas or spaces', () => {
    const r = one({
      'proxy.idle_timeout': '15m',
      'proxy.idle_ignore.user_agents': 'Uptime-Kuma, Gatus ,compatible; UptimeRobot/2.0',
      'proxy.idle_ignore.from': '192.168.1.20, 10.0.5.0/24 fd00::/8',
      'proxy.idle_ignore.paths': '/health, /api/ping/ /health',
    });
    assert.deepEqual(r.errors, []);
    assert.deepEqual(idleOf(r)?.ignore, {
      userAgents: ['Uptime-Kuma', 'Gatus', 'compatible; UptimeRobot/2.0'],
      from: ['192.168.1.20', '10.0.5.0/24', 'fd00::/8'],
      paths: ['/health', '/api/ping'],
    });
  });

  test('one rule alone; field names ignore case, _ and -; one-line [a, b] lists', () => {
    assert.deepEqual(idleOf(one({ 'proxy.idle_timeout': '1m', 'proxy.Idle-Ignore.User-Agents': '[Uptime-Kuma, "Gatus/1"]' }))?.ignore, { userAgents: ['Uptime-Kuma', 'Gatus/1'], from: [], paths: [] });
    assert.deepEqual(idleOf(one({ 'proxy.idle_timeout': '1m', 'proxy.idle_ignore.paths': '/' }))?.ignore, { userAgents: [], from: [], paths: ['/'] });
  });

  test('a YAML mapping in proxy.idle_ignore sets several at once; a dotted label beats the same field in it', () => {
    const yaml = 'user_agents: [Uptime-Kuma, Gatus]\nfrom: 10.0.5.0/24\npaths:\n  - /health\n  - /api/ping';
    assert.deepEqual(idleOf(one({ 'proxy.idle_timeout': '1m', 'proxy.idle_ignore': yaml }))?.ignore, { userAgents: ['Uptime-Kuma', 'Gatus'], from: ['10.0.5.0/24'], paths: ['/health', '/api/ping'] });
    const r = one({ 'proxy.idle_timeout': '1m', 'proxy.idle_ignore': yaml, 'proxy.idle_ignore.user_agents': 'healthchecks' });
    assert.deepEqual(idleOf(r)?.ignore?.userAgents, ['healthchecks']);
    assert.deepEqual(idleOf(r)?.ignore?.paths, ['/health', '/api/ping']);
    assert.equal(r.routes.some((x) => x.name === 'idle_ignore'), false, 'must not become an alias');
  });

  test('no rules → no ignore key; without idle_timeout the rules are still validated', () => {
    assert.equal(Object.hasOwn(idleOf(one({ 'proxy.idle_timeout': '1m' }))!, 'ignore'), false);
    assert.equal(idleOf(one({ 'proxy.idle_timeout': '1m', 'proxy.idle_ignore': '' }))?.ignore, undefined);
    assert.equal(idleOf(one({ 'proxy.idle_ignore.paths': '/health' })), undefined);
    assert.ok(codes(one({ 'proxy.idle_ignore.from': '10.0.0.0/40' })).includes('LABEL_BAD_CIDR'));
  });

  const cases: Array<[string, Record<string, string>, string, RegExp]> = [
    ['an empty value', { 'proxy.idle_ignore.user_agents': '' }, 'LABEL_EMPTY_ITEM', /idle_ignore\.user_agents lists nothing/],
    ['an empty entry', { 'proxy.idle_ignore.paths': '/a,,/b' }, 'LABEL_EMPTY_ITEM', /empty entry \(item 2\)/],
    ['a trailing comma', { 'proxy.idle_ignore.user_agents': 'Uptime-Kuma,' }, 'LABEL_EMPTY_ITEM', /empty entry/],
    ['an empty entry in YAML', { 'proxy.idle_ignore': "user_agents: [Gatus, '']" }, 'LABEL_EMPTY_ITEM', /^field "user_agents": .*empty entry/],
    ['an empty list in YAML', { 'proxy.idle_ignore': 'from: []' }, 'LABEL_EMPTY_ITEM', /lists nothing/],
    ['a bad CIDR', { 'proxy.idle_ignore.from': '10.0.5.0/33' }, 'LABEL_BAD_CIDR', /"10\.0\.5\.0\/33" is not an IP address or CIDR/],
    ['a partial IP', { 'proxy.idle_ignore.from': '192.168.1' }, 'LABEL_BAD_CIDR', /not an IP address/],
    ['a host name in from', { 'proxy.idle_ignore.from': 'kuma.lan' }, 'LABEL_BAD_CIDR', /not an IP address/],
    ['a leading-zero IP (pkg/realip refuses it)', { 'proxy.idle_ignore.from': '010.0.0.1' }, 'LABEL_BAD_CIDR', /not an IP address/],
    ['a path without /', { 'proxy.idle_ignore.paths': 'health' }, 'LABEL_BAD_PATH', /absolute path/],
    ['a path with a query', { 'proxy.idle_ignore.paths': '/health?full=1' }, 'LABEL_BAD_PATH', /has a query/],
    ['a bad path in YAML', { 'proxy.idle_ignore': 'paths: [api/ping]' }, 'LABEL_BAD_PATH', /^field "paths": /],
    ['a line break', { 'proxy.idle_ignore.user_agents': 'Kuma\r\nX-Evil: 1' }, 'LABEL_CONTROL_CHAR', /line break/],
    ['a field typo', { 'proxy.idle_ignore.user_agent': 'Uptime-Kuma' }, 'LABEL_UNKNOWN_FIELD', /did you mean proxy\.idle_ignore\.user_agents\?/],
    ['a nested field', { 'proxy.idle_ignore.paths.x': '/a' }, 'LABEL_UNKNOWN_FIELD', /unknown label/],
    ['a typo of the group', { 'proxy.idle_ignor.paths': '/health' }, 'LABEL_UNKNOWN_FIELD', /did you mean proxy\.idle_ignore\.paths\?/],
    ['a typo of the YAML label', { 'proxy.idle_ingore': 'paths: [/health]' }, 'LABEL_UNKNOWN_FIELD', /did you mean proxy\.idle_ignore\?/],
    ['a field typo in YAML', { 'proxy.idle_ignore': 'user_agent: Gatus' }, 'LABEL_UNKNOWN_FIELD', /did you mean "user_agents"\?/],
    ['an unknown field in YAML', { 'proxy.idle_ignore': 'methods: [HEAD]' }, 'LABEL_UNKNOWN_FIELD', /idle_ignore has user_agents, from, paths/],
    ['a mapping under a list field', { 'proxy.idle_ignore': 'paths: {a: /x}' }, 'LABEL_NOT_MAPPING', /"paths" is a list/],
    ['a scalar YAML value', { 'proxy.idle_ignore': 'Uptime-Kuma' }, 'LABEL_NOT_MAPPING', /expected a YAML mapping/],
    ['broken YAML', { 'proxy.idle_ignore': 'paths: [/a' }, 'LABEL_BAD_YAML', /invalid YAML/],
    ['per alias', { 'proxy.app.idle_ignore.paths': '/health' }, 'LABEL_CONTAINER_LEVEL', /write proxy\.idle_ignore\.paths, not per alias/],
    ['per alias in YAML', { 'proxy.app': 'idle_ignore: {paths: /health}' }, 'LABEL_CONTAINER_LEVEL', /proxy\.idle_ignore\.paths/],
    ['set twice', { 'proxy.idle_ignore.paths': '/a', 'proxy.idle_ignore.Paths': '/b' }, 'LABEL_DUPLICATE', /set twice/],
    ['set twice in YAML', { 'proxy.idle_ignore': 'paths: /a\nPaths: /b' }, 'LABEL_DUPLICATE', /set twice/],
  ];
  for (const [name, labels, code, message] of cases) {
    test(`${name} → ${code}; only that container loses its routes`, () => {
      const r = parse([
        container({ name: 'app', labels: { 'proxy.idle_timeout': '15m', ...labels } }),
        container({ name: 'good', labels: { 'proxy.idle_timeout': '15m', 'proxy.idle_ignore.user_agents': 'Uptime-Kuma' } }),
      ]);
      const e = errorFor(r, code);
      assert.match(e.message, message);
      assert.equal(e.source, 'app');
      assert.ok(e.key.startsWith('proxy.'), e.key);
      assert.deepEqual(r.routes.map((x) => x.name), ['good']);
      assert.equal(r.errors.filter((x) => x.source === 'good').length, 0);
    });
  }
});

describe('access control Bellhop cannot apply yet: the alias refuses service, never served unprotected', () => {
  const REFUSED = 'LABEL_ACCESS_CONTROL_UNSUPPORTED';
  function refusedKeys(r: ParseResult, name: string): string[] | undefined {
    return route(r, name).refused?.keys;
  }
  function assertRefused(r: ParseResult, name: string, key: string, code = REFUSED): void {
    const rt = route(r, name);
    assert.ok(rt.refused, `route ${name} is served: ${JSON.stringify(rt)}`);
    assert.deepEqual(rt.members, [], 'a refused route has no member to reach');
    assert.ok(rt.refused.keys.includes(key), `${JSON.stringify(rt.refused.keys)} does not name ${key}`);
    assert.match(rt.refused.message, new RegExp(`${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*not supported by Bellhop yet`));
    const e = r.errors.find((x) => x.code === code && key.startsWith(x.key));
    assert.ok(e, `no ${code} error for ${key}: ${JSON.stringify(r.errors)}`);
    assert.equal(e.source, 'app');
  }

  test('a GoDoxy crowdsec refuses its alias (error naming the label); the container\'s other alias is served', () => {
    const label = 'proxy.app.middlewares.crowdsec.route';
    const r = one({ 'proxy.aliases': 'app, open', [label]: 'crowdsec' });
    assertRefused(r, 'app', label);
    assert.match(errorFor(r, REFUSED).message, /middleware "crowdsec" restricts access.*503 PROXY_ROUTE_REFUSED/);
    assert.deepEqual(route(r, 'app').aliases, ['app'], 'the host stays in the table so it answers the refusal, not 404');
    assert.equal(url(r, 'open'), 'http://172.18.0.5:80');
    assert.equal(route(r, 'open').refused, undefined);
    assert.deepEqual(r.warnings, [], 'an error, no longer a LABEL_IGNORED_FIELD warning');
  });

  test('cidr_whitelist and rate_limit are applied, no longer refused (docs/middlewares.md)', () => {
    const r = one({ 'proxy.aliases': 'app', 'proxy.app.middlewares.CIDRWhitelist.allow': '10.0.0.0/8', 'proxy.app.middlewares.RateLimit.average': '5' });
    assert.deepEqual(r.errors, []);
    assert.equal(route(r, 'app').refused, undefined);
    assert.deepEqual(route(r, 'app').middlewares?.map((m) => m.name), ['cidr_whitelist', 'rate_limit']);
  });

  for (const label of ['proxy.app.middlewares.ip_whitelist.allow', 'proxy.app.middlewares.whitelist', 'proxy.app.middlewares.geo_block.countries']) {
    test(`an unknown middleware (${label}) is a label error: the alias refuses service, never served`, () => {
      const r = one({ 'proxy.aliases': 'app', [label]: 'x' });
      assert.deepEqual(r.routes.map((x) => [x.name, x.members.length, x.refused?.keys]), [['app', 0, [label]]]);
      assert.deepEqual(codes(r), ['LABEL_UNKNOWN_MIDDLEWARE']);
    });
  }

  const access: Array<[string, string]> = [
    ['crowdsec', 'proxy.app.middlewares.crowdsec.route'],
    ['CrowdSec (any case, _ and - ignored)', 'proxy.app.middlewares.Crowd_Sec.route'],
    ['hcaptcha', 'proxy.app.middlewares.hcaptcha.site_key'],
    ['rules Bellhop does not run (serve)', 'proxy.app.rules'],
    ['rule_file with a GoDoxy preset', 'proxy.app.rule_file'],
    ['inbound_mtls_profile', 'proxy.app.inbound_mtls_profile'],
    ['path_patterns (old GoDoxy)', 'proxy.app.path_patterns'],
    ['a #N target', 'proxy.#1.middlewares.crowdsec'],
  ];
  for (const [name, label] of access) {
    test(`${name} → ${REFUSED}, route refused`, () => {
      const value = label.endsWith('.rules') ? 'path glob(/s/*) {\n  serve /var/www\n}' : label.endsWith('.rule_file') ? 'embed://webui' : 'x';
      assertRefused(one({ 'proxy.aliases': 'app', [label]: value }), 'app', label);
    });
  }

  test('an unknown middleware name gets a "did you mean"', () => {
    const r = one({ 'proxy.app.middlewares.ip_whitelist.allow': '10.0.0.0/8' });
    assert.match(errorFor(r, 'LABEL_UNKNOWN_MIDDLEWARE').message, /unknown middleware "ip_whitelist" \(did you mean "cidr_whitelist"\?\)/);
  });

  const harmless = ['custom_error_page', 'error_page', 'set_x_forwarded', 'hide_x_forwarded', 'modify_html.target', 'themed.theme'];
  for (const m of harmless) {
    test(`middlewares.${m} and cosmetic fields do not restrict access: warnings, that alias is served while the crowdsec one refuses`, () => {
      const r = one({
        'proxy.aliases': 'app, open',
        [`proxy.open.middlewares.${m}`]: 'x',
        'proxy.open.homepage.icon': '@selfhst/x.png',
        'proxy.open.access_log.path': '/x.log',
        'proxy.app.middlewares.crowdsec': '',
      });
      assert.deepEqual(r.errors.map((e) => [e.code, e.key]), [[REFUSED, 'proxy.app.middlewares.crowdsec']]);
      assert.equal(route(r, 'open').refused, undefined);
      assert.equal(url(r, 'open'), 'http://172.18.0.5:80');
      // access_log is implemented (docs/access-log.md): no warning, the open alias logs
      assert.deepEqual(r.warnings.map((w) => w.code), ['LABEL_IGNORED_FIELD', 'LABEL_IGNORED_FIELD']);
      assert.equal(route(r, 'open').accessLog?.path, '/x.log');
      assertRefused(r, 'app', 'proxy.app.middlewares.crowdsec');
    });
  }

  test('middlewares as a YAML value: the access middlewares in it refuse the alias', () => {
    const r = one({ 'proxy.app.middlewares': 'crowdsec:\n  route: crowdsec\n  api_key: x\nrequest:\n  set_headers: {X-A: b}\n' });
    assertRefused(r, 'app', 'proxy.app.middlewares (middlewares.crowdsec)');
    assert.equal(r.errors.filter((e) => e.code === REFUSED).length, 1, 'one error per label and middleware, not per option');
    assert.deepEqual(r.warnings.map((w) => w.code), []);
  });

  test('rules (docs/rules.md): block text, a YAML list in the label or in the alias\'s YAML value become the route\'s first stage', () => {
    const block = one({ 'proxy.aliases': 'app', 'proxy.app.rules': 'path glob(/admin/*) {\n  error 403 Forbidden\n}\n', 'proxy.app.middlewares.rate_limit.average': '5' });
    assert.deepEqual(block.errors, []);
    // in no particular order in the spec; the chain runs rules first (lowest priority)
    assert.deepEqual(route(block, 'app').middlewares?.map((m) => [m.name, m.key]).sort(), [['rate_limit', 'proxy.app.middlewares.rate_limit'], ['rules', 'proxy.app.rules']]);
    assert.ok(route(block, 'app').middlewares!.every((m) => m.name !== 'rules' || m.priority < -1_000_000));
    const list = one({ 'proxy.aliases': 'app', 'proxy.#1.rules': '- name: admin\n  on: path /admin\n  do: error 403 Forbidden\n' });
    assert.deepEqual(list.errors, []);
    assert.deepEqual(route(list, 'app').middlewares?.[0]?.options['rules'], [{ name: 'admin', on: 'path /admin', do: 'error 403 Forbidden' }]);
    const yaml = one({ 'proxy.app': 'port: 80\nrules: |\n  default {\n    pass\n  }\n' });
    assert.deepEqual(yaml.errors, []);
    assert.equal(route(yaml, 'app').middlewares?.[0]?.name, 'rules');
    const file = one({ 'proxy.aliases': 'app', 'proxy.app.rule_file': 'file:///etc/bellhop/app.rules' });
    assert.deepEqual(file.errors, []);
    assert.deepEqual(route(file, 'app').middlewares?.map((m) => [m.name, m.options]), [['rules', { rule_file: '/etc/bellhop/app.rules' }]]);
    const both = one({ 'proxy.aliases': 'app', 'proxy.app.rule_file': '/x.yml', 'proxy.app.rules': 'default {\n  pass\n}' });
    assertRefused(both, 'app', 'proxy.app.rule_file', 'LABEL_BAD_RULES');
    const bad = one({ 'proxy.aliases': 'app', 'proxy.app.rules': 'default {\n  teleport /x\n}' });
    assertRefused(bad, 'app', 'proxy.app.rules', 'LABEL_BAD_RULES');
    assert.match(errorFor(bad, 'LABEL_BAD_RULES').message, /unknown command "teleport"/);
  });

  test('a middleware turned on with an empty mapping or nothing (`crowdsec: {}`, `hcaptcha:`) in a whole-route YAML value', () => {
    assertRefused(one({ 'proxy.app': 'port: 80\nmiddlewares:\n  crowdsec: {}\n' }), 'app', 'proxy.app (middlewares.crowdsec)');
    assertRefused(one({ 'proxy.app': 'middlewares:\n  hcaptcha:\n' }), 'app', 'proxy.app (middlewares.hcaptcha)');
    assertRefused(one({ 'proxy.app': 'rules:\n  - on: path /admin\n    do: serve /var/www\n' }), 'app', 'proxy.app.rules');
    // An empty mapping elsewhere still sets nothing.
    const plain = one({ 'proxy.app': 'port: 80\nhealthcheck: {}\nmiddlewares: {}\n' });
    assert.deepEqual(plain.errors, []);
    assert.equal(route(plain, 'app').refused, undefined);
  });

  test('GoDoxy TestParseLabelsMixedObjectAndFlatFields: an oidc YAML value plus a dotted option', () => {
    const r = one({
      'proxy.universal.middlewares.oidc': 'issuer_url: https://auth.example.com/\nclient_id: bellhop\nclient_secret: s3cret\nallowed_groups: [everyone]',
      'proxy.universal.middlewares.oidc.bypass': '- path glob(/x/*)',
    }, {}, {});
    assert.deepEqual(r.errors, []);
    const rt = route(r, 'universal');
    assert.equal(rt.refused, undefined);
    assert.deepEqual(rt.middlewares?.map((m) => [m.name, m.bypass, m.options['allowed_groups']]), [['oidc', ['path glob(/x/*)'], ['everyone']]]);
  });

  test('forward_auth, basic_auth and oidc are applied, no longer refused; their options are checked at parse', () => {
    const ok = one({
      'proxy.aliases': 'app',
      'proxy.app.middlewares.ForwardAuth.address': 'http://authelia:9091/api/authz/forward-auth',
      'proxy.app.middlewares.basic_auth.users': 'admin:$2y$05$8.HmqrA/r.3iJ0IgbKclOOosjYmW47IBy2Yl5626/0kONbghNHYfG',
    });
    assert.deepEqual(ok.errors, []);
    assert.deepEqual(route(ok, 'app').middlewares?.map((m) => m.name).sort(), ['basic_auth', 'forward_auth']);
    const bad = one({ 'proxy.aliases': 'app', 'proxy.app.middlewares.basic_auth.users': 'admin:plaintext', 'proxy.app.middlewares.oidc.client_id': 'x' });
    // invalid access control refuses the alias (fails closed)
    assert.deepEqual(bad.routes.map((x) => [x.name, x.members.length, x.refused !== undefined]), [['app', 0, true]]);
    assert.ok(bad.errors.some((e) => e.key === 'proxy.app.middlewares.basic_auth.users' && /bcrypt/.test(e.message)));
    assert.ok(bad.errors.some((e) => e.key === 'proxy.app.middlewares.oidc.issuer_url'));
  });

  test('a wildcard refuses every alias; #N only its alias', () => {
    const all = one({ 'proxy.aliases': 'a, b', 'proxy.*.middlewares.crowdsec': '' });
    assert.deepEqual(refusedKeys(all, 'a'), ['proxy.*.middlewares.crowdsec']);
    assert.deepEqual(refusedKeys(all, 'b'), ['proxy.*.middlewares.crowdsec']);
    const second = one({ 'proxy.aliases': 'a, b', 'proxy.#2.middlewares.crowdsec.api_key': 'x' });
    assert.equal(route(second, 'a').refused, undefined);
    assert.equal(url(second, 'a'), 'http://172.18.0.5:80');
    assert.deepEqual(refusedKeys(second, 'b'), ['proxy.#2.middlewares.crowdsec.api_key']);
  });

  test('one refusing member refuses its whole pool: the host serves every member', () => {
    const r = parse([
      replica('p', 'web', 1, { labels: { 'proxy.aliases': 'web' } }),
      replica('p', 'web', 2, { labels: { 'proxy.aliases': 'web' } }),
      container({ name: 'guarded', labels: { 'proxy.aliases': 'g', 'proxy.g.load_balance.link': 'web', 'proxy.g.middlewares.crowdsec': '' } }),
    ]);
    const rt = route(r, 'web');
    assert.deepEqual(rt.members, []);
    assert.deepEqual(rt.refused?.sources, ['guarded']);
    assert.deepEqual(rt.refused?.keys, ['proxy.g.middlewares.crowdsec']);
  });

  test('broken middlewares YAML is an error and the alias refuses service (fails closed)', () => {
    const r = one({ 'proxy.app.middlewares': 'cidr_whitelist: {allow: [10.0.0.0/8' });
    assert.ok(codes(r).includes('LABEL_BAD_YAML'));
    assert.deepEqual(r.routes.map((x) => [x.name, x.members.length, x.refused?.keys]), [['app', 0, ['proxy.app.middlewares']]]);
  });

  test('another label error of the alias still refuses it (fails closed, its pool too), and both are reported', () => {
    const r = one({ 'proxy.app.port': 'abc', 'proxy.app.middlewares.crowdsec': '' });
    assert.deepEqual(r.routes.map((x) => [x.name, x.members.length, x.refused?.keys]), [['app', 0, ['proxy.app.middlewares.crowdsec']]]);
    assert.deepEqual(codes(r).sort(), ['LABEL_ACCESS_CONTROL_UNSUPPORTED', 'LABEL_BAD_PORT']);
  });

  test('the refusal message names label keys, never their values', () => {
    const r = one({ 'proxy.app.middlewares.crowdsec.api_key': 'secretsecretsecret' });
    const rt = route(r, 'app');
    assert.ok(!rt.refused?.message.includes('secret'));
    assert.ok(!errorFor(r, REFUSED).message.includes('secret'));
  });
});
