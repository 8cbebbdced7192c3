// internal/middleware: GoDoxy's middlewares (docs/middlewares.md) compiled from MiddlewareSpec
// into chains the proxy runs after routing and before the gate. The contract is middleware.ts.
export type { Middleware, MiddlewareDeps, MiddlewareFactory, MiddlewareProblem, MiddlewareSpec, MiddlewareVerdict, RequestFacts } from './middleware.ts';
/** Name + options as written (labels, config) → a checked MiddlewareSpec, or problems / refused / ignored. */
export { buildMiddlewareSpec, byPriority, inRunOrder, COMMON_OPTIONS, DEFAULT_PRIORITY } from './build-spec.ts';
export type { SpecOutcome } from './build-spec.ts';
/** Specs → one runnable chain (or the problems that keep it from being built). */
export { compileChain } from './chain.ts';
export type { ChainFailure, CompiledChain, MiddlewareChain } from './chain.ts';
/** Known names: factories, GoDoxy spellings, and names not implemented yet. */
export { lookupMiddleware, knownMiddlewareNames, MIDDLEWARE_FACTORIES } from './registry.ts';
export type { MiddlewareLookup } from './registry.ts';
/** The codes of middleware answers (403, 429, 500, 503) for the one catalogue. */
export { MIDDLEWARE_ERRORS, sendMiddlewareError } from './middleware-errors.ts';
export type { MiddlewareErrorCode } from './middleware-errors.ts';
/** forward_auth's and basic_auth's codes, and oidc's, for the one catalogue. */
export { AUTH_ERRORS } from './auth-errors.ts';
export { OIDC_ERRORS } from './oidc-errors.ts';
export { TokenBuckets } from './rate-limit.ts';
/** Date.now and readFileSync; with the secret derived from the sticky key. */
export { DEFAULT_MIDDLEWARE_DEPS, middlewareDeps } from './default-deps.ts';
/** GoDoxy's route `rules` (docs/rules.md) as a checked spec for the route's chain (run first). */
export { buildRulesSpec, RULES_PRIORITY } from './rules-stage.ts';
