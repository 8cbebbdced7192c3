import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { samePlainData, sameRouteSpec } from './same-route-spec.ts';
import type { RouteSpec } from '../routes/index.ts';
import { containerOf, memberSpec, routeSpec } from '../../test/fixtures/route-specs.ts';

/** A spec with every kind of field: options, status ranges, idle settings, refusal. */
function fullSpec(): RouteSpec {
  const url = 'http://172.18.0.5:80';
  const m = memberSpec('c1', url, { path: '/health', status: [[200, 299], [301, 302]] }, {
    weight: 3,
    container: containerOf('c1', url, {
      dockerHealth: 'healthy',
      composeProject: 'app',
      composeService: 'web',
      idle: { idleTimeoutMs: 60_000, wakeTimeoutMs: 180_000, stopTimeoutMs: 30_000, stopMethod: 'stop', noLoadingPage: false, dependsOn: ['db'], ignore: { userAgents: ['Uptime'], from: [], paths: ['/ping'] } },
    }),
  });
  return routeSpec('web', [m, memberSpec('c2', 'http://172.18.0.6:80')], {
    aliases: ['web', 'web.example.com'],
    loadBalance: { mode: 'iphash', sticky: false, stickyMaxAgeMs: 0, options: { header: 'X-Real-IP', from: ['10.0.0.0/8'], recursive: false } },
  });
}

test('a rebuilt spec with the same content is the same route', () => {
  assert.ok(sameRouteSpec(fullSpec(), fullSpec()));
  assert.ok(sameRouteSpec(fullSpec(), structuredClone(fullSpec())));
  const frozen = Object.freeze(fullSpec());
  assert.ok(sameRouteSpec(frozen, fullSpec()));
});

test('any one field that differs, however deep, makes it a different route', () => {
  const edits: [string, (s: RouteSpec) => void][] = [
    ['alias order', (s) => s.aliases.reverse()],
    ['mode', (s) => (s.loadBalance.mode = 'leastconn')],
    ['real-IP from', (s) => (s.loadBalance.options!.from[0] = '10.0.0.0/16')],
    ['member url', (s) => (s.members[0]!.url = 'http://172.18.0.7:80')],
    ['member order', (s) => s.members.reverse()],
    ['a member less', (s) => s.members.pop()],
    ['weight', (s) => (s.members[0]!.weight = 2)],
    ['container state', (s) => (s.members[0]!.container!.state = 'exited')],
    ['docker health', (s) => (s.members[0]!.container!.dockerHealth = 'unhealthy')],
    ['status range', (s) => (s.members[0]!.healthcheck.status = [[200, 299]])],
    ['idle ignore path', (s) => s.members[0]!.container!.idle!.ignore!.paths.push('/x')],
    ['refusal', (s) => (s.refused = { code: 'LABEL_ACCESS_CONTROL_UNSUPPORTED', keys: ['k'], sources: ['c1'], message: 'm' })],
    ['source', (s) => (s.source = 'file')],
  ];
  for (const [what, edit] of edits) {
    const b = fullSpec();
    edit(b);
    assert.equal(sameRouteSpec(fullSpec(), b), false, what);
    assert.equal(sameRouteSpec(b, fullSpec()), false, `${what} (other way round)`);
  }
});

test('errs on the side of "changed": a key set to undefined differs from a missing key; non-plain values only equal themselves', () => {
  assert.equal(samePlainData({ a: 1, b: undefined }, { a: 1 }), false);
  assert.equal(samePlainData({ a: 1 }, { a: 1, b: undefined }), false);
  assert.equal(samePlainData(new Map([[1, 2]]), new Map([[1, 2]])), false);
  const fn = (): void => undefined;
  assert.equal(samePlainData({ f: fn }, { f: fn }), true);
  assert.equal(samePlainData({ f: fn }, { f: (): void => undefined }), false);
  assert.equal(samePlainData([1, 2], { 0: 1, 1: 2 }), false);
  assert.equal(samePlainData({ 0: 1, 1: 2 }, [1, 2]), false);
  assert.equal(samePlainData(null, {}), false);
  assert.equal(samePlainData(0, -0), false);
  assert.equal(samePlainData(Number.NaN, Number.NaN), true);
});

const json = fc.jsonValue({ maxDepth: 4 });

test('property: equal to its own deep copy, and as strict as comparing JSON text of key-sorted data', () => {
  fc.assert(fc.property(json, (v) => samePlainData(v, structuredClone(v))));
  const canonical = (v: unknown): string =>
    JSON.stringify(v, (_k, x: unknown) => (x !== null && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x));
  fc.assert(
    fc.property(json, json, (a, b) => {
      // fc.jsonValue has no undefined, NaN or -0, where the two views legitimately differ.
      assert.equal(samePlainData(a, b), canonical(a) === canonical(b));
    }),
  );
});
