// Host header → routing key: lower case, port and trailing dot removed. Invalid hosts (`/`, `@`,
// spaces, bad port) are rejected rather than guessed at. Results are cached because a proxy
// sees the same few Host values over and over.

const HOST_CHARS = /^[a-z0-9._-]*$/;
const IPV6_CHARS = /^[0-9a-f:.]+$/;
const cache = new Map<string, string | null>();
const CACHE_MAX = 512;

function compute(value: string): string | null {
  let v = value.toLowerCase();
  let name: string;
  let rest: string;
  if (v.charCodeAt(0) === 91 /* [ */) {
    const close = v.indexOf(']');
    if (close === -1) return null;
    name = v.slice(0, close + 1);
    if (!IPV6_CHARS.test(v.slice(1, close))) return null;
    rest = v.slice(close + 1);
  } else {
    const colon = v.indexOf(':');
    name = colon === -1 ? v : v.slice(0, colon);
    rest = colon === -1 ? '' : v.slice(colon);
    if (name.endsWith('.')) name = name.slice(0, -1);
    if (!HOST_CHARS.test(name)) return null;
  }
  if (rest !== '') {
    if (rest.charCodeAt(0) !== 58 /* : */) return null;
    const port = rest.slice(1);
    if (!/^[0-9]{1,5}$/.test(port) || Number(port) > 65535) return null;
  }
  v = name;
  return v;
}

/** Normalised host for routing, or undefined when the value is not a valid `uri-host[:port]`. */
export function normaliseHost(value: string): string | undefined {
  let r = cache.get(value);
  if (r === undefined) {
    r = compute(value);
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(value, r);
  }
  return r === null ? undefined : r;
}
