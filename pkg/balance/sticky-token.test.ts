import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { BalanceError } from './balance-error.ts';
import { StickyCodec } from './sticky-token.ts';

const secret = Buffer.from('0123456789abcdef0123456789abcdef');
const codec = new StickyCodec(secret, 'web');
const NOW = Date.UTC(2026, 4, 1, 12, 0, 0);

test('encode/decode round-trip: member key and whole-second issue time', () => {
  const key = codec.memberKey('shop/web/1');
  assert.match(key, /^[0-9a-f]{18}$/);
  const token = codec.encode(key, NOW + 999);
  assert.match(token, /^[A-Za-z0-9_-]{40}$/);
  assert.deepEqual(codec.decode(token), { memberKey: key, issuedAtMs: NOW });
  assert.deepEqual(codec.decode(token), { memberKey: key, issuedAtMs: NOW }, 'second decode (cached) agrees');
});

test('member keys are keyed and pool-bound; the token contains no identity', () => {
  const key = codec.memberKey('shop/web/1');
  assert.notEqual(new StickyCodec(secret, 'api').memberKey('shop/web/1'), key);
  assert.notEqual(new StickyCodec(Buffer.alloc(32, 1), 'web').memberKey('shop/web/1'), key);
  assert.notEqual(codec.memberKey('shop/web/2'), key);
  const token = codec.encode(key, NOW);
  const bytes = Buffer.from(token, 'base64url');
  for (const clear of ['shop', 'web', '172.17', ':80']) {
    assert.ok(!token.includes(clear) && !bytes.includes(clear), `token must not contain ${clear}`);
  }
});

test('the MAC is HMAC-SHA256 over the domain, length-prefixed pool and body (reference check)', () => {
  const token = codec.encode(codec.memberKey('x'), NOW);
  const bytes = Buffer.from(token, 'base64url');
  const pool = Buffer.from('web');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(pool.length);
  const expected = createHmac('sha256', secret)
    .update(Buffer.concat([Buffer.from('bellhop-sticky-token-v1\0'), len, pool, bytes.subarray(0, 14)]))
    .digest()
    .subarray(0, 16);
  assert.deepEqual(bytes.subarray(14), expected);
  // Keys longer than the SHA-256 block are hashed first, as RFC 2104 says.
  const long = Buffer.alloc(100, 5);
  const longCodec = new StickyCodec(long, 'web');
  const b2 = Buffer.from(longCodec.encode('00', NOW), 'base64url');
  const ref = createHmac('sha256', long).update(Buffer.concat([Buffer.from('bellhop-sticky-token-v1\0'), len, pool, b2.subarray(0, 14)])).digest();
  assert.deepEqual(b2.subarray(14), ref.subarray(0, 16));
});

test('a foreign pool\'s or another secret\'s token is rejected', () => {
  const token = codec.encode(codec.memberKey('shop/web/1'), NOW);
  assert.equal(new StickyCodec(secret, 'api').decode(token), undefined);
  assert.equal(new StickyCodec(Buffer.alloc(32, 3), 'web').decode(token), undefined);
});

test('a short secret is refused with a stable code', () => {
  assert.throws(() => new StickyCodec(Buffer.alloc(15), 'web'), (e: unknown) => e instanceof BalanceError && e.code === 'BALANCE_BAD_STICKY_SECRET');
});

test('issue times outside the uint32-seconds range are clamped, never throw', () => {
  const key = codec.memberKey('a');
  assert.equal(codec.decode(codec.encode(key, -5000))?.issuedAtMs, 0);
  assert.equal(codec.decode(codec.encode(key, 1e20))?.issuedAtMs, 0xffffffff * 1000);
  assert.equal(codec.decode(codec.encode(key, Number.NaN))?.issuedAtMs, 0);
});

test('property: round-trips any identity and time', () => {
  fc.assert(
    fc.property(fc.string(), fc.integer({ min: 0, max: 0xffffffff }), (identity, seconds) => {
      const key = codec.memberKey(identity);
      assert.deepEqual(codec.decode(codec.encode(key, seconds * 1000)), { memberKey: key, issuedAtMs: seconds * 1000 });
    }),
  );
});

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

test('property: any single-character change, truncation or extension of a valid token fails closed', () => {
  const fresh = new StickyCodec(secret, 'web'); // empty verified cache
  fc.assert(
    fc.property(
      fc.string(),
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.nat(39),
      fc.constantFrom(...alphabet, '=', '.', ' ', '%'),
      fc.nat(39),
      (identity, seconds, at, replacement, cut) => {
        const token = fresh.encode(fresh.memberKey(identity), seconds * 1000);
        if (token[at] !== replacement) {
          const mutated = token.slice(0, at) + replacement + token.slice(at + 1);
          assert.equal(fresh.decode(mutated), undefined, `mutated at ${at}`);
        }
        assert.equal(fresh.decode(token.slice(0, cut)), undefined, 'truncated');
        assert.equal(fresh.decode(token + 'A'), undefined, 'extended');
        assert.equal(fresh.decode(token + '='), undefined, 'padded');
      },
    ),
    { numRuns: 300 },
  );
});

test('property: bit flips in the decoded bytes fail closed', () => {
  const token = codec.encode(codec.memberKey('shop/web/1'), NOW);
  const bytes = Buffer.from(token, 'base64url');
  for (let bit = 0; bit < bytes.length * 8; bit++) {
    const copy = Buffer.from(bytes);
    copy[bit >> 3]! ^= 1 << (bit & 7);
    assert.equal(codec.decode(copy.toString('base64url')), undefined, `bit ${bit}`);
  }
});

test('property: random strings and non-strings never throw and never decode', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.string({ minLength: 40, maxLength: 40, unit: fc.constantFrom(...alphabet) })), (s) => {
      assert.equal(codec.decode(s), undefined);
    }),
  );
  for (const v of [undefined, null, 42, {}, [], Buffer.alloc(30)]) assert.equal(codec.decode(v), undefined);
});

test('the verified cache stays bounded', () => {
  const c = new StickyCodec(secret, 'bounded');
  const key = c.memberKey('a');
  const first = c.encode(key, 0);
  for (let s = 0; s < 10_050; s++) c.decode(c.encode(key, s * 1000));
  assert.deepEqual(c.decode(first), { memberKey: key, issuedAtMs: 0 }, 'evicted tokens still verify');
});
