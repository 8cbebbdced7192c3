// Static-route upstream URLs. The proxy builds upstream requests from an origin only (docs/proxy.md),
// so anything beyond scheme, host and port would be silently ignored there: reject it here.

/** Returns the canonical origin `scheme://host:port` (port always written), or a reason string. */
export function parseUpstreamUrl(text: string): string | { readonly error: string } {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return { error: `${JSON.stringify(text)} is not a URL; write e.g. "http://127.0.0.1:8080"` };
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return { error: `${JSON.stringify(text)}: scheme must be http or https, not ${JSON.stringify(u.protocol.replace(/:$/, ''))}` };
  if (u.hostname === '') return { error: `${JSON.stringify(text)} has no host` };
  if (u.username !== '' || u.password !== '') return { error: `${JSON.stringify(text)}: credentials in the URL are not supported` };
  if (u.pathname !== '/' && u.pathname !== '') return { error: `${JSON.stringify(text)}: a path (${JSON.stringify(u.pathname)}) is not supported; give only scheme, host and port` };
  if (u.search !== '' || text.includes('?')) return { error: `${JSON.stringify(text)}: a query string is not supported` };
  if (u.hash !== '' || text.includes('#')) return { error: `${JSON.stringify(text)}: a fragment is not supported` };
  const port = u.port === '' ? (u.protocol === 'https:' ? '443' : '80') : u.port;
  return `${u.protocol}//${u.hostname}:${port}`;
}
