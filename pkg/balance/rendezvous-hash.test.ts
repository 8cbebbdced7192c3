import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Pool } from './pool.ts';
import type { BalanceMember } from './pool.ts';
import { weightShares } from './normalise-weights.ts';
import { hashString, rendezvousScore } from './rendezvous-hash.ts';

test('hashString is a stable 32-bit unsigned hash', () => {
  assert.equal(hashString('10.0.0.1'), hashString('10.0.0.1'));
  assert.notEqual(hashString('10.0.0.1'), hashString('10.0.0.2'));
  for (const s of ['', 'a', '::1', 'ünïcode']) {
    const h = hashString(s);
    assert.ok(Number.isInteger(h) && h >= 0 && h < 2 ** 32);
  }
});

// The pruned, log-free fast paths must pick exactly what the plain argmax of -w/ln(u) picks.
test('property: iphash picks the brute-force weighted rendezvous winner among usable, not excluded members', () => {
  const memberArb = fc.uniqueArray(
    fc.record({ name: fc.string({ minLength: 1, maxLength: 5 }), weight: fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }), down: fc.boolean() }),
    { minLength: 1, maxLength: 12, selector: (m) => m.name },
  );
  fc.assert(
    fc.property(memberArb, fc.array(fc.ipV4(), { minLength: 1, maxLength: 20 }), fc.boolean(), (specs, ips, excludeFirst) => {
      const members: BalanceMember[] = specs.map((s) => ({ id: `id-${s.name}`, identity: `p/${s.name}`, name: s.name, weight: s.weight }));
      const down = new Set(specs.filter((s) => s.down).map((s) => `id-${s.name}`));
      const pool = new Pool({ name: 'p', mode: 'iphash', usability: { isUsable: (id) => !down.has(id) }, members });
      const exact = weightShares(members).exact;
      const exclude = excludeFirst ? new Set([members[0]!.id]) : undefined;
      for (const ip of ips) {
        let best: BalanceMember | undefined;
        let bestScore = -1;
        members.forEach((m, i) => {
          if (down.has(m.id) || exclude?.has(m.id)) return;
          const score = rendezvousScore(hashString(ip), hashString(m.identity), exact[i]!);
          if (score > bestScore || (score === bestScore && best !== undefined && m.name < best.name)) {
            best = m;
            bestScore = score;
          }
        });
        assert.equal(pool.pick({ clientIp: ip }, exclude), best, ip);
      }
    }),
    { numRuns: 300 },
  );
});
