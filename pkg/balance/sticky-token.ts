// The sticky token: opaque, compact, HMAC-SHA256-signed, bound to one pool.
//
//   byte 0      version (1)
//   bytes 1-4   issue time, seconds since the epoch, big-endian uint32
//   bytes 5-13  member key: HMAC(secret, pool, identity), first 9 bytes
//   bytes 14-29 MAC: HMAC(secret, domain, pool, bytes 0-13), first 16 bytes (RFC 2104 §5)
//
// 30 bytes = exactly 40 base64url characters, so there are no padding bits and every change
// to a valid token changes the bytes (a non-canonical encoding cannot alias a valid one). The
// pool name is only in the MAC input, which is what rejects another pool's token. The member
// is named by a keyed hash of its stable identity: no address, port or container name, in
// clear or encoded (Traefik and GoDoxy leaked or used unkeyed hashes of backend addresses).
// HMAC stops forging and reverse-mapping, not replay: a client can keep a valid token.
import type { Hash } from 'node:crypto';
import { BalanceError } from './balance-error.ts';

const { createHash, timingSafeEqual } = process.getBuiltinModule('node:crypto');

const VERSION = 1;
const MEMBER_KEY_BYTES = 9;
const MAC_BYTES = 16;
const BODY_BYTES = 1 + 4 + MEMBER_KEY_BYTES;
const TOKEN_BYTES = BODY_BYTES + MAC_BYTES;
const TOKEN_CHARS = (TOKEN_BYTES / 3) * 4;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]+$/;
const MAX_ISSUED_AT_S = 0xffffffff;
const HMAC_BLOCK_BYTES = 64;
// Verified tokens are remembered so a returning visitor costs a map lookup, not an HMAC.
// Only tokens that passed the MAC are stored; expiry is still checked on every use.
const VERIFIED_CACHE_SIZE = 10_000;

/** Minimum length of the sticky secret, in bytes. */
export const MIN_STICKY_SECRET_BYTES = 16;

/** What a valid token says. */
export interface StickyTokenClaims {
  /** Keyed hash of the member's stable identity (hex), as from `StickyCodec.memberKey`. */
  readonly memberKey: string;
  /** Issue time in ms since the epoch (whole seconds). */
  readonly issuedAtMs: number;
}

/** Encodes and verifies sticky tokens for one pool with one secret. */
export class StickyCodec {
  // HMAC-SHA256 (RFC 2104) with the keyed inner and outer hash states computed once and copied
  // per use: createHmac re-imports the key every call and costs ~4x more per token.
  readonly #tokenInner: Hash;
  readonly #memberInner: Hash;
  readonly #outer: Hash;
  readonly #verified = new Map<string, StickyTokenClaims>();

  /** @throws BalanceError BALANCE_BAD_STICKY_SECRET when the secret is shorter than 16 bytes. */
  constructor(secret: Uint8Array, poolName: string) {
    if (!(secret instanceof Uint8Array) || secret.byteLength < MIN_STICKY_SECRET_BYTES) {
      throw new BalanceError('BALANCE_BAD_STICKY_SECRET', `sticky secret must be at least ${MIN_STICKY_SECRET_BYTES} bytes`);
    }
    const key = secret.byteLength > HMAC_BLOCK_BYTES ? createHash('sha256').update(secret).digest() : Buffer.from(secret);
    const ipad = Buffer.alloc(HMAC_BLOCK_BYTES, 0x36);
    const opad = Buffer.alloc(HMAC_BLOCK_BYTES, 0x5c);
    for (let i = 0; i < key.length; i++) {
      ipad[i]! ^= key[i]!;
      opad[i]! ^= key[i]!;
    }
    const inner = createHash('sha256').update(ipad);
    this.#outer = createHash('sha256').update(opad);
    const pool = Buffer.from(poolName, 'utf8');
    const poolLength = Buffer.alloc(4);
    poolLength.writeUInt32BE(pool.length);
    // Length-prefixed pool name: no two (pool, rest) pairs share an HMAC input.
    this.#tokenInner = inner.copy().update(Buffer.concat([Buffer.from('bellhop-sticky-token-v1\0'), poolLength, pool]));
    this.#memberInner = inner.copy().update(Buffer.concat([Buffer.from('bellhop-sticky-member-v1\0'), poolLength, pool]));
  }

  /** The key a token uses to name the member with this stable identity (hex). */
  memberKey(identity: string): string {
    return this.#hmac(this.#memberInner, Buffer.from(identity, 'utf8')).subarray(0, MEMBER_KEY_BYTES).toString('hex');
  }

  /** A token naming `memberKey`, issued at `issuedAtMs` (clamped to the uint32-seconds range). */
  encode(memberKey: string, issuedAtMs: number): string {
    const bytes = Buffer.alloc(TOKEN_BYTES);
    bytes[0] = VERSION;
    const seconds = Math.floor(issuedAtMs / 1000);
    bytes.writeUInt32BE(Number.isFinite(seconds) ? Math.min(Math.max(seconds, 0), MAX_ISSUED_AT_S) : 0, 1);
    const key = Buffer.from(memberKey, 'hex');
    key.copy(bytes, 5, 0, Math.min(key.length, MEMBER_KEY_BYTES));
    this.#hmac(this.#tokenInner, bytes.subarray(0, BODY_BYTES)).copy(bytes, BODY_BYTES, 0, MAC_BYTES);
    return bytes.toString('base64url');
  }

  /** The claims of a valid token, or undefined for anything else. Never throws. */
  decode(token: unknown): StickyTokenClaims | undefined {
    if (typeof token !== 'string' || token.length !== TOKEN_CHARS) return undefined;
    const cached = this.#verified.get(token);
    if (cached !== undefined) return cached;
    // Buffer.from silently skips characters outside the alphabet, so check them first.
    if (!TOKEN_PATTERN.test(token)) return undefined;
    const bytes = Buffer.from(token, 'base64url');
    if (bytes.length !== TOKEN_BYTES || bytes[0] !== VERSION) return undefined;
    const expected = this.#hmac(this.#tokenInner, bytes.subarray(0, BODY_BYTES)).subarray(0, MAC_BYTES);
    if (!timingSafeEqual(expected, bytes.subarray(BODY_BYTES))) return undefined;
    const claims: StickyTokenClaims = Object.freeze({
      memberKey: bytes.subarray(5, BODY_BYTES).toString('hex'),
      issuedAtMs: bytes.readUInt32BE(1) * 1000,
    });
    if (this.#verified.size >= VERIFIED_CACHE_SIZE) {
      const oldest = this.#verified.keys().next();
      if (oldest.done !== true) this.#verified.delete(oldest.value);
    }
    this.#verified.set(token, claims);
    return claims;
  }

  // `inner` already holds the key pad and the domain/pool prefix.
  #hmac(inner: Hash, data: Buffer): Buffer {
    const innerDigest = inner.copy().update(data).digest();
    return this.#outer.copy().update(innerDigest).digest();
  }
}
