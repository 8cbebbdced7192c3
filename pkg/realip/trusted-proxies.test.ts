import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlockList } from 'node:net';
import fc from 'fast-check';
import { NO_TRUSTED_PROXIES, RealIpError, parseTrustedProxies } from './index.ts';

test('parseTrustedProxies: CIDRs and bare addresses, both families', () => {
  const t = parseTrustedProxies(['10.0.0.0/8', ' 192.168.1.1 ', '172.16.5.4/12', '::1', 'fd00::/8', '::ffff:100.64.0.0/106', '0.0.0.0/0']);
  assert.deepEqual(t.entries, ['10.0.0.0/8', '192.168.1.1/32', '172.16.0.0/12', '::1/128', 'fd00::/8', '100.64.0.0/10', '0.0.0.0/0']);
  assert.equal(t.isEmpty, false);
  const v6only = parseTrustedProxies(['fd00::/8', '::1']);
  assert.equal(v6only.contains('fd12:3456::1'), true);
  assert.equal(v6only.contains('[fdff::1]:443'), true);
  assert.equal(v6only.contains('fe80::1'), false);
  assert.equal(v6only.contains('::2'), false);
  assert.equal(v6only.contains('::1'), true);
  assert.equal(v6only.contains('1.2.3.4'), false, 'IPv4 never matches an IPv6 range');
  const v4 = parseTrustedProxies(['10.0.0.0/8', '192.168.1.1', '::ffff:100.64.0.0/106']);
  assert.equal(v4.contains('10.255.255.255'), true);
  assert.equal(v4.contains('11.0.0.0'), false);
  assert.equal(v4.contains('::ffff:10.1.2.3'), true, 'mapped peer matches the IPv4 range');
  assert.equal(v4.contains('192.168.1.1'), true);
  assert.equal(v4.contains('192.168.1.2'), false);
  assert.equal(v4.contains('100.127.0.1'), true, 'mapped range stored as IPv4 /10');
  assert.equal(v4.contains('100.128.0.1'), false);
  assert.equal(v4.contains('garbage'), false);
  assert.equal(v4.contains('::1'), false);
});

test('parseTrustedProxies: a wide range written with a mapped address stays IPv6', () => {
  const t = parseTrustedProxies(['::ffff:0.0.0.0/95']);
  assert.deepEqual(t.entries, ['::fffe:0:0/95']);
  assert.equal(t.contains('::fffe:1:1'), true);
  assert.equal(t.contains('1.2.3.4'), false);
});

test('parseTrustedProxies: an IPv4-compatible range (::a.b.c.d) is IPv6, not mapped', () => {
  const t = parseTrustedProxies(['::10.0.0.0/104', '::ffff:0:0/96', 'FD00:0:0:0:0:0:0:1/64']);
  assert.deepEqual(t.entries, ['::a00:0/104', '0.0.0.0/0', 'fd00::/64']);
  assert.equal(t.contains('::a01:203'), true);
  assert.equal(t.contains('::ffff:a01:203'), true, 'mapped is IPv4 10.1.2.3, inside 0.0.0.0/0');
  assert.equal(t.contains('::b00:1'), false);
  assert.equal(t.contains('fd00::ffff:1'), true);
});

test('parseTrustedProxies: the empty list trusts nothing', () => {
  assert.equal(NO_TRUSTED_PROXIES.isEmpty, true);
  assert.equal(NO_TRUSTED_PROXIES.contains('127.0.0.1'), false);
  assert.equal(parseTrustedProxies([]).contains('::1'), false);
});

test('parseTrustedProxies: bad entries throw REALIP_BAD_TRUSTED_PROXY naming the entry', () => {
  const bad = ['', '  ', 'abc', 'localhost', '10.0.0.0/33', '::/129', '10.0.0.0/', '10.0.0.0/-1', '10.0.0.0/08', '10.0.0.0/8/8', '[::1]', '1.2.3.4:80', 'fe80::1%eth0', '10.0.0', '10.0.0.0/x'];
  for (const entry of bad) {
    assert.throws(
      () => parseTrustedProxies(['10.0.0.0/8', entry]),
      (e: unknown) => e instanceof RealIpError && e.code === 'REALIP_BAD_TRUSTED_PROXY' && e.entry === entry && e.message.includes(JSON.stringify(entry)),
      entry,
    );
  }
  assert.throws(() => parseTrustedProxies('10.0.0.0/8' as unknown as string[]), RealIpError);
  // ipaddr.js's parseCIDR and parse accept these; trusted lists use the per-request syntax.
  for (const entry of ['0x7f.0.0.1/8', '010.0.0.0/8', '127.1', '10.0.0.0/008', '::ffff:010.0.0.0/104', '::ffff:0x0a.0.0.0/104', '10.0.0.0/ 8']) {
    assert.throws(() => parseTrustedProxies([entry]), (e: unknown) => e instanceof RealIpError && e.entry === entry, entry);
  }
  assert.throws(() => parseTrustedProxies([42 as unknown as string]), RealIpError);
});

test('TrustedProxies.contains agrees with node:net BlockList for random ranges and addresses', () => {
  const v4range = fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 }));
  const v6range = fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 }));
  fc.assert(
    fc.property(fc.array(fc.oneof(v4range, v6range), { maxLength: 5 }), fc.array(fc.oneof(fc.ipV4(), fc.ipV6()), { maxLength: 10 }), (ranges, ips) => {
      const ours = parseTrustedProxies(ranges.map(([a, p]) => `${a}/${p}`));
      // One BlockList per family: BlockList matches IPv4 against IPv6 ranges through the mapped
      // form; ours keeps the families apart (as Go's net.IPNet does) and says so in the docs.
      const ref4 = new BlockList();
      const ref6 = new BlockList();
      for (const [a, p] of ranges) {
        const v6 = a.includes(':');
        // Mapped ranges: we store ::ffff:x/≥96 as IPv4; skip them in the oracle comparison.
        if (v6 && /ffff/i.test(a)) return;
        if (v6) ref6.addSubnet(a, p, 'ipv6');
        else ref4.addSubnet(a, p, 'ipv4');
      }
      // The range addresses themselves always match; random ones mostly do not: check both.
      for (const ip of [...ips, ...ranges.map(([a]) => a)]) {
        if (ip.includes(':') && /ffff/i.test(ip)) continue; // mapped addresses become IPv4 in ours
        const want = ip.includes(':') ? ref6.check(ip, 'ipv6') : ref4.check(ip, 'ipv4');
        assert.equal(ours.contains(ip), want, `${ip} in ${ranges.join(' ')}`);
      }
    }),
    { numRuns: 1000 },
  );
});
