import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Pool, SESSION_TOKEN_LIFETIME_MS } from './pool.ts';
import type { BalanceMember, BalanceMode, StickyPickContext } from './pool.ts';
import type { MemberUsability } from './selection-state.ts';
import { STICKY_COOKIE_NAME, stripStickyCookie } from './sticky-cookie.ts';

const SECRET = Buffer.alloc(32, 42);
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 4, 1);

const mk = (name: string, weight?: number): BalanceMember => ({
  id: `id-${name}`,
  identity: `proj/${name}`,
  name,
  ...(weight === undefined ? {} : { weight }),
});

class SetUsability implements MemberUsability {
  readonly down = new Set<string>();
  isUsable(id: string): boolean {
    return !this.down.has(id);
  }
}

function sticky(mode: BalanceMode = 'roundrobin', maxAgeMs = HOUR, name = 'web') {
  const usability = new SetUsability();
  const pool = new Pool({ name, mode, usability, sticky: { secret: SECRET, maxAgeMs }, members: [mk('a'), mk('b'), mk('c')] });
  return { pool, usability };
}

const cookieOf = (setCookie: string | undefined): string => {
  assert.ok(setCookie !== undefined, 'expected a Set-Cookie');
  return setCookie.split(';')[0]!;
};
const ctx = (cookieHeader: string | undefined, now: number, secure = false): StickyPickContext =>
  cookieHeader === undefined ? { secure, now } : { cookieHeader, secure, now };

test('a new visitor gets a normal pick and a cookie; coming back with it keeps the member, no new cookie', () => {
  const { pool } = sticky();
  const first = pool.pickSticky(ctx('theme=dark', T0));
  const cookie = cookieOf(first.setCookie);
  for (let i = 0; i < 20; i++) {
    const again = pool.pickSticky(ctx(`theme=dark; ${cookie}`, T0 + i * 60_000));
    assert.equal(again.member, first.member);
    assert.equal(again.setCookie, undefined);
  }
});

test('the token is re-issued once older than half of max age, naming the same member', () => {
  const { pool } = sticky();
  const first = pool.pickSticky(ctx(undefined, T0));
  const cookie = cookieOf(first.setCookie);
  assert.equal(pool.pickSticky(ctx(cookie, T0 + HOUR / 2)).setCookie, undefined);
  const late = pool.pickSticky(ctx(cookie, T0 + HOUR / 2 + 1000, true));
  assert.equal(late.member, first.member);
  assert.match(late.setCookie ?? '', /; Max-Age=3600; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
  assert.notEqual(cookieOf(late.setCookie), cookie);
  // The re-issued token keeps the visitor pinned past the first token's max age.
  const later = pool.pickSticky(ctx(cookieOf(late.setCookie), T0 + HOUR + 500));
  assert.equal(later.member, first.member);
  assert.equal(later.setCookie, undefined);
});

test('stale, future-dated, forged, truncated and foreign-pool tokens mean a normal pick and a fresh cookie', () => {
  const { pool } = sticky();
  const cookie = cookieOf(pool.pickSticky(ctx(undefined, T0)).setCookie);
  const token = cookie.slice(STICKY_COOKIE_NAME.length + 1);
  const foreign = cookieOf(sticky('roundrobin', HOUR, 'api').pool.pickSticky(ctx(undefined, T0)).setCookie);
  const bad = [
    ctx(cookie, T0 + HOUR + 1000), // stale
    ctx(cookie, T0 - 10 * 60_000), // issued in the future
    ctx(`${STICKY_COOKIE_NAME}=${token.slice(0, 20)}`, T0),
    ctx(`${STICKY_COOKIE_NAME}=${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`, T0),
    ctx(`${STICKY_COOKIE_NAME}=`, T0),
    ctx(`${STICKY_COOKIE_NAME}=172.17.0.2:80`, T0),
    ctx(foreign, T0),
  ];
  for (const c of bad) {
    const result = pool.pickSticky(c);
    assert.ok(result.member !== undefined);
    assert.match(result.setCookie ?? '', /^bellhop_lb_sticky=[A-Za-z0-9_-]{40}; /, String(c.cookieHeader));
  }
});

test('a token naming an unusable, excluded or removed member re-pins to another with a fresh cookie', () => {
  const { pool, usability } = sticky();
  const first = pool.pickSticky(ctx(undefined, T0));
  const cookie = cookieOf(first.setCookie);
  const pinned = first.member!;

  usability.down.add(pinned.id);
  const whileDown = pool.pickSticky(ctx(cookie, T0 + 1000));
  assert.notEqual(whileDown.member, pinned);
  const newCookie = cookieOf(whileDown.setCookie);
  usability.down.delete(pinned.id);
  // The visitor now carries the new cookie and stays on the new member.
  assert.equal(pool.pickSticky(ctx(newCookie, T0 + 2000)).member, whileDown.member);

  const failover = pool.pickSticky(ctx(cookie, T0 + 3000), new Set([pinned.id]));
  assert.notEqual(failover.member, pinned);
  assert.ok(failover.setCookie !== undefined, 'the member that finally served gets the cookie');

  pool.setMembers(pool.members.filter((m) => m !== pinned));
  const removed = pool.pickSticky(ctx(cookie, T0 + 4000));
  assert.notEqual(removed.member?.id, pinned.id);
  assert.ok(removed.setCookie !== undefined);
});

test('a recreated container (new id, same identity) keeps its sticky visitors', () => {
  const { pool } = sticky();
  const first = pool.pickSticky(ctx(undefined, T0));
  const pinned = first.member!;
  const recreated = { ...pinned, id: `${pinned.id}-new` };
  pool.setMembers([...pool.members.filter((m) => m !== pinned), recreated]);
  const again = pool.pickSticky(ctx(cookieOf(first.setCookie), T0 + 1000));
  assert.equal(again.member, recreated);
  assert.equal(again.setCookie, undefined);
});

test('during a recreate overlap either container with the identity serves the token', () => {
  const { pool, usability } = sticky();
  const first = pool.pickSticky(ctx(undefined, T0));
  const pinned = first.member!;
  const recreated = { ...pinned, id: `${pinned.id}-new` };
  pool.setMembers([...pool.members, recreated]);
  usability.down.add(pinned.id); // the old one is stopping
  assert.equal(pool.pickSticky(ctx(cookieOf(first.setCookie), T0 + 1000)).member, recreated);
});

test('session cookie (max age 0): no Max-Age; token honoured for 24h, re-issued after 12h', () => {
  const { pool } = sticky('roundrobin', 0);
  const first = pool.pickSticky(ctx(undefined, T0, true));
  assert.doesNotMatch(first.setCookie ?? '', /Max-Age/);
  assert.match(first.setCookie ?? '', /; Secure/);
  const cookie = cookieOf(first.setCookie);
  assert.equal(pool.pickSticky(ctx(cookie, T0 + 11 * HOUR)).setCookie, undefined);
  const reissued = pool.pickSticky(ctx(cookie, T0 + 13 * HOUR));
  assert.equal(reissued.member, first.member);
  assert.ok(reissued.setCookie !== undefined);
  const stale = pool.pickSticky(ctx(cookie, T0 + SESSION_TOKEN_LIFETIME_MS + 1000));
  assert.ok(stale.setCookie !== undefined);
});

test('sticky wraps every mode, e.g. iphash: the cookie beats the hash', () => {
  const { pool } = sticky('iphash');
  const first = pool.pickSticky({ clientIp: '10.0.0.1', secure: false, now: T0 });
  let other = '10.0.0.2';
  for (let i = 2; pool.pick({ clientIp: other }) === first.member; i++) other = `10.0.0.${i}`;
  const moved = pool.pickSticky({ clientIp: other, cookieHeader: cookieOf(first.setCookie), secure: false, now: T0 });
  assert.equal(moved.member, first.member);
});

test('changing the secret invalidates old cookies; changing only max age keeps them', () => {
  const { pool } = sticky();
  const cookie = cookieOf(pool.pickSticky(ctx(undefined, T0)).setCookie);
  pool.configure({ mode: 'roundrobin', sticky: { secret: SECRET, maxAgeMs: 2 * HOUR } });
  assert.equal(pool.pickSticky(ctx(cookie, T0 + 1000)).setCookie, undefined);
  pool.configure({ mode: 'roundrobin', sticky: { secret: Buffer.alloc(32, 1), maxAgeMs: 2 * HOUR } });
  assert.ok(pool.pickSticky(ctx(cookie, T0 + 2000)).setCookie !== undefined);
  pool.configure({ mode: 'roundrobin' });
  assert.deepEqual(Object.keys(pool.pickSticky(ctx(cookie, T0 + 3000))), ['member'], 'not sticky: no cookie');
});

test('nothing usable: no member and no cookie', () => {
  const { pool, usability } = sticky();
  for (const m of pool.members) usability.down.add(m.id);
  assert.deepEqual(pool.pickSticky(ctx(undefined, T0)), { member: undefined });
});

test('the Set-Cookie never carries the address, port, container name or identity', () => {
  const pool = new Pool({
    name: 'web',
    mode: 'roundrobin',
    sticky: { secret: SECRET, maxAgeMs: HOUR },
    members: [{ id: 'c0ffee', identity: 'shop/web/1', name: 'shop-web-1', url: 'http://172.17.0.2:8080' } as BalanceMember],
  });
  const setCookie = pool.pickSticky(ctx(undefined, T0)).setCookie!;
  const value = cookieOf(setCookie).slice(STICKY_COOKIE_NAME.length + 1);
  const decoded = Buffer.from(value, 'base64url').toString('latin1');
  for (const secret of ['172.17.0.2', '8080', 'shop', 'web-1', 'c0ffee']) {
    assert.ok(!setCookie.includes(secret) && !decoded.includes(secret), secret);
  }
});

test('the proxy strips the cookie it read before going upstream', () => {
  const { pool } = sticky();
  const cookie = cookieOf(pool.pickSticky(ctx(undefined, T0)).setCookie);
  assert.equal(stripStickyCookie(`sid=1; ${cookie}`), 'sid=1');
});

test('property: any Cookie header never throws and always yields a usable member', () => {
  const { pool } = sticky('leastconn');
  const valid = cookieOf(pool.pickSticky(ctx(undefined, T0)).setCookie);
  fc.assert(
    fc.property(
      fc.oneof(fc.string(), fc.string().map((s) => `${STICKY_COOKIE_NAME}=${s}`), fc.constant(valid), fc.string().map((s) => `${valid}${s}`)),
      fc.integer(),
      (header, skew) => {
        const result = pool.pickSticky({ cookieHeader: header, secure: false, now: T0 + skew });
        assert.ok(result.member !== undefined);
      },
    ),
  );
});

test('new visitors sent to one member within one second share its signed cookie; a new second, secure or member signs anew', () => {
  const pool = new Pool({ name: 'web', mode: 'roundrobin', sticky: { secret: SECRET, maxAgeMs: HOUR }, members: [mk('a')] });
  const first = pool.pickSticky(ctx(undefined, T0 + 100)).setCookie;
  assert.equal(pool.pickSticky(ctx(undefined, T0 + 900)).setCookie, first, 'same member, same second');
  const next = pool.pickSticky(ctx(undefined, T0 + 1000)).setCookie;
  assert.notEqual(next, first, 'the next second has its own issue time');
  const secure = pool.pickSticky(ctx(undefined, T0 + 1000, true)).setCookie!;
  assert.match(secure, /; Secure/);
  assert.doesNotMatch(next!, /; Secure/);
  // each cached cookie still decodes to its member and is honoured on return
  const back = pool.pickSticky(ctx(cookieOf(first), T0 + 2000));
  assert.equal(back.member?.name, 'a');
  assert.equal(back.setCookie, undefined);
  const two = new Pool({ name: 'web', mode: 'roundrobin', sticky: { secret: SECRET, maxAgeMs: HOUR }, members: [mk('a'), mk('b')] });
  const c1 = two.pickSticky(ctx(undefined, T0));
  const c2 = two.pickSticky(ctx(undefined, T0));
  assert.notEqual(c1.member?.name, c2.member?.name);
  assert.notEqual(c1.setCookie, c2.setCookie, 'different members never share a cookie');
});
