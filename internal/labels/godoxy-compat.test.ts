// GoDoxy compatibility (issue 15): default aliases (container name + service name), one bad
// alias costing only itself, GoDoxy's value forms, and default ports of well-known images.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RouteSpec } from '../routes/index.ts';
import { container, options, replica } from '../../test/fixtures/labels/containers.ts';
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
const names = (r: ParseResult) => r.routes.map((x) => x.name);
const members = (r: ParseResult, name: string) => route(r, name).members.map((m) => m.name);

describe('default aliases: the container name, and the compose service name too', () => {
  test('container_name equal to the service: one alias', () => {
    const r = parse([container({ name: 'gitea', composeProject: 'p', composeService: 'gitea', labels: { 'proxy.exclude': 'false' } })]);
    assert.deepEqual(names(r), ['gitea']);
  });

  test('labels naming the service configure both hosts; a label naming the container wins a tie', () => {
    const r = parse([replica('p', 'web', 1, { exposedPorts: [80, 8080, 9000], labels: { 'proxy.web.port': '8080', 'proxy.web.healthcheck.path': '/h', 'proxy.p-web-1.port': '9000' } })]);
    assert.deepEqual(names(r), ['p-web-1', 'web']);
    for (const n of ['p-web-1', 'web']) {
      assert.equal(route(r, n).members[0]?.url, 'http://172.20.0.11:9000');
      assert.equal(route(r, n).members[0]?.healthcheck.path, '/h');
    }
    assert.equal(route(r, 'web').members[0]?.id, route(r, 'p-web-1').members[0]?.id, 'one upstream, one member id');
  });

  test('#1 is the container name (GoDoxy), and configures the service name too', () => {
    const r = parse([replica('p', 'web', 1, { exposedPorts: [80, 8080], labels: { 'proxy.#1.port': '8080' } })]);
    assert.equal(route(r, 'web').members[0]?.url, 'http://172.20.0.11:8080');
    assert.equal(route(r, 'p-web-1').members[0]?.url, 'http://172.20.0.11:8080');
    const two = parse([replica('p', 'web', 1, { labels: { 'proxy.#2.port': '8080' } })]);
    assert.deepEqual(two.errors.map((e) => e.code), ['LABEL_ALIAS_INDEX'], 'the service name is not #2');
  });

  test('proxy.aliases replaces both', () => {
    const r = parse([replica('p', 'web', 1, { labels: { 'proxy.aliases': 'site' } })]);
    assert.deepEqual(names(r), ['site']);
  });

  test('replicas: each answers its own name, the service name pools them all', () => {
    const r = parse([replica('p', 'web', 1, { labels: { 'proxy.exclude': 'no' } }), replica('p', 'web', 2, { labels: { 'proxy.exclude': 'no' } })]);
    assert.deepEqual(names(r), ['p-web-1', 'p-web-2', 'web']);
    assert.deepEqual(members(r, 'web'), ['p-web-1', 'p-web-2']);
    assert.deepEqual(members(r, 'p-web-2'), ['p-web-2']);
  });

  test('a container naming the service name as its alias keeps it, older or not; the service answers its container name', () => {
    for (const createdAt of [1, 10_000]) {
      const r = parse([
        replica('p', 'web', 1, { createdAt: 5000, labels: { 'proxy.exclude': 'false' } }),
        container({ name: 'web', createdAt, labels: { 'proxy.exclude': 'false' }, networks: [{ name: 'net', ip: '10.0.0.9' }] }),
      ]);
      assert.deepEqual(members(r, 'web'), ['web']);
      assert.deepEqual(members(r, 'p-web-1'), ['p-web-1']);
      assert.deepEqual(r.errors, []);
      assert.deepEqual(r.warnings.map((w) => [w.code, w.source]), [['LABEL_SERVICE_ALIAS_TAKEN', 'p-web-1']]);
    }
  });

  test('two projects with a service of the same name: each keeps its own host; the oldest answers the shared name; a warning, no error', () => {
    const r = parse([replica('b', 'app', 1, { createdAt: 20, labels: { 'proxy.exclude': 'false' } }), replica('a', 'app', 1, { createdAt: 10, labels: { 'proxy.exclude': 'false' } })]);
    assert.deepEqual(names(r), ['a-app-1', 'app', 'b-app-1']);
    assert.deepEqual(members(r, 'app'), ['a-app-1']);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.conflicts, []);
    assert.deepEqual(r.warnings.map((w) => [w.code, w.source]), [['LABEL_SERVICE_ALIAS_TAKEN', 'b-app-1']]);
  });

  test('a member joining the service name by load_balance.link joins the service pool', () => {
    const r = parse([
      replica('p', 'web', 1, { createdAt: 20, labels: { 'proxy.exclude': 'false' } }),
      container({ name: 'extra', createdAt: 1, labels: { 'proxy.extra.load_balance.link': 'web' }, networks: [{ name: 'net', ip: '10.0.0.9' }] }),
    ]);
    assert.deepEqual(members(r, 'web'), ['extra', 'p-web-1']);
    assert.deepEqual(r.warnings, []);
  });

  test('a container joining a pool by link joins it once (no second entry for the service name)', () => {
    const r = parse([replica('p', 'web', 1, { labels: { 'proxy.#1.load_balance.link': 'pool' } })]);
    assert.deepEqual(names(r), ['pool']);
    assert.deepEqual(r.errors, []);
  });

  test('Swarm tasks answer their service name only', () => {
    const r = parse([container({ name: 'web.1', networkMode: 'swarm', composeProject: '', composeService: 'web', labels: { 'proxy.exclude': 'false' } })]);
    assert.deepEqual(names(r), ['web']);
  });
});

describe('one bad alias costs only that alias (GoDoxy)', () => {
  const base = { 'proxy.aliases': 'a, b, c' };
  test('a named alias label', () => {
    const r = parse([container({ name: 'x', labels: { ...base, 'proxy.b.port': 'abc' } })]);
    assert.deepEqual(names(r), ['a', 'c']);
    assert.deepEqual(r.errors.map((e) => [e.code, e.key, e.source]), [['LABEL_BAD_PORT', 'proxy.b.port', 'x']]);
  });
  test('an #N label, and an unknown field in an alias YAML value', () => {
    const r = parse([container({ name: 'x', labels: { ...base, 'proxy.#3.load_balance.mode': 'fastest', 'proxy.a': 'prot: 80' } })]);
    assert.deepEqual(names(r), ['b']);
    assert.deepEqual(r.errors.map((e) => e.code).sort(), ['LABEL_BAD_MODE', 'LABEL_UNKNOWN_FIELD']);
  });
  test('a label for an alias that cannot exist costs nothing else', () => {
    const r = parse([container({ name: 'x', labels: { ...base, 'proxy.b@d.port': '80' } })]);
    assert.deepEqual(names(r), ['a', 'b', 'c']);
    assert.deepEqual(r.errors.map((e) => e.code), ['LABEL_BAD_ALIAS']);
  });
  test('container-level labels, proxy.*, proxy.host and shortcuts still cost the container', () => {
    for (const bad of [{ 'proxy.idle_timeout': '10' }, { 'proxy.*.port': 'abc' }, { 'proxy.host': 'a b' }, { 'proxy.ports': '80, 81, 82, 83' }, { 'proxy.ports': '80', 'proxy.a.port': '81' }, { 'proxy.network': 'nope' }, { 'proxy.#4.port': '80' }]) {
      const r = parse([container({ name: 'x', labels: { ...base, ...bad } })]);
      assert.deepEqual(names(r), [], JSON.stringify(bad));
      assert.ok(r.errors.length > 0);
    }
  });
  test('a bad shortcut item costs the alias it is for', () => {
    const r = parse([container({ name: 'x', labels: { ...base, 'proxy.ports': '80, x, 82', 'proxy.protos': 'http, http, ftp' } })]);
    assert.deepEqual(names(r), ['a']);
    assert.deepEqual(r.errors.map((e) => [e.code, e.key]).sort(), [['LABEL_BAD_PORT', 'proxy.ports'], ['LABEL_BAD_SCHEME', 'proxy.protos']]);
  });
  test('a broken middleware refuses its alias and the pool it joins, never serves it unprotected', () => {
    const r = parse([
      container({ name: 'x', createdAt: 1, labels: { 'proxy.aliases': 'a, b', 'proxy.a.load_balance.link': 'pool', 'proxy.a.middlewares.cidr_whitelist.allow': '10.0.0.0/33' } }),
      container({ name: 'y', createdAt: 2, labels: { 'proxy.y.load_balance.link': 'pool' }, networks: [{ name: 'net', ip: '10.0.0.9' }] }),
    ]);
    assert.deepEqual(names(r), ['b', 'pool']);
    assert.deepEqual(route(r, 'pool').members, []);
    assert.deepEqual(route(r, 'pool').refused?.keys, ['proxy.a.middlewares.cidr_whitelist.allow']);
    assert.deepEqual(members(r, 'b'), ['x']);
  });
  test('a broken middleware on proxy.* refuses every alias', () => {
    const r = parse([container({ name: 'x', labels: { ...base, 'proxy.*.middlewares.cidr_whitelist.allow': 'nope' } })]);
    assert.deepEqual(r.routes.map((x) => [x.name, x.members.length, x.refused !== undefined]), [['a', 0, true], ['b', 0, true], ['c', 0, true]]);
  });
});

describe("GoDoxy's value forms", () => {
  const one = (labels: Record<string, string>, over: Partial<LabelledContainer> = {}) => parse([container({ name: 'app', labels, ...over })]);
  test('depends_on as a YAML block list', () => {
    const r = one({ 'proxy.idle_timeout': '1h', 'proxy.depends_on': '- db\n- cache:service_healthy\n' });
    assert.deepEqual(r.errors, []);
    assert.deepEqual(route(r, 'app').members[0]?.container?.idle?.dependsOn, ['db', 'cache']);
  });
  test('healthcheck.retries: -1 is one failure, 0 the default, N is fall N; fall wins over retries', () => {
    const fall = (labels: Record<string, string>) => route(one(labels), 'app').members[0]?.healthcheck.fall;
    assert.equal(fall({ 'proxy.app.healthcheck.retries': '-1' }), 1);
    assert.equal(fall({ 'proxy.app.healthcheck.retries': '0' }), 3);
    assert.equal(fall({ 'proxy.app.healthcheck.retries': '5' }), 5);
    assert.equal(fall({ 'proxy.app.healthcheck.retries': '5', 'proxy.app.healthcheck.fall': '2' }), 2);
    assert.deepEqual(one({ 'proxy.app.healthcheck.retries': 'x' }).errors.map((e) => e.code), ['LABEL_BAD_NUMBER']);
  });
  test('durations in w and M', () => {
    const r = one({ 'proxy.idle_timeout': '1w', 'proxy.stop_timeout': '1M', 'proxy.app.load_balance.sticky_max_age': '2w' });
    assert.deepEqual(r.errors, []);
    assert.equal(route(r, 'app').members[0]?.container?.idle?.idleTimeoutMs, 7 * 86_400_000);
    assert.equal(route(r, 'app').members[0]?.container?.idle?.stopTimeoutMs, 30 * 86_400_000);
  });
  test('weight 0 means unset', () => {
    const r = one({ 'proxy.app.load_balance.weight': '0' });
    assert.deepEqual(r.errors, []);
    assert.equal(route(r, 'app').members[0]?.weight, undefined);
  });
  test('booleans yes/no/on/off, a middleware turned on with "yes"', () => {
    const r = one({ 'proxy.exclude': 'no', 'proxy.app.no_tls_verify': 'on', 'proxy.app.load_balance.sticky': 'yes', 'proxy.app.healthcheck.disable': 'off', 'proxy.app.middlewares.redirect_http': 'yes' });
    assert.deepEqual(r.errors, []);
    assert.equal(route(r, 'app').members[0]?.noTlsVerify, true);
    assert.equal(route(r, 'app').loadBalance.sticky, true);
    assert.deepEqual(route(r, 'app').middlewares?.map((m) => m.name), ['redirect_http']);
  });
  test('options without from: accepted with a warning, no real-IP options', () => {
    const r = one({ 'proxy.app.load_balance.mode': 'iphash', 'proxy.app.load_balance.options.header': 'X-Forwarded-For' });
    assert.deepEqual(r.errors, []);
    assert.equal(route(r, 'app').loadBalance.options, undefined);
    assert.deepEqual(r.warnings.map((w) => [w.code, w.key]), [['LABEL_IGNORED_FIELD', 'proxy.app.load_balance.options.header']]);
  });
  test('plural shortcuts are never aliases: ignored with a warning, or refusing the listed aliases', () => {
    const r = one({ 'proxy.aliases': 'a, b', 'proxy.binds': '0.0.0.0', 'proxy.tls_terminations': 'false', 'proxy.response_header_timeouts': '10s, 5s', 'proxy.rule_files': '/rules.yml' });
    assert.deepEqual(names(r), ['a', 'b']);
    assert.deepEqual(route(r, 'a').refused?.keys, ['proxy.rule_files[1]']);
    assert.equal(route(r, 'b').refused, undefined);
    assert.deepEqual(r.warnings.map((w) => w.key).sort(), ['proxy.binds', 'proxy.response_header_timeouts', 'proxy.tls_terminations']);
  });
});

describe('default ports of well-known images', () => {
  const web = (image: string, exposedPorts: number[], labels: Record<string, string> = { 'proxy.aliases': 'ui' }) => route(parse([container({ name: 'c', image, exposedPorts, labels })]), 'ui').members[0]?.url;
  test('Portainer: https 9443, not its Edge port 8000', () => {
    assert.equal(web('portainer/portainer-ce:2.21.0', [8000, 9000, 9443]), 'https://172.18.0.5:9443');
  });
  test('Nginx Proxy Manager: its UI on 81', () => {
    assert.equal(web('jc21/nginx-proxy-manager:latest', [80, 81, 443]), 'http://172.18.0.5:81');
  });
  test('Home Assistant on the host network, exposing nothing: 8123', () => {
    assert.equal(route(parse([container({ name: 'ha', image: 'ghcr.io/home-assistant/home-assistant:stable', networkMode: 'host', exposedPorts: [], labels: { 'proxy.aliases': 'ui' } })]), 'ui').members[0]?.url, 'http://127.0.0.1:8123');
  });
  test('labels win: port, and scheme', () => {
    assert.equal(web('portainer/portainer-ce', [8000, 9000, 9443], { 'proxy.aliases': 'ui', 'proxy.ui.port': '9000' }), 'http://172.18.0.5:9000');
    assert.equal(web('portainer/portainer-ce', [9443], { 'proxy.aliases': 'ui', 'proxy.ui.scheme': 'http' }), 'http://172.18.0.5:9443');
  });
  test('a container offering other ports but not the known one: the generic rule', () => {
    assert.equal(web('nginx:1', [8080]), 'http://172.18.0.5:8080');
  });
  test('by alias: portainer from a custom image', () => {
    assert.equal(route(parse([container({ name: 'portainer', image: 'me/my-portainer', exposedPorts: [8000, 9443] })], { exposeAll: true }), 'portainer').members[0]?.url, 'https://172.18.0.5:9443');
  });
});
