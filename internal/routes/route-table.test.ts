import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { buildRouteTable, normaliseHost } from './index.ts';
import type { RouteSpec } from './index.ts';

function spec(name: string, aliases: string[] = [name], source: 'docker' | 'file' = 'docker', member = `${name}-c`): RouteSpec {
  return {
    name,
    aliases,
    source,
    loadBalance: { mode: 'roundrobin', sticky: false, stickyMaxAgeMs: 3_600_000 },
    members: [{
      id: `id-${member}`, identity: member, name: member, url: 'http://10.0.0.1:80', noTlsVerify: false,
      healthcheck: { useGet: false, intervalMs: 5000, timeoutMs: 5000, rise: 2, fall: 3, disable: false },
      container: source === 'docker' ? { id: `id-${member}`, name: member, dockerHost: 'unix:///var/run/docker.sock', createdAt: 1, state: 'running' } : undefined,
    }],
  };
}

function table(routes: RouteSpec[], matchDomains: string[] = []) {
  return buildRouteTable(routes, { matchDomains });
}

describe('normaliseHost', () => {
  test('lower case, port and trailing dot removed; IPv6 literals kept', () => {
    assert.equal(normaliseHost('App.Example.COM.:8080'), 'app.example.com');
    assert.equal(normaliseHost('app:443'), 'app');
    assert.equal(normaliseHost('[::1]:80'), '[::1]');
    assert.equal(normaliseHost('  x.y  '), 'x.y');
    assert.equal(normaliseHost('fe80::1'), 'fe80::1');
    assert.equal(normaliseHost(''), '');
  });
});

describe('lookup without match_domains', () => {
  const { table: t, errors } = table([spec('app1'), spec('api', ['api.domain.com']), spec('wild', ['*.domain.com']), spec('fqdn', ['app1.domain.com'])]);

  test('no errors for a clean set', () => assert.deepEqual(errors, []));

  test('first label: app1 matches app1.com, app1.sub.domain.com, not sub.app1.com (GoDoxy)', () => {
    assert.equal(t.lookup('app1')?.name, 'app1');
    assert.equal(t.lookup('app1.com')?.name, 'app1');
    assert.equal(t.lookup('app1.sub.domain.com')?.name, 'app1');
    assert.equal(t.lookup('sub.app1.com'), undefined);
  });

  test('an exact FQDN alias beats the first-label rule', () => {
    assert.equal(t.lookup('app1.domain.com')?.name, 'fqdn');
  });

  test('precedence: exact alias, then wildcard (GoDoxy entrypoint_test)', () => {
    assert.equal(t.lookup('api.domain.com')?.name, 'api');
    assert.equal(t.lookup('other.domain.com')?.name, 'wild');
  });

  test('wildcard matches exactly one label, case-insensitive, trailing dot and port ignored', () => {
    assert.equal(t.lookup('Foo.Domain.Com')?.name, 'wild');
    assert.equal(t.lookup('foo.domain.com.')?.name, 'wild');
    assert.equal(t.lookup('foo.domain.com:8443')?.name, 'wild');
    assert.equal(t.lookup('foo.bar.domain.com'), undefined);
    assert.equal(t.lookup('domain.com'), undefined);
  });

  test('unknown and empty hosts miss', () => {
    assert.equal(t.lookup('nothing.example.org'), undefined);
    assert.equal(t.lookup(''), undefined);
    assert.equal(t.lookup(':80'), undefined);
  });

  test('explain says which rule matched', () => {
    assert.deepEqual(t.explain('APP1.example.org:80'), { host: 'app1.example.org', rule: 'first_label', route: 'app1', pattern: 'app1', reason: 'first label "app1" is an alias (no match_domains configured)' });
    assert.equal(t.explain('app1.domain.com').rule, 'exact');
    assert.equal(t.explain('zz.domain.com').pattern, '*.domain.com');
    assert.equal(t.explain('zz.domain.com').rule, 'wildcard');
    assert.equal(t.explain('nope.org').rule, 'none');
    assert.equal(t.explain('nope.org').route, undefined);
    assert.equal(t.explain('').rule, 'none');
  });
});

describe('lookup with match_domains', () => {
  const { table: t } = table([spec('app1.foo.bar'), spec('app'), spec('exact', ['app.other.org']), spec('wild', ['*.apps']), spec('w2', ['*.domain.com'])], ['.domain.com', 'sub.domain.com.', 'Example.ORG']);

  test('host minus a matching domain, dots allowed in the alias (GoDoxy)', () => {
    assert.equal(t.lookup('app1.foo.bar')?.name, 'app1.foo.bar');
    assert.equal(t.lookup('app1.foo.bar.domain.com')?.name, 'app1.foo.bar');
    assert.equal(t.lookup('app1.foo.bar.sub.domain.com')?.name, 'app1.foo.bar');
    assert.equal(t.lookup('app.example.org')?.name, 'app');
  });

  test('a near-miss domain does not match, and the first-label rule is off', () => {
    assert.equal(t.lookup('app1.domain.co'), undefined);
    assert.equal(t.lookup('app.domain.com.hk'), undefined);
    assert.equal(t.lookup('app.elsewhere.net'), undefined);
  });

  test('the whole host is tried first', () => {
    assert.equal(t.lookup('app.other.org')?.name, 'exact');
    assert.equal(t.explain('app.other.org').rule, 'exact');
  });

  test('longest domain first, and matchDomains are normalised', () => {
    assert.deepEqual(t.matchDomains, ['sub.domain.com', 'example.org', 'domain.com']);
    const e = t.explain('app1.foo.bar.sub.domain.com');
    assert.equal(e.rule, 'match_domain');
    assert.equal(e.domain, 'sub.domain.com');
  });

  test('wildcards: absolute, and relative to a match domain', () => {
    assert.equal(t.lookup('x.domain.com')?.name, 'w2');
    assert.equal(t.lookup('x.apps.example.org')?.name, 'wild');
    assert.equal(t.lookup('x.apps')?.name, 'wild');
    assert.equal(t.explain('x.apps.example.org').domain, 'example.org');
    assert.equal(t.lookup('x.y.apps.example.org'), undefined);
  });

  test('a bad match domain is reported and skipped', () => {
    const { errors } = table([], ['good.com', 'bad domain']);
    assert.deepEqual(errors.map((e) => [e.code, e.key]), [['ROUTE_BAD_MATCH_DOMAIN', 'match_domains']]);
  });
});

describe('conflicts and the route list', () => {
  test('a file route beats a docker route for the same alias, in any input order', () => {
    for (const order of [[spec('nas', ['nas'], 'docker'), spec('nas', ['nas'], 'file')], [spec('nas', ['nas'], 'file'), spec('nas', ['nas'], 'docker')]]) {
      const { table: t, errors } = table(order);
      assert.equal(t.lookup('nas')?.source, 'file');
      assert.deepEqual(errors.map((e) => [e.code, e.source]), [['ROUTE_ALIAS_CONFLICT', 'nas-c']]);
      assert.match(errors[0]!.message, /config file routes win/);
      assert.deepEqual(t.routes().map((r) => r.source), ['file']);
    }
  });

  test('same source: the first route by name keeps the alias; the other keeps its remaining aliases', () => {
    const { table: t, errors } = table([spec('zeta', ['shared', 'zeta']), spec('alpha', ['shared'])]);
    assert.equal(t.lookup('shared')?.name, 'alpha');
    assert.deepEqual(t.routes().map((r) => [r.name, r.aliases]), [['alpha', ['shared']], ['zeta', ['zeta']]]);
    assert.equal(errors.length, 1);
  });

  test('bad aliases are reported and skipped; aliases are normalised', () => {
    const { table: t, errors } = table([spec('x', ['X.Example.com.', 'bad alias', 'a.*.b'])]);
    assert.equal(t.lookup('x.example.com')?.name, 'x');
    assert.deepEqual(errors.map((e) => e.code), ['ROUTE_BAD_ALIAS', 'ROUTE_BAD_ALIAS']);
  });

  test('the table is immutable', () => {
    const { table: t } = table([spec('a')]);
    assert.throws(() => (t.routes() as RouteSpec[]).push(spec('b')), TypeError);
    assert.throws(() => { (t.routes()[0]!.aliases)[0] = 'evil'; }, TypeError);
    assert.throws(() => { (t as { lookup: unknown }).lookup = () => undefined; }, TypeError);
    assert.equal(t.lookup('a')?.name, 'a');
  });

  test('property: lookup and explain always agree, and never throw', () => {
    const { table: t } = table([spec('app'), spec('w', ['*.example.com']), spec('f', ['f.example.com'])], []);
    const { table: d } = table([spec('app'), spec('w', ['*.apps']), spec('x.y')], ['example.com', 'a.example.com']);
    const labels = fc.constantFrom('app', 'f', 'x', 'y', 'apps', 'example', 'com', 'a', 'APP', 'zz', '', '*');
    const host = fc.tuple(fc.array(labels, { maxLength: 5 }), fc.constantFrom('', '.', ':80', ':', '.:443')).map(([ls, tail]) => ls.join('.') + tail);
    fc.assert(fc.property(fc.oneof(host, fc.string()), (h) => {
      for (const tb of [t, d]) assert.equal(tb.lookup(h)?.name, tb.explain(h).route);
    }), { numRuns: 3000 });
  });
});
