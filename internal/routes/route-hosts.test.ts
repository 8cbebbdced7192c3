import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRouteTable } from './route-table.ts';
import { hostNamesOf } from './route-hosts.ts';
import type { RouteSpec } from './route-spec.ts';

function route(name: string, aliases: string[]): RouteSpec {
  return { name, source: 'file', aliases, members: [{ id: `${name}-m`, name: `${name}-m`, url: 'http://127.0.0.1:1', weight: 1, noTlsVerify: false }], loadBalance: { mode: 'roundrobin', sticky: false, stickyMaxAgeMs: 0 }, healthcheck: { disable: true } } as unknown as RouteSpec;
}

test('full names as written, bare aliases under every match domain, sorted and unique', () => {
  const { table } = buildRouteTable([route('a', ['app', 'App.Example.org']), route('b', ['*.wild.example.org', 'db'])], { matchDomains: ['home.example.com', 'lan'] });
  assert.deepEqual(hostNamesOf(table), ['*.wild.example.org', 'app.example.org', 'app.home.example.com', 'app.lan', 'db.home.example.com', 'db.lan']);
});

test('no match domains: bare aliases name no host', () => {
  const { table } = buildRouteTable([route('a', ['app'])], { matchDomains: [] });
  assert.deepEqual(hostNamesOf(table), []);
});
