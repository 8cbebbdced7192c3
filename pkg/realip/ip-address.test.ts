import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIP, isIPv4, isIPv6 } from 'node:net';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { normaliseIp } from './index.ts';
import { parseIPv4, parseIPv6 } from './ip-address.ts';

test('normaliseIp: IPv4, mapped IPv6, brackets, ports, zones', () => {
  const cases: [string, string | undefined][] = [
    ['1.2.3.4', '1.2.3.4'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    ['  10.0.0.1\t', '10.0.0.1'],
    ['::ffff:1.2.3.4', '1.2.3.4'],
    ['::FFFF:7f00:1', '127.0.0.1'],
    ['0:0:0:0:0:ffff:7f00:1', '127.0.0.1'],
    ['[::ffff:1.2.3.4]:443', '1.2.3.4'],
    ['1.2.3.4:5678', '1.2.3.4'],
    ['[::1]:80', '::1'],
    ['[::1]', '::1'],
    ['::1', '::1'],
    ['::', '::'],
    ['1::', '1::'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // RFC 5952 §4.2.3: first of equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // §4.2.2: a single zero is not compressed
    ['fe80::1%eth0', 'fe80::1'],
    ['[fe80::1%25]:8', 'fe80::1'],
    ['::1.2.3.4', '::102:304'], // IPv4-compatible (deprecated) is not IPv4-mapped
    ['64:ff9b::1.2.3.4', '64:ff9b::102:304'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
  ];
  for (const [input, want] of cases) assert.equal(normaliseIp(input), want, input);
});

test('normaliseIp: garbage is undefined', () => {
  const garbage = [
    '', ' ', 'unknown', '_hidden', '01.2.3.4', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1.2.3.-1', '1..2.3',
    '1.2.3.4:', '1.2.3.4:65536', '1.2.3.4:x', '1.2.3.4:123456', '[1.2.3.4]', '[::1', '[::1]x', '[::1]:', '::1]',
    ':1', '1:', ':::1', '1:::2', '1::2::3', '1:2:3:4:5:6:7:8:9', '::1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8::',
    '12345::', 'g::1', '::ffff:1.2.3', '1:2:3:4:5:6:7:1.2.3.4', 'fe80::1%', 'fe80::1%a b', 'fe80::1%a/b',
    '0x7f.0.0.1', '2130706433', '1.2.3.4/32', 'a'.repeat(200), '1.2.3.4 5', 'localhost',
  ];
  for (const g of garbage) assert.equal(normaliseIp(g), undefined, JSON.stringify(g));
  assert.equal(normaliseIp(undefined), undefined);
  assert.equal(normaliseIp(42), undefined);
});

test('normaliseIp: agrees with node:net on arbitrary IPv4/IPv6 and is a fixed point', () => {
  fc.assert(
    fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (ip) => {
      const n = normaliseIp(ip);
      assert.ok(n !== undefined, ip);
      assert.ok(isIP(n) !== 0, n);
      assert.equal(normaliseIp(n), n);
      // ipaddr.js reads IPv4-compatible `::a.b.c.d` as mapped `::ffff:a.b.c.d`, a different
      // address, so it is no oracle for those (ip-address.ts guards that quirk; the URL
      // property below checks it). Compare everything else.
      if (/^::\d+\.\d+\.\d+\.\d+$/.test(ip)) return;
      // Same address as ipaddr.js says (it converts mapped IPv4 with toIPv4Address).
      const ref = ipaddr.process(ip).toNormalizedString();
      assert.equal(ipaddr.process(n).toNormalizedString(), ref);
      // Canonical IPv6 is what ipaddr.js prints per RFC 5952.
      if (isIPv6(n)) assert.equal(n, ipaddr.IPv6.parse(ip).toRFC5952String());
    }),
    { numRuns: 2000 },
  );
});

test('normaliseIp: never throws and only returns valid canonical addresses for any string', () => {
  const alphabet = fc.constantFrom(...'0123456789abcdefABCDEF:.[]%% ,\t-x'.split(''));
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.string({ unit: alphabet, maxLength: 50 }), fc.string({ unit: 'binary' })), (s) => {
      const n = normaliseIp(s);
      if (n !== undefined) {
        assert.ok(isIPv4(n) || isIPv6(n), `${JSON.stringify(s)} -> ${n}`);
        assert.equal(normaliseIp(n), n);
        assert.ok(!n.startsWith('::ffff:') || n.includes(':', 7), 'mapped IPv4 must come out as IPv4');
      }
    }),
    { numRuns: 5000 },
  );
});

test('normaliseIp: accepts every syntactically valid bare IPv6 node:net accepts, and nothing it rejects', () => {
  const alphabet = fc.constantFrom(...'0123456789abcdef:.'.split(''));
  fc.assert(
    fc.property(fc.string({ unit: alphabet, minLength: 2, maxLength: 45 }), (s) => {
      // Node's isIPv6 allows leading zeros in embedded IPv4 and >4 digit groups? Compare only
      // where both grammars are defined the same: no embedded IPv4.
      if (s.includes('.')) return;
      const ours = normaliseIp(s) !== undefined;
      assert.equal(ours, isIPv6(s), s);
    }),
    { numRuns: 5000 },
  );
});

test('normaliseIp: ipaddr.js quirks are guarded (legacy IPv4, loose IPv4 tails, compat form)', () => {
  const cases: [string, string | undefined][] = [
    // ipaddr.IPv4.parse reads all of these; a forwarding header must not.
    ['0x7f.0.0.1', undefined], ['127.1', undefined], ['010.0.0.1', undefined], ['2130706433', undefined], ['0x7f000001', undefined],
    // ipaddr.IPv6 reads an embedded tail with parseInt (decimal `010`, `0x`); we do not.
    ['::ffff:010.0.0.1', undefined], ['::ffff:0x7f.0.0.1', undefined], ['::FFFF:1.2.3.256', undefined], ['::1.2.3.04', undefined],
    ['::ffff:1.2.3.4%eth0', '1.2.3.4'],
    // IPv4-compatible is not IPv4-mapped (ipaddr.js reads `::1.2.3.4` as `::ffff:1.2.3.4`).
    ['::1.2.3.4', '::102:304'], ['::0.0.0.1', '::1'], ['[::10.0.0.1]:80', '::a00:1'], ['0:0:0:0:0:0:1.2.3.4', '::102:304'],
    ['::ffff:0:1.2.3.4', '::ffff:0:102:304'], ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'], ['1::1.2.3.4', '1::102:304'],
    // Zones: Linux interface names carry `-`, `.` and `_` (ipaddr.js allows only [0-9a-z]).
    ['fe80::1%br-4f2a91', 'fe80::1'], ['fe80::1%eth0.100', 'fe80::1'], ['[fe80::a%veth_1~x]:443', 'fe80::a'], ['fe80::1%a:b', undefined],
  ];
  for (const [input, want] of cases) assert.equal(normaliseIp(input), want, input);
});

test('parseIPv4 accepts exactly what ipaddr.IPv4.isValidFourPartDecimal accepts, with the same value', () => {
  const alphabet = fc.constantFrom(...'0123456789.x'.split(''));
  const octet = fc.oneof(fc.nat(300).map(String), fc.constantFrom('00', '01', '007', '0x1', '1000'));
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: alphabet, maxLength: 18 }), fc.ipV4(), fc.ipV4Extended(), fc.array(octet, { minLength: 1, maxLength: 5 }).map((a) => a.join('.'))), (s) => {
      const ours = parseIPv4(s);
      assert.equal(ours !== undefined, ipaddr.IPv4.isValidFourPartDecimal(s), s);
      if (ours !== undefined) assert.equal(ours.toString(), ipaddr.IPv4.parse(s).toString());
    }),
    { numRuns: 5000 },
  );
});

test('the ::ffff:a.b.c.d shortcut gives what ipaddr.js gives (toIPv4Address)', () => {
  fc.assert(
    fc.property(fc.ipV4(), fc.constantFrom('::ffff:', '::FFFF:', '::fFfF:'), (v4, prefix) => {
      const text = `${prefix}${v4}`;
      assert.equal(normaliseIp(text), ipaddr.IPv6.parse(text).toIPv4Address().toString());
      assert.equal(normaliseIp(text), v4);
    }),
  );
});

test('normaliseIp: IPv6 with and without an IPv4 tail agrees with the WHATWG URL parser', () => {
  // An independent oracle: URL hosts are printed in the RFC 5952 shape and never as mapped.
  // Six head words (some zero), the `::` over words [at, at + len), then a dotted tail.
  const word = fc.oneof(fc.constant(0), fc.constant(0xffff), fc.nat(0xffff));
  const withTail = fc.tuple(fc.array(word, { minLength: 6, maxLength: 6 }), fc.nat(5), fc.nat(6), fc.ipV4(), fc.boolean()).map(([words, at, len, v4, upper]) => {
    const hex = words.map((w) => (upper ? w.toString(16).toUpperCase() : w.toString(16)));
    if (len === 0) return `${hex.join(':')}:${v4}`;
    const end = Math.min(6, at + len);
    const right = hex.slice(end);
    return `${hex.slice(0, at).join(':')}::${right.length > 0 ? `${right.join(':')}:` : ''}${v4}`;
  });
  const v6 = fc.oneof(fc.ipV6(), withTail, fc.ipV4().map((b) => `::${b}`));
  fc.assert(
    fc.property(v6, (ip) => {
      const parsed = parseIPv6(ip);
      assert.ok(parsed !== undefined, ip);
      const url = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
      assert.equal(parsed.toRFC5952String(), url, ip);
      const mapped = /^::ffff:[0-9a-f]{1,4}:[0-9a-f]{1,4}$/.test(url);
      assert.equal(normaliseIp(ip), mapped ? ipaddr.IPv6.parse(url).toIPv4Address().toString() : url, ip);
    }),
    { numRuns: 3000 },
  );
});

test('normaliseIp: answers stay right across many distinct IPv6 addresses (remembered answers are bounded)', () => {
  // More distinct addresses than the cache holds, read twice: a wrong key or a stale entry
  // after the cache is emptied would give another address's text.
  const ips = Array.from({ length: 3000 }, (_, i) => `2001:DB8:0:${i.toString(16)}:0:0:0:${(i * 7 + 1).toString(16)}`);
  const want = ips.map((ip) => ipaddr.IPv6.parse(ip).toRFC5952String());
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < ips.length; i++) assert.equal(normaliseIp(ips[i]), want[i]);
    for (let i = ips.length - 1; i >= 0; i -= 7) assert.equal(normaliseIp(` [${ips[i]!}]:80 `), want[i]);
  }
});
