import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RealIpError, compileRealIpOptions, normaliseIp, realIpFromOptions } from './index.ts';

const xffFrom = compileRealIpOptions({ header: 'X-Forwarded-For', from: ['172.16.0.0/12'], recursive: false });
const xffRec = compileRealIpOptions({ header: 'X-Forwarded-For', from: ['172.16.0.0/12'], recursive: true });

test('compileRealIpOptions: defaults and validation', () => {
  const d = compileRealIpOptions({ from: ['10.0.0.0/8'] });
  assert.equal(d.header, 'X-Real-IP');
  assert.equal(d.headerLower, 'x-real-ip');
  assert.equal(d.recursive, false);
  assert.deepEqual(d.from.entries, ['10.0.0.0/8']);
  // GoDoxy ignored options without `from` silently; we refuse them.
  assert.throws(() => compileRealIpOptions({ header: 'X-Forwarded-For', from: [] }), (e: unknown) => e instanceof RealIpError && e.code === 'REALIP_NO_FROM');
  assert.throws(() => compileRealIpOptions({ header: 'X Real', from: ['10.0.0.0/8'] }), (e: unknown) => e instanceof RealIpError && e.code === 'REALIP_BAD_HEADER' && e.entry === 'X Real');
  assert.throws(() => compileRealIpOptions({ header: '', from: ['10.0.0.0/8'] }), (e: unknown) => e instanceof RealIpError && e.code === 'REALIP_BAD_HEADER');
  assert.throws(() => compileRealIpOptions({ from: ['10.0.0.0/8', 'nope'] }), (e: unknown) => e instanceof RealIpError && e.code === 'REALIP_BAD_TRUSTED_PROXY' && e.entry === 'nope');
});

test('realIpFromOptions: header absent or peer not in `from` → the peer', () => {
  assert.equal(realIpFromOptions('172.17.0.1', ['Host', 'a'], xffFrom), '172.17.0.1');
  assert.equal(realIpFromOptions('8.8.8.8', ['X-Forwarded-For', '1.1.1.1'], xffFrom), '8.8.8.8');
  assert.equal(realIpFromOptions('::ffff:8.8.8.8', ['X-Forwarded-For', '1.1.1.1'], xffRec), '8.8.8.8');
  assert.equal(realIpFromOptions(undefined, ['X-Forwarded-For', '1.1.1.1'], xffRec), undefined);
  assert.equal(realIpFromOptions('garbage', [], xffRec), undefined);
});

test('realIpFromOptions: not recursive takes the rightmost element (comma lists included)', () => {
  assert.equal(realIpFromOptions('172.17.0.1', ['x-forwarded-for', '1.1.1.1, 172.18.0.5'], xffFrom), '172.18.0.5');
  // GoDoxy parsed each line as one IP, so this comma line was ignored; we read it.
  assert.equal(realIpFromOptions('172.17.0.1', ['X-Forwarded-For', '1.1.1.1, 2.2.2.2'], xffFrom), '2.2.2.2');
  assert.equal(realIpFromOptions('172.17.0.1', ['X-Forwarded-For', '1.1.1.1', 'Accept', '*/*', 'X-FORWARDED-FOR', '3.3.3.3'], xffFrom), '3.3.3.3');
  // GoDoxy used the garbage string as the address; we keep the peer.
  assert.equal(realIpFromOptions('172.17.0.1', ['X-Forwarded-For', '1.1.1.1, unknown'], xffFrom), '172.17.0.1');
});

test('realIpFromOptions: recursive skips `from` addresses from the right', () => {
  assert.equal(realIpFromOptions('172.17.0.1', ['X-Forwarded-For', '6.6.6.6, 9.9.9.9, 172.18.0.5'], xffRec), '9.9.9.9');
  assert.equal(realIpFromOptions('172.17.0.1', ['X-Forwarded-For', '6.6.6.6', 'X-Forwarded-For', '172.18.0.5'], xffRec), '6.6.6.6');
  // All in `from`: the leftmost (GoDoxy kept the peer).
  assert.equal(realIpFromOptions('172.17.0.1', ['X-Forwarded-For', '172.20.0.1, 172.18.0.5'], xffRec), '172.20.0.1');
  // Garbage ends the walk with the last good address.
  assert.equal(realIpFromOptions('172.17.0.1', ['X-Forwarded-For', '6.6.6.6, junk, 172.18.0.5'], xffRec), '172.18.0.5');
});

test('realIpFromOptions: single-value headers such as X-Real-IP or CF-Connecting-IP', () => {
  const xr = compileRealIpOptions({ from: ['10.0.0.0/8'] });
  assert.equal(realIpFromOptions('10.0.0.2', ['X-Real-IP', '2001:DB8::7'], xr), '2001:db8::7');
  assert.equal(realIpFromOptions('10.0.0.2', ['x-real-ip', ' 5.5.5.5:1234 '], xr), '5.5.5.5');
  const cf = compileRealIpOptions({ header: 'CF-Connecting-IP', from: ['10.0.0.0/8'], recursive: true });
  assert.equal(realIpFromOptions('10.0.0.2', ['Cf-Connecting-Ip', '4.4.4.4'], cf), '4.4.4.4');
});

test('property: realIpFromOptions never throws and returns a canonical IP for an IP peer', () => {
  const peer = fc.oneof(fc.ipV4(), fc.ipV6(), fc.tuple(fc.nat(15), fc.nat(255)).map(([a, b]) => `172.${16 + a}.${b}.1`));
  fc.assert(
    fc.property(peer, fc.array(fc.tuple(fc.constantFrom('X-Forwarded-For', 'x-forwarded-for', 'Host', 'X-Real-IP'), fc.string()), { maxLength: 6 }), fc.boolean(), (p, pairs, rec) => {
      const raw = pairs.flat();
      const r = realIpFromOptions(p, raw, rec ? xffRec : xffFrom);
      assert.ok(r !== undefined && normaliseIp(r) === r);
    }),
    { numRuns: 2000 },
  );
});
