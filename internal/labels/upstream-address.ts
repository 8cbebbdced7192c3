// Port, scheme and upstream address of a member (docs/labels.md port defaults, docs/discovery.md addresses). Pure:
// everything comes from the container record that internal/docker resolved.

import { LabelErrorCode as C } from './label-error-codes.ts';
import { suggestion } from './did-you-mean.ts';
import type { LabelledContainer, SelfNetworks } from './labelled-container.ts';

export type AddressResult = { ok: true; value: string } | { ok: false; code: string; message: string };

const PREFERRED_PORTS = [80, 8080, 3000, 8000, 443, 8443];

/** Container ports the container offers: exposed plus published, ascending, unique. */
export function offeredPorts(rec: LabelledContainer): number[] {
  const set = new Set<number>(rec.exposedPorts);
  for (const k of Object.keys(rec.publishedPorts)) {
    const n = Number(k);
    if (Number.isInteger(n) && n > 0) set.add(n);
  }
  return [...set].sort((a, b) => a - b);
}

/**
 * The container port to proxy to. A label port is used as given, except that a port that is
 * not a container port but is a *published* host port maps back to its container port (GoDoxy
 * users write `proxy.app.port: 8081` for `8081:80`). Without a label: the only offered port,
 * else the first of 80, 8080, 3000, 8000, 443, 8443 offered, else the lowest; none → undefined.
 */
export function selectPort(rec: LabelledContainer, labelPort: number | undefined): number | undefined {
  const offered = offeredPorts(rec);
  if (labelPort !== undefined) {
    if (offered.includes(labelPort)) return labelPort;
    for (const [containerPort, hostPort] of Object.entries(rec.publishedPorts)) {
      if (hostPort === labelPort) return Number(containerPort);
    }
    return labelPort;
  }
  if (offered.length === 1) return offered[0];
  return PREFERRED_PORTS.find((p) => offered.includes(p)) ?? offered[0];
}

/** `https` for 443 and ports ending in 443 (8443, 10443), else `http`. */
export function defaultScheme(port: number): 'http' | 'https' {
  return port % 1000 === 443 ? 'https' : 'http';
}

function bracket(ip: string): string {
  return ip.includes(':') && !ip.startsWith('[') ? `[${ip}]` : ip;
}

export interface AddressInput {
  /** http/https, or tcp/udp for a stream member. */
  scheme: 'http' | 'https' | 'tcp' | 'udp';
  port: number;
  host?: string | undefined;
  network?: string | undefined;
  self: SelfNetworks;
}

/**
 * The member URL (origin only). `''` when the container has no address yet (stopped, or no IP on
 * the chosen network): it stays a member, routed but unpicked until Docker gives it one.
 */
export function upstreamUrl(rec: LabelledContainer, a: AddressInput): AddressResult {
  const origin = (host: string, port: number): AddressResult => ({ ok: true, value: `${a.scheme}://${bracket(host)}:${String(port)}` });
  if (a.host !== undefined) return origin(a.host, a.port);
  if (rec.networkMode === 'host') return origin(rec.remoteAddress ?? '127.0.0.1', a.port);
  const nets = [...rec.networks].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  // A tcp:// host is usually remote, reached through published ports; but a socket proxy on
  // the same engine is tcp:// too. When the container shares a network with Bellhop's own
  // container (or proxy.network names one), its IP there is reachable and is the better road.
  const shared = nets.find((n) => n.ip !== '' && a.self.networks.includes(n.name));
  if (rec.remoteAddress !== undefined && a.network === undefined && shared === undefined) {
    const published = rec.publishedPorts[a.port];
    if (published === undefined) {
      // Docker reports no port mappings for a stopped container: it waits, addressless.
      if (rec.state !== 'running') return { ok: true, value: '' };
      return { ok: false, code: C.NOT_PUBLISHED, message: `container port ${String(a.port)} is not published, and a container on a remote Docker host is reached through its published ports (publish it, e.g. "ports: ['${String(a.port)}:${String(a.port)}']")` };
    }
    return origin(rec.remoteAddress, published);
  }
  let chosen: { name: string; ip: string } | undefined;
  if (a.network !== undefined) {
    const want = a.network;
    chosen = nets.find((n) => n.name === want) ?? (rec.composeProject !== undefined ? nets.find((n) => n.name === `${rec.composeProject ?? ''}_${want}`) : undefined);
    if (chosen === undefined) {
      if (rec.state !== 'running' && nets.length === 0) return { ok: true, value: '' };
      const names = nets.map((n) => n.name);
      const list = names.length > 0 ? names.join(', ') : 'none';
      return { ok: false, code: C.BAD_NETWORK, message: `network "${want}" not found on the container (its networks: ${list})${suggestion(want, names)}` };
    }
  } else {
    chosen = shared ?? nets.find((n) => a.self.networks.includes(n.name)) ?? nets[0];
  }
  if (chosen === undefined || chosen.ip === '') return { ok: true, value: '' };
  return origin(chosen.ip, a.port);
}
