// Host header → the form route lookup compares: lower case, no port, no trailing dot.

/** True when `host` is not already in normal form (cheap: no allocation). */
export function needsNormalising(host: string): boolean {
  const n = host.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = host.charCodeAt(i);
    // A-Z, ':', space/tab
    if ((c >= 65 && c <= 90) || c === 58 || c === 32 || c === 9) return true;
  }
  return host.charCodeAt(n - 1) === 46; // trailing '.'
}

/** `App.Example.COM.:8080` → `app.example.com`; `[::1]:80` → `[::1]`. Never throws. */
export function normaliseHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end === -1 ? h : h.slice(0, end + 1);
  }
  const colon = h.indexOf(':');
  // One colon followed by digits (or nothing) is a port; more colons is a bare IPv6 address.
  if (colon !== -1 && h.indexOf(':', colon + 1) === -1 && /^\d*$/.test(h.slice(colon + 1))) h = h.slice(0, colon);
  while (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}
