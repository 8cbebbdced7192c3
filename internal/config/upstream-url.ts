// Static-route upstream URLs. The proxy builds upstream requests from an origin only (docs/proxy.md),
// so anything beyond scheme, host and port would be silently ignored there: reject it here.

/**
 * Returns the canonical origin `scheme://host:port` (port always written), or a reason string.
 * `h2c://` (HTTP/2 with prior knowledge, GoDoxy's scheme name; docs/proxy.md) stays `h2c://`:
 * the route reader turns it into an http:// member with `h2c` set.
 */
export function parseUpstreamUrl(text: string): string | { readonly error: string } {
  let u: URL;
  const h2c = /^h2c:\/\//i.test(text);
  try {
    // WHATWG URL gives a non-special scheme no default port and odd host rules: read it as http
    u = new URL(h2c ? `http${text.slice(3)}` : text);
  } catch {
    return { error: `${JSON.stringify(text)} is not a URL; write e.g. "http://127.0.0.1:8080"` };
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return { error: `${JSON.stringify(text)}: scheme must be http, https or h2c, not ${JSON.stringify(u.protocol.replace(/:$/, ''))}` };
  if (u.hostname === '') return { error: `${JSON.stringify(text)} has no host` };
  if (u.username !== '' || u.password !== '') return { error: `${JSON.stringify(text)}: credentials in the URL are not supported` };
  if (u.pathname !== '/' && u.pathname !== '') return { error: `${JSON.stringify(text)}: a path (${JSON.stringify(u.pathname)}) is not supported; give only scheme, host and port` };
  if (u.search !== '' || text.includes('?')) return { error: `${JSON.stringify(text)}: a query string is not supported` };
  if (u.hash !== '' || text.includes('#')) return { error: `${JSON.stringify(text)}: a fragment is not supported` };
  const port = u.port === '' ? (u.protocol === 'https:' ? '443' : '80') : u.port;
  return `${h2c ? 'h2c:' : u.protocol}//${u.hostname}:${port}`;
}
