import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BalanceError } from './balance-error.ts';
import { ALL_USABLE, BALANCE_MODES, Pool } from './pool.ts';
import type { BalanceMember, BalanceMode, Release } from './pool.ts';
import type { MemberUsability } from './selection-state.ts';

const mk = (name: string, weight?: number): BalanceMember => ({
  id: `id-${name}`,
  identity: `proj/${name}`,
  name,
  ...(weight === undefined ? {} : { weight }),
});

function shuffled<T>(items: T[], seed: number): T[] {
  const out = items.slice();
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

test('leastconn: 1,000 acquisitions released in random order (some twice) bring every counter back to 0', () => {
  const pool = new Pool({ name: 'p', mode: 'leastconn', members: [mk('a', 30), mk('b'), mk('c')] });
  const releases: Release[] = [];
  for (let i = 0; i < 1000; i++) releases.push(pool.acquire(pool.pick()!.id));
  const total = ['id-a', 'id-b', 'id-c'].reduce((sum, id) => sum + pool.inFlight(id), 0);
  assert.equal(total, 1000);
  // In-flight relative to weight stays balanced: 30/35/35 of 1,000 within one request each.
  assert.ok(Math.abs(pool.inFlight('id-a') - 300) <= 1, String(pool.inFlight('id-a')));
  assert.ok(Math.abs(pool.inFlight('id-b') - 350) <= 1, String(pool.inFlight('id-b')));
  const order = shuffled(releases, 7);
  order.forEach((release, i) => {
    release();
    if (i % 3 === 0) release(); // error and close both release
  });
  for (const release of releases.slice(0, 100)) release();
  for (const id of ['id-a', 'id-b', 'id-c']) assert.equal(pool.inFlight(id), 0);
});

test('leastconn picks the member with the fewest in flight relative to weight', () => {
  const pool = new Pool({ name: 'p', mode: 'leastconn', members: [mk('a', 25), mk('b', 75)] });
  const ra = pool.acquire('id-a'); // a: 1/25
  for (let i = 0; i < 2; i++) pool.acquire('id-b'); // b: 2/75 < 1/25
  assert.equal(pool.pick()?.name, 'b');
  pool.acquire('id-b'); // b: 3/75 = 1/25: tie → round-robin order decides, both valid
  pool.acquire('id-b'); // b: 4/75 > 1/25
  assert.equal(pool.pick()?.name, 'a');
  ra();
  assert.equal(pool.pick()?.name, 'a', 'a has nothing in flight now');
});

test('leastconn ties follow round-robin order', () => {
  const pool = new Pool({ name: 'p', mode: 'leastconn', members: [mk('a'), mk('b'), mk('c')] });
  const rr = new Pool({ name: 'p', mode: 'roundrobin', members: [mk('a'), mk('b'), mk('c')] });
  for (let i = 0; i < 30; i++) assert.equal(pool.pick()?.name, rr.pick()?.name);
});

test('in-flight counters survive setMembers; a removed member\'s counter drains and is dropped', () => {
  const pool = new Pool({ name: 'p', mode: 'leastconn', members: [mk('a'), mk('b')] });
  const relA = pool.acquire('id-a');
  pool.acquire('id-a');
  const relB = pool.acquire('id-b');
  pool.setMembers([mk('a'), mk('b'), mk('c')]);
  assert.equal(pool.inFlight('id-a'), 2);
  assert.equal(pool.inFlight('id-b'), 1);
  assert.equal(pool.pick()?.name, 'c', 'the newcomer has nothing in flight');
  pool.setMembers([mk('a'), mk('c')]); // b leaves with a request open
  assert.equal(pool.inFlight('id-b'), 1);
  assert.equal(pool.acquire('id-b')(), undefined, 'acquiring a departed member counts nothing');
  assert.equal(pool.inFlight('id-b'), 1);
  pool.setMembers([mk('a'), mk('b'), mk('c')]); // and comes back before its request ended
  assert.equal(pool.inFlight('id-b'), 1);
  pool.setMembers([mk('a'), mk('c')]);
  relB();
  assert.equal(pool.inFlight('id-b'), 0);
  pool.setMembers([mk('a'), mk('b'), mk('c')]);
  assert.equal(pool.inFlight('id-b'), 0, 'a fresh counter after the old one drained');
  relA();
  assert.equal(pool.inFlight('id-a'), 1);
});

test('unknown ids are not counted', () => {
  const pool = new Pool({ name: 'p', mode: 'roundrobin' });
  const release = pool.acquire('nope');
  release();
  assert.equal(pool.inFlight('nope'), 0);
});

test('round robin keeps going across membership changes instead of restarting', () => {
  const pool = new Pool({ name: 'p', mode: 'roundrobin', members: [mk('a'), mk('b')] });
  assert.equal(pool.pick()?.name, 'a');
  // Re-announcing the same membership (e.g. an unrelated label change) must not reset to 'a'.
  pool.setMembers([mk('a'), mk('b')]);
  assert.equal(pool.pick()?.name, 'b');
  pool.setMembers([mk('b'), mk('a')]);
  assert.equal(pool.pick()?.name, 'a');
});

test('setMembers rejects duplicate ids with a stable code', () => {
  const pool = new Pool({ name: 'p', mode: 'roundrobin' });
  assert.throws(
    () => pool.setMembers([mk('a'), mk('a')]),
    (err: unknown) => err instanceof BalanceError && err.code === 'BALANCE_DUPLICATE_MEMBER' && /id-a/.test(err.message),
  );
});

test('configure rejects an unknown mode and bad sticky settings, keeping the old ones', () => {
  const pool = new Pool({ name: 'p', mode: 'roundrobin', members: [mk('a')] });
  assert.throws(() => pool.configure({ mode: 'round_robin' as BalanceMode }), { code: 'BALANCE_BAD_MODE' });
  assert.throws(() => pool.configure({ mode: 'iphash', sticky: { secret: Buffer.alloc(8), maxAgeMs: 1000 } }), {
    code: 'BALANCE_BAD_STICKY_SECRET',
  });
  assert.throws(() => pool.configure({ mode: 'iphash', sticky: { secret: Buffer.alloc(16), maxAgeMs: -1 } }), {
    code: 'BALANCE_BAD_STICKY_MAX_AGE',
  });
  assert.equal(pool.mode, 'roundrobin');
  assert.equal(pool.sticky, undefined);
  assert.throws(() => new Pool({ name: 'p', mode: 'nope' as BalanceMode }), BalanceError);
});

test('configure switches mode keeping members and counters', () => {
  const pool = new Pool({ name: 'p', mode: 'roundrobin', members: [mk('a'), mk('b')] });
  pool.acquire('id-a');
  pool.configure({ mode: 'leastconn' });
  assert.equal(pool.mode, 'leastconn');
  assert.equal(pool.inFlight('id-a'), 1);
  assert.equal(pool.pick()?.name, 'b');
  assert.deepEqual(BALANCE_MODES, ['roundrobin', 'leastconn', 'iphash']);
});

test('iphash without a client IP falls back to round robin', () => {
  const pool = new Pool({ name: 'p', mode: 'iphash', members: [mk('a'), mk('b')] });
  assert.deepEqual([pool.pick()?.name, pool.pick()?.name, pool.pick({})?.name], ['a', 'b', 'a']);
});

test('a per-pick usability override replaces the pool\'s (e.g. choosing a sleeping member to wake)', () => {
  const nothing: MemberUsability = { isUsable: () => false };
  const pool = new Pool({ name: 'p', mode: 'roundrobin', usability: nothing, members: [mk('a')] });
  assert.equal(pool.pick(), undefined);
  assert.equal(pool.pick({ usability: ALL_USABLE })?.name, 'a');
});

test('describe shows configured and normalised weights and in-flight counts, in input order', () => {
  const pool = new Pool({ name: 'p', mode: 'roundrobin', members: [mk('b'), mk('a', 30)] });
  pool.acquire('id-b');
  assert.deepEqual(pool.describe(), [
    { id: 'id-b', name: 'b', identity: 'proj/b', configuredWeight: undefined, normalisedWeight: 70, inFlight: 1 },
    { id: 'id-a', name: 'a', identity: 'proj/a', configuredWeight: 30, normalisedWeight: 30, inFlight: 0 },
  ]);
  assert.equal(pool.normalisedWeight('id-a'), 30);
  assert.equal(pool.normalisedWeight('nope'), undefined);
  assert.equal(pool.members.length, 2);
  assert.ok(Object.isFrozen(pool.members));
});

test('pools carry the caller\'s own member objects through (generic members)', () => {
  interface Upstream extends BalanceMember {
    url: string;
  }
  const web1: Upstream = { ...mk('web-1'), url: 'http://172.17.0.2:80' };
  const pool = new Pool<Upstream>({ name: 'p', mode: 'roundrobin', members: [web1] });
  assert.equal(pool.pick()?.url, 'http://172.17.0.2:80');
  assert.equal(pool.pick(), web1);
});

test('more than 100 members: every member still gets picks', () => {
  const many = Array.from({ length: 150 }, (_, i) => mk(`m${String(i).padStart(3, '0')}`));
  const pool = new Pool({ name: 'p', mode: 'roundrobin', members: many });
  const seen = new Set<string>();
  for (let i = 0; i < 150; i++) seen.add(pool.pick()!.id);
  assert.equal(seen.size, 150);
});
