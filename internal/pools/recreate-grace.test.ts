import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecreateGrace } from './recreate-grace.ts';
import type { MemberSpec, RouteSpec } from '../routes/index.ts';
import { containerOf, memberSpec, routeSpec } from '../../test/fixtures/route-specs.ts';

function member(id: string, compose?: { project: string; service: string }, url = 'http://10.0.0.2:80'): MemberSpec {
  return memberSpec(id, url, {}, { container: containerOf(id, url, { state: 'running', composeProject: compose?.project, composeService: compose?.service }) });
}

function route(name: string, members: MemberSpec[], aliases = [name]): RouteSpec {
  return routeSpec(name, members, { aliases });
}

const web = { project: 'app', service: 'web' };

test('a vanished compose route is kept without members until the grace ends', () => {
  let now = 1000;
  const g = new RecreateGrace({ graceMs: 60_000, now: () => now });
  assert.deepEqual(g.retain([route('web', [member('c1', web)])]).map((r) => r.name), ['web']);
  const out = g.retain([]);
  assert.equal(out.length, 1);
  assert.equal(out[0]!.name, 'web');
  assert.deepEqual(out[0]!.members, []);
  assert.deepEqual(out[0]!.aliases, ['web']);
  assert.deepEqual(g.retainedNames(), ['web']);
  now += 59_999;
  assert.equal(g.retain([]).length, 1);
  now += 1;
  assert.equal(g.retain([]).length, 0);
  assert.deepEqual(g.retainedNames(), []);
  // Once expired it is not revived by later calls.
  assert.equal(g.retain([]).length, 0);
  g.close();
});

test('the placeholder goes away when the service comes back, even under another route name', () => {
  const g = new RecreateGrace({ now: () => 0 });
  g.retain([route('web', [member('c1', web)])]);
  assert.equal(g.retain([]).length, 1);
  const back = g.retain([route('web', [member('c2', web)])]);
  assert.equal(back.length, 1);
  assert.equal(back[0]!.members[0]!.id, 'c2');
  assert.deepEqual(g.retainedNames(), []);
  g.retain([]);
  const renamed = g.retain([route('www', [member('c3', web)])]);
  assert.deepEqual(renamed.map((r) => r.name), ['www']);
});

test('plain (non-compose) containers are not retained: their host 404s at once', () => {
  const g = new RecreateGrace({ now: () => 0 });
  g.retain([route('solo', [member('c1')])]);
  assert.equal(g.retain([]).length, 0);
});

test('a placeholder yields to any route claiming its name or alias (docker or file)', () => {
  const g = new RecreateGrace({ now: () => 0 });
  g.retain([route('web', [member('c1', web)], ['web', 'www.example.com'])]);
  const other = route('other', [member('x')], ['www.example.com']);
  assert.deepEqual(g.retain([other]).map((r) => r.name), ['other']);
  g.retain([route('web', [member('c1', web)])]);
  const file = { ...route('web', []), source: 'file' as const };
  assert.deepEqual(g.retain([], [file]).map((r) => r.name), []);
});

test('onExpire fires after the grace so the owner can rebuild without the placeholder', async () => {
  let fired = 0;
  const g = new RecreateGrace({ graceMs: 30, onExpire: () => fired++ });
  g.retain([route('web', [member('c1', web)])]);
  g.retain([]);
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(fired, 1);
  assert.equal(g.retain([]).length, 0);
  g.close();
});
