import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import fc from 'fast-check';
import { NO_TRUSTED_PROXIES, clientIp, normaliseIp, parseTrustedProxies, resolveClient } from './index.ts';

const trusted = parseTrustedProxies(['10.0.0.0/8', 'fd00::/8']);

test('clientIp: an untrusted peer is the client whatever it sends', () => {
  assert.equal(clientIp('203.0.113.7', '6.6.6.6', trusted), '203.0.113.7');
  assert.equal(clientIp('::ffff:203.0.113.7', ['1.1.1.1', '10.0.0.1'], trusted), '203.0.113.7');
  assert.deepEqual(resolveClient('203.0.113.7', '1.1.1.1', trusted), { peerIp: '203.0.113.7', peerTrusted: false, clientIp: '203.0.113.7' });
});

test('clientIp: trusted peer, rightmost untrusted address wins (reliability C4)', () => {
  assert.equal(clientIp('10.0.0.1', '6.6.6.6, 9.9.9.9', trusted), '9.9.9.9');
  assert.equal(clientIp('10.0.0.1', '6.6.6.6, 9.9.9.9, 10.1.1.1, 10.2.2.2', trusted), '9.9.9.9');
  assert.deepEqual(resolveClient('::ffff:10.0.0.1', '9.9.9.9', trusted), { peerIp: '10.0.0.1', peerTrusted: true, clientIp: '9.9.9.9' });
  assert.equal(clientIp('fd00::2', '2001:DB8::1, fd00::9', trusted), '2001:db8::1');
});

test('clientIp: several lines are one list in order (reliability C5)', () => {
  const joined = clientIp('10.0.0.1', '1.1.1.1, 2.2.2.2, 10.0.0.7', trusted);
  assert.equal(joined, '2.2.2.2');
  assert.equal(clientIp('10.0.0.1', ['1.1.1.1', '2.2.2.2, 10.0.0.7'], trusted), joined);
  assert.equal(clientIp('10.0.0.1', ['1.1.1.1, 2.2.2.2', '10.0.0.7'], trusted), joined);
  assert.equal(clientIp('10.0.0.1', ['1.1.1.1', '2.2.2.2', '10.0.0.7'], trusted), joined);
  // Trusted all the way through the last line: continue into the earlier line.
  assert.equal(clientIp('10.0.0.1', ['3.3.3.3, 10.0.0.5', '10.0.0.6, 10.0.0.7'], trusted), '3.3.3.3');
});

test('clientIp: all trusted gives the leftmost; no or empty header gives the peer', () => {
  assert.equal(clientIp('10.0.0.1', '10.0.0.5, 10.0.0.6', trusted), '10.0.0.5');
  assert.equal(clientIp('10.0.0.1', ['10.0.0.5', '10.0.0.6'], trusted), '10.0.0.5');
  assert.equal(clientIp('10.0.0.1', undefined, trusted), '10.0.0.1');
  assert.equal(clientIp('10.0.0.1', '', trusted), '10.0.0.1');
  assert.equal(clientIp('10.0.0.1', [], trusted), '10.0.0.1');
  assert.equal(clientIp('10.0.0.1', ' , ,', trusted), '10.0.0.1');
});

test('clientIp: garbage ends the walk with the last good address (fails closed)', () => {
  assert.equal(clientIp('10.0.0.1', '1.1.1.1, garbage', trusted), '10.0.0.1', 'rightmost garbage → peer');
  assert.equal(clientIp('10.0.0.1', '1.1.1.1, unknown, 10.0.0.5', trusted), '10.0.0.5');
  assert.equal(clientIp('10.0.0.1', '1.1.1.1, _hidden, 10.0.0.5, 10.0.0.6', trusted), '10.0.0.5');
  assert.equal(clientIp('10.0.0.1', ['1.1.1.1', 'x, 10.0.0.5', '10.0.0.6'], trusted), '10.0.0.5');
  assert.equal(clientIp('10.0.0.1', 'garbage, 2.2.2.2', trusted), '2.2.2.2', 'garbage left of the client is never read');
});

test('clientIp: ports, brackets, blanks and empty elements', () => {
  assert.equal(clientIp('10.0.0.1', '1.2.3.4:5678', trusted), '1.2.3.4');
  assert.equal(clientIp('10.0.0.1', '[2001:db8::1]:443, 10.0.0.2:80', trusted), '2001:db8::1');
  assert.equal(clientIp('10.0.0.1', '[::1]:80', trusted), '::1');
  assert.equal(clientIp('10.0.0.1', '\t2.2.2.2 ,, 10.0.0.2 ,', trusted), '2.2.2.2');
  assert.equal(clientIp('10.0.0.1', '2001:db8::1:80', trusted), '2001:db8::1:80', 'bare IPv6 has no port');
});

test('clientIp: no trusted proxies → always the peer; a non-IP peer → undefined', () => {
  assert.equal(clientIp('1.2.3.4', '10.0.0.1', NO_TRUSTED_PROXIES), '1.2.3.4');
  assert.equal(clientIp(undefined, '1.1.1.1', trusted), undefined);
  assert.equal(clientIp('', '1.1.1.1', trusted), undefined);
  assert.equal(clientIp('not-an-ip', '1.1.1.1', trusted), undefined);
  assert.equal(resolveClient(undefined, undefined, trusted), undefined);
});

test('clientIp: 10,000 trusted elements are walked without trouble', () => {
  const long = Array.from({ length: 10_000 }, (_, i) => `10.0.${(i >> 8) & 255}.${i & 255}`).join(', ');
  assert.equal(clientIp('10.0.0.1', `7.7.7.7, ${long}`, trusted), '7.7.7.7');
});

// ---- properties ----

const anyIp = fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV4().map((a) => `::ffff:${a}`));
const trustedIp = fc.oneof(
  fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255)).map(([a, b, c]) => `10.${a}.${b}.${c}`),
  fc.ipV6().map((a) => `fd${normaliseIp(a)!.padStart(4, '0').slice(2)}`).filter((a) => normaliseIp(a) !== undefined && trusted.contains(a)),
);
const untrustedIp = anyIp.filter((a) => !trusted.contains(a));
const element = fc.oneof(anyIp, trustedIp, fc.string({ maxLength: 12 }), fc.constantFrom('unknown', '', ' ', '[::1]:80', '1.2.3.4:9'));
const xffValue = fc.oneof(
  fc.constant(undefined),
  fc.string(),
  fc.array(element, { maxLength: 8 }).map((a) => a.join(',')),
  fc.array(fc.array(element, { maxLength: 4 }).map((a) => a.join(', ')), { maxLength: 4 }),
);

test('property: never throws, always a valid canonical IP for an IP peer', () => {
  fc.assert(
    fc.property(fc.oneof(anyIp, trustedIp), xffValue, (peer, xff) => {
      const r = clientIp(peer, xff, trusted);
      assert.ok(r !== undefined && isIP(r) !== 0, `${String(r)}`);
      assert.equal(normaliseIp(r), r);
    }),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(fc.string(), fc.oneof(fc.constant(undefined), fc.string(), fc.array(fc.string())), (peer, xff) => {
      const r = clientIp(peer, xff, trusted);
      assert.ok(r === undefined || isIP(r) !== 0);
    }),
    { numRuns: 3000 },
  );
});

test('property: with no trusted proxies the result is always the peer', () => {
  fc.assert(
    fc.property(anyIp, xffValue, (peer, xff) => {
      assert.equal(clientIp(peer, xff, NO_TRUSTED_PROXIES), normaliseIp(peer));
    }),
  );
});

test('property: anything left of the first untrusted address never changes the answer', () => {
  fc.assert(
    fc.property(
      trustedIp,
      fc.array(element, { maxLength: 5 }),
      untrustedIp,
      fc.array(trustedIp, { maxLength: 5 }),
      fc.array(element, { maxLength: 5 }),
      (peer, left, client, trustedHops, moreLeft) => {
        const base = [...left, client, ...trustedHops].join(', ');
        const r = clientIp(peer, base, trusted);
        assert.equal(r, normaliseIp(client));
        assert.equal(clientIp(peer, [...moreLeft, client, ...trustedHops].join(', '), trusted), r);
        assert.equal(clientIp(peer, [moreLeft.join(','), base], trusted), r);
      },
    ),
  );
});

test('property: a garbage element ends the walk at the last good address', () => {
  fc.assert(
    fc.property(
      trustedIp,
      fc.array(element, { maxLength: 4 }),
      fc.string({ maxLength: 10 }).filter((s) => s.trim() !== '' && !s.includes(',') && normaliseIp(s) === undefined),
      fc.array(trustedIp, { maxLength: 4 }),
      (peer, left, garbage, hops) => {
        const want = hops.length > 0 ? normaliseIp(hops[0]!) : normaliseIp(peer);
        assert.equal(clientIp(peer, [...left, garbage, ...hops].join(','), trusted), want);
      },
    ),
  );
});
