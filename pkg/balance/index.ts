// pkg/balance: pools, weight normalisation, smooth weighted round robin, least connections,
// weighted rendezvous hashing and the sticky cookie. No I/O; never imports internal/.

export { BalanceError } from './balance-error.ts';
export type { BalanceErrorCode } from './balance-error.ts';
export { isConfiguredWeight, normaliseWeights } from './normalise-weights.ts';
export type { WeightedMember } from './normalise-weights.ts';
export { ALL_USABLE, BALANCE_MODES, Pool, SESSION_TOKEN_LIFETIME_MS } from './pool.ts';
export type {
  BalanceMember,
  BalanceMode,
  PickContext,
  PoolMemberStatus,
  PoolOptions,
  PoolSettings,
  Release,
  StickyPick,
  StickyPickContext,
  StickySettings,
} from './pool.ts';
export type { MemberUsability } from './selection-state.ts';
export { STICKY_COOKIE_NAME, readStickyCookie, stickySetCookie, stripStickyCookie } from './sticky-cookie.ts';
export type { StickyCookieOptions } from './sticky-cookie.ts';
export { MIN_STICKY_SECRET_BYTES, StickyCodec } from './sticky-token.ts';
export type { StickyTokenClaims } from './sticky-token.ts';
