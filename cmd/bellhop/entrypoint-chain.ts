// `entrypoint.middlewares` (docs/middlewares.md) as the proxy's entry chain, rebuilt on reload.
// The config was checked when it loaded, so problems here are not expected; if one appears the
// entrypoint fails closed (every request 503 MIDDLEWARE_UNAVAILABLE) rather than run without it.
import type { Logger } from 'pino';
import { compileChain, sendMiddlewareError, type MiddlewareDeps, type MiddlewareSpec } from '../../internal/middleware/index.ts';
import type { ProxyMiddleware } from '../../internal/proxy/index.ts';
import type { ClientIpRule } from '../../pkg/realip/index.ts';

export interface EntrypointChain {
  /** Undefined when there are no entrypoint middlewares (the proxy then pays nothing). */
  readonly handle: ProxyMiddleware | undefined;
  /** Its real_ip / cloudflare_real_ip: the client rule for every route without its own (docs/client-ip.md). */
  readonly clientIpRule?: ClientIpRule | undefined;
  close(): void;
}

export function entrypointChain(specs: readonly MiddlewareSpec[], log: Logger, deps: MiddlewareDeps): EntrypointChain {
  const compiled = compileChain(specs, deps, {
    order: 'list',
    onFailure: (err, middleware) => log.error({ err, middleware }, 'an entrypoint middleware failed: answered 500'),
  });
  if (compiled.chain !== undefined) {
    const chain = compiled.chain;
    return { handle: (req, res, facts) => chain.handle(req, res, facts), clientIpRule: chain.clientIpRule, close: () => chain.close() };
  }
  if (compiled.problems.length === 0) return { handle: undefined, close: () => undefined };
  log.error({ problems: compiled.problems }, 'entrypoint.middlewares could not be built: every request answers 503 MIDDLEWARE_UNAVAILABLE');
  return {
    handle: (_req, res) => {
      sendMiddlewareError(res, 'MIDDLEWARE_UNAVAILABLE');
      return 'answered';
    },
    close: () => undefined,
  };
}
