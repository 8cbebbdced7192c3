// `host:port`, `:port` and `[v6]:port` listen addresses, checked before anything tries to bind.
import { isIP } from 'node:net';

/** A parsed listen address. `host` undefined means every interface (`:80`). */
export interface ListenAddress {
  readonly host: string | undefined;
  readonly port: number;
}

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** Returns the parsed address, or a reason string explaining what is wrong. */
export function parseListenAddress(text: string): ListenAddress | string {
  const colon = text.lastIndexOf(':');
  if (colon < 0) {
    return /^\d+$/.test(text)
      ? `listen address ${JSON.stringify(text)} has no colon; did you mean ":${text}"?`
      : `listen address ${JSON.stringify(text)} must be "host:port" or ":port"`;
  }
  let host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  if (!/^\d{1,5}$/.test(portText)) return `listen address ${JSON.stringify(text)}: port ${JSON.stringify(portText)} is not a number from 1 to 65535`;
  const port = Number(portText);
  if (port < 1 || port > 65535) return `listen address ${JSON.stringify(text)}: port ${String(port)} is outside 1-65535`;
  if (host === '') return { host: undefined, port };
  if (host.startsWith('[') && host.endsWith(']')) {
    host = host.slice(1, -1);
    if (isIP(host) !== 6) return `listen address ${JSON.stringify(text)}: ${JSON.stringify(host)} is not an IPv6 address`;
    return { host, port };
  }
  if (host.includes(':')) return `listen address ${JSON.stringify(text)}: write IPv6 hosts in brackets, e.g. "[::1]:${portText}"`;
  if (isIP(host) === 4 || HOSTNAME.test(host)) return { host, port };
  return `listen address ${JSON.stringify(text)}: ${JSON.stringify(host)} is not a host name or IP address`;
}
