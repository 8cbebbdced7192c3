// One conformance suite, run against every selector: roundrobin, leastconn, iphash, and each
// of them wrapped by sticky (as new visitors, with no cookie, sticky must behave exactly like
// the mode it wraps and always hand out a cookie).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Pool } from './pool.ts';
import type { BalanceMember, BalanceMode } from './pool.ts';
import type { MemberUsability } from './selection-state.ts';

interface Variant {
  label: string;
  mode: BalanceMode;
  sticky: boolean;
}

class SetUsability implements MemberUsability {
  readonly down = new Set<string>();
  isUsable(id: string): boolean {
    return !this.down.has(id);
  }
}

const mk = (name: string, weight?: number): BalanceMember => ({
  id: `id-${name}`,
  identity: `proj/${name}`,
  name,
  ...(weight === undefined ? {} : { weight }),
});

// Deterministic pseudo-random IPv4 addresses (mulberry32), so the suite never flakes.
function randomIps(count: number, seed: number): string[] {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return Array.from({ length: count }, () => {
    const v = next();
    return `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  });
}

function runSelectorSuite(variant: Variant): void {
  const hashed = variant.mode === 'iphash';
  let clock = Date.UTC(2026, 0, 1);

  const make = (members: BalanceMember[], usability = new SetUsability()): { pool: Pool; usability: SetUsability } => {
    const pool = new Pool({
      name: 'web',
      mode: variant.mode,
      usability,
      members,
      ...(variant.sticky ? { sticky: { secret: Buffer.alloc(32, 9), maxAgeMs: 3_600_000 } } : {}),
    });
    return { pool, usability };
  };

  // One pick as the proxy does it; leastconn requests are released at once (no overlap).
  const pick = (pool: Pool, clientIp?: string, exclude?: ReadonlySet<string>): BalanceMember | undefined => {
    const ctx = clientIp === undefined ? {} : { clientIp };
    let member: BalanceMember | undefined;
    if (variant.sticky) {
      const result = pool.pickSticky({ ...ctx, secure: false, now: clock++ }, exclude);
      member = result.member;
      if (member === undefined) assert.equal(result.setCookie, undefined);
      else assert.match(result.setCookie ?? '', /^bellhop_lb_sticky=/, 'a new visitor always gets a cookie');
    } else {
      member = pool.pick(ctx, exclude);
    }
    if (member !== undefined) pool.acquire(member.id)();
    return member;
  };

  const ips = randomIps(10_000, 0xb311);
  const shareOf = (pool: Pool, names: string[]): Map<string, number> => {
    const counts = new Map<string, number>(names.map((n) => [n, 0]));
    for (const ip of ips) {
      const name = pick(pool, ip)!.name;
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    return new Map([...counts].map(([n, c]) => [n, (100 * c) / ips.length]));
  };

  const assertShares = (pool: Pool, expected: Record<string, number>): void => {
    const names = Object.keys(expected);
    if (hashed) {
      const shares = shareOf(pool, names);
      for (const n of names) {
        const got = shares.get(n)!;
        assert.ok(Math.abs(got - expected[n]!) <= 2.5, `${n}: ${got.toFixed(2)}% vs ${expected[n]}% over 10,000 IPs`);
      }
      return;
    }
    // Every window of 100 consecutive picks (sliding over 300) gives exactly the weights.
    const seq = Array.from({ length: 300 }, () => pick(pool)!.name);
    for (let start = 0; start + 100 <= seq.length; start++) {
      const counts: Record<string, number> = {};
      for (const name of seq.slice(start, start + 100)) counts[name] = (counts[name] ?? 0) + 1;
      assert.deepEqual(counts, expected, `window starting at pick ${start}`);
    }
  };

  describe(variant.label, () => {
    test('an empty pool picks nothing', () => {
      const { pool } = make([]);
      assert.equal(pick(pool), undefined);
      assert.equal(pick(pool, '10.0.0.1'), undefined);
    });

    test('nothing usable picks nothing', () => {
      const { pool, usability } = make([mk('a'), mk('b'), mk('c')]);
      for (const id of ['id-a', 'id-b', 'id-c']) usability.down.add(id);
      assert.equal(pick(pool), undefined);
      assert.equal(pick(pool, '10.0.0.1'), undefined);
    });

    test('one member takes every pick', () => {
      const { pool } = make([mk('solo', 5)]);
      for (let i = 0; i < 50; i++) assert.equal(pick(pool, ips[i])?.name, 'solo');
      assert.equal(pick(pool)?.name, 'solo');
    });

    test('exact shares follow the normalised weights', () => {
      assertShares(make([mk('a', 30), mk('b')]).pool, { a: 30, b: 70 });
      assertShares(make([mk('a', 50), mk('b', 50), mk('c')]).pool, { a: 34, b: 33, c: 33 });
    });

    if (!hashed) {
      test('30/70 is interleaved: no run longer than 3', () => {
        const { pool } = make([mk('a', 30), mk('b', 70)]);
        let run = 0;
        let last = '';
        let longest = 0;
        for (let i = 0; i < 1000; i++) {
          const name = pick(pool)!.name;
          run = name === last ? run + 1 : 1;
          last = name;
          longest = Math.max(longest, run);
        }
        assert.ok(longest <= 3, `longest run ${longest}`);
      });
    }

    test('an unusable member is skipped without changing the others\' proportions', () => {
      const { pool, usability } = make([mk('a', 20), mk('b', 20), mk('c', 60)]);
      usability.down.add('id-c');
      if (hashed) {
        assertShares(pool, { a: 50, b: 50 });
      } else {
        const counts = { a: 0, b: 0 };
        for (let i = 0; i < 400; i++) counts[pick(pool)!.name as 'a' | 'b']++;
        assert.deepEqual(counts, { a: 200, b: 200 });
      }
    });

    test('exclude-set failover returns a different usable member, then nothing', () => {
      const { pool, usability } = make([mk('a'), mk('b'), mk('c'), mk('d')]);
      usability.down.add('id-d');
      for (const ip of [undefined, ...ips.slice(0, 50)]) {
        const tried = new Set<string>();
        for (let attempt = 0; attempt < 3; attempt++) {
          const m = pick(pool, ip, tried);
          assert.ok(m !== undefined, 'a usable member remains');
          assert.ok(!tried.has(m.id), 'never an excluded member');
          assert.notEqual(m.id, 'id-d', 'never an unusable member');
          tried.add(m.id);
        }
        assert.equal(pick(pool, ip, tried), undefined);
      }
    });

    test('stable under add and remove: shares follow the new membership at once', () => {
      const { pool } = make([mk('a', 30), mk('b')]);
      assertShares(pool, { a: 30, b: 70 });
      pool.setMembers([mk('a', 30), mk('b'), mk('c')]);
      assertShares(pool, { a: 30, b: 35, c: 35 });
      pool.setMembers([mk('b'), mk('c')]);
      assertShares(pool, { b: 50, c: 50 });
      pool.setMembers([mk('c'), mk('a', 30), mk('b')]); // order of discovery does not matter
      assertShares(pool, { a: 30, b: 35, c: 35 });
    });

    if (hashed) {
      test('removing 1 of 4 members moves only that member\'s clients (<= 30% of 10,000 IPs)', () => {
        const four = [mk('a'), mk('b'), mk('c'), mk('d')];
        const { pool } = make(four);
        const before = ips.map((ip) => pick(pool, ip)!.name);
        pool.setMembers(four.filter((x) => x.name !== 'c'));
        const after = ips.map((ip) => pick(pool, ip)!.name);
        let moved = 0;
        for (let i = 0; i < ips.length; i++) {
          if (before[i] === after[i]) continue;
          moved++;
          assert.equal(before[i], 'c', `client ${ips[i]} moved from ${before[i]} although it stayed`);
        }
        assert.ok(moved > 0 && moved <= 3000, `${moved} of 10,000 moved`);
      });

      test('an unusable member\'s clients go to their next choice and return when it recovers', () => {
        const { pool, usability } = make([mk('a'), mk('b'), mk('c'), mk('d')]);
        const before = ips.map((ip) => pick(pool, ip)!.name);
        usability.down.add('id-b');
        const during = ips.map((ip) => pick(pool, ip)!.name);
        for (let i = 0; i < ips.length; i++) {
          if (before[i] === 'b') assert.notEqual(during[i], 'b');
          else assert.equal(during[i], before[i], 'clients of usable members stay');
        }
        usability.down.delete('id-b');
        assert.deepEqual(ips.map((ip) => pick(pool, ip)!.name), before);
      });

      test('a recreated container (new id, same identity) keeps its clients', () => {
        const { pool } = make([mk('a'), mk('b'), mk('c')]);
        const before = ips.slice(0, 2000).map((ip) => pick(pool, ip)!.identity);
        pool.setMembers([mk('a'), { ...mk('b'), id: 'id-b-recreated' }, mk('c')]);
        assert.deepEqual(ips.slice(0, 2000).map((ip) => pick(pool, ip)!.identity), before);
      });
    }
  });
}

const variants: Variant[] = [];
for (const mode of ['roundrobin', 'leastconn', 'iphash'] as const) {
  variants.push({ label: mode, mode, sticky: false }, { label: `sticky(${mode})`, mode, sticky: true });
}
for (const variant of variants) runSelectorSuite(variant);
