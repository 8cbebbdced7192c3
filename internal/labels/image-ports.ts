// Default ports of well-known images (docs/labels.md, "Port and address"). Many images expose
// several ports and the web UI is not the one the generic rule picks: Portainer exposes its Edge
// tunnel 8000 and plain 9000 besides the https UI 9443; Nginx Proxy Manager serves its UI on 81.
// GoDoxy keeps a table like this one (learned from reading its port selection; the entries here
// are the images' documented UI ports). A `port` (or `scheme`) label always wins.

import { imageBaseName } from './expose-policy.ts';
import type { LabelledContainer } from './labelled-container.ts';
import { offeredPorts } from './upstream-address.ts';

export interface KnownPort {
  port: number;
  scheme: 'http' | 'https';
}

/** Image repository base name (`portainer/portainer-ce:2.21` → `portainer-ce`) → web UI port. */
const BY_IMAGE: ReadonlyMap<string, KnownPort> = new Map<string, KnownPort>([
  // https by default
  ['portainer-ce', { port: 9443, scheme: 'https' }],
  ['portainer-ee', { port: 9443, scheme: 'https' }],
  ['portainer-be', { port: 9443, scheme: 'https' }],
  // http
  ['adguardhome', { port: 3000, scheme: 'http' }],
  ['bazarr', { port: 6767, scheme: 'http' }],
  ['calibre-web', { port: 8083, scheme: 'http' }],
  ['changedetection.io', { port: 3000, scheme: 'http' }],
  ['dockge', { port: 5001, scheme: 'http' }],
  ['gitea', { port: 3000, scheme: 'http' }],
  ['gogs', { port: 3000, scheme: 'http' }],
  ['grafana', { port: 3000, scheme: 'http' }],
  ['home-assistant', { port: 8123, scheme: 'http' }],
  ['homebridge', { port: 8581, scheme: 'http' }],
  ['httpd', { port: 80, scheme: 'http' }],
  ['immich-server', { port: 2283, scheme: 'http' }],
  ['jellyfin', { port: 8096, scheme: 'http' }],
  ['lidarr', { port: 8686, scheme: 'http' }],
  ['microbin', { port: 8080, scheme: 'http' }],
  ['nginx', { port: 80, scheme: 'http' }],
  ['nginx-proxy-manager', { port: 81, scheme: 'http' }],
  ['open-webui', { port: 8080, scheme: 'http' }],
  ['plex', { port: 32400, scheme: 'http' }],
  ['pms-docker', { port: 32400, scheme: 'http' }],
  ['prometheus', { port: 9090, scheme: 'http' }],
  ['prowlarr', { port: 9696, scheme: 'http' }],
  ['radarr', { port: 7878, scheme: 'http' }],
  ['rss-bridge', { port: 80, scheme: 'http' }],
  ['rsshub', { port: 1200, scheme: 'http' }],
  ['sonarr', { port: 8989, scheme: 'http' }],
  ['uptime-kuma', { port: 3001, scheme: 'http' }],
  ['whisparr', { port: 6969, scheme: 'http' }],
]);

/** Aliases that name an app whose image is often a fork or a custom build. */
const BY_ALIAS: ReadonlyMap<string, KnownPort> = new Map<string, KnownPort>([
  ['portainer', { port: 9443, scheme: 'https' }],
  ['crafty', { port: 8443, scheme: 'https' }],
]);

/**
 * The known UI port of this container's image (else of its alias), when the container offers
 * that port or offers none at all (host network, an image without EXPOSE). A container that
 * offers ports but not the known one runs a changed setup: the generic rule decides.
 */
export function knownPort(rec: LabelledContainer, alias: string): KnownPort | undefined {
  const hit = BY_IMAGE.get(imageBaseName(rec.image)) ?? BY_ALIAS.get(alias);
  if (hit === undefined) return undefined;
  const offered = offeredPorts(rec);
  return offered.length === 0 || offered.includes(hit.port) ? hit : undefined;
}

/** For docs and tests: every image base name in the table with its port and scheme. */
export const KNOWN_IMAGE_PORTS: ReadonlyMap<string, KnownPort> = BY_IMAGE;
