// internal/middleware: GoDoxy's middlewares (docs/middlewares.md) compiled from MiddlewareSpec
// into chains the proxy runs after routing and before the gate. The contract is middleware.ts.
export type { Middleware, MiddlewareDeps, MiddlewareFactory, MiddlewareProblem, MiddlewareSpec, MiddlewareVerdict, RequestFacts } from './middleware.ts';
