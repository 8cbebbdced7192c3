// redirect_http: a plain-HTTP request gets 308 to the same URL on https (308 keeps the method
// and body, unlike 301/302). Over HTTPS (or a trusted proxy that said https) it does nothing.
import type { MiddlewareFactory } from './middleware.ts';

export const redirectHttp: MiddlewareFactory = {
  name: 'redirect_http',
  options: [],
  restrictsAccess: false,
  create() {
    return {
      name: 'redirect_http',
      handle(_req, res, facts) {
        if (facts.secure) return 'continue';
        const location = `https://${facts.host}${facts.path}`;
        res.writeHead(308, ['location', location, 'content-length', '0', 'cache-control', 'no-store']);
        res.end();
        return 'answered';
      },
    };
  },
};
