// When Bellhop runs in a container it should reach members over a network it shares with them
// (docs/discovery.md). Find our own container ID from what the kernel and Docker leave behind, inspect it
// and read its networks. Outside a container, or when unsure, the answer is "no networks".
import { hostname as osHostname } from 'node:os';
import type Docker from 'dockerode';
import type { SelfInfo } from './container-record.ts';
import { withTimeout } from './call-timeout.ts';
import { toDockerError } from './docker-error.ts';
import { silentLogger, type Logger } from '../../pkg/log/index.ts';

const { readFileSync, existsSync } = process.getBuiltinModule('node:fs');

export interface SelfHints {
  hostname: string;
  /** Contents of /proc/self/mountinfo ('' when unreadable). */
  mountinfo: string;
  /** Contents of /proc/self/cgroup ('' when unreadable). */
  cgroup: string;
  /** Whether /.dockerenv exists. */
  dockerenv: boolean;
}

export interface DetectSelfOptions {
  docker: Docker;
  logger?: Logger;
  callTimeoutMs?: number;
  /** For tests; read from the running system when omitted. */
  hints?: SelfHints;
}

/**
 * Candidate IDs for our own container, best first. Pure.
 * - mountinfo: Docker bind-mounts /etc/hostname, /etc/hosts and /etc/resolv.conf from
 *   /var/lib/docker/containers/<id>/; the mount point check keeps the host's own
 *   containers/<id>/mounts/shm lines from matching when we are not in a container.
 * - cgroup (v1, or v2 with a private namespace off): /docker/<id>, docker-<id>.scope.
 * - hostname: Docker's default is the 12-character ID prefix; with /.dockerenv present any
 *   hostname may be a container name or a --hostname, so it is tried last.
 */
export function selfContainerCandidates(hints: SelfHints): string[] {
  const out: string[] = [];
  const add = (id: string | undefined): void => {
    if (id && !out.includes(id)) out.push(id);
  };
  for (const line of hints.mountinfo.split('\n')) {
    const fields = line.split(' ');
    const root = fields[3] ?? '';
    const mountPoint = fields[4] ?? '';
    if (!['/etc/hostname', '/etc/hosts', '/etc/resolv.conf'].includes(mountPoint)) continue;
    add(/\/containers\/([0-9a-f]{64})\//.exec(root)?.[1]);
  }
  for (const line of hints.cgroup.split('\n')) {
    add(/(?:\/docker\/|docker-|\/libpod-)([0-9a-f]{64})(?:\.scope)?/.exec(line)?.[1]);
  }
  const host = hints.hostname.trim();
  if (/^[0-9a-f]{12,64}$/.test(host) || (hints.dockerenv && host !== '')) add(host);
  return out;
}

function readHints(): SelfHints {
  const read = (p: string): string => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return '';
    }
  };
  return { hostname: osHostname(), mountinfo: read('/proc/self/mountinfo'), cgroup: read('/proc/self/cgroup'), dockerenv: existsSync('/.dockerenv') };
}

/** Bellhop's own container networks (sorted), or { networks: [] } outside a container. Never throws. */
export async function detectSelf(opts: DetectSelfOptions): Promise<SelfInfo> {
  const logger = opts.logger ?? silentLogger;
  const hints = opts.hints ?? readHints();
  const candidates = selfContainerCandidates(hints);
  for (const id of candidates) {
    try {
      const info = await withTimeout(opts.callTimeoutMs ?? 5_000, 'inspect', (abortSignal) => opts.docker.getContainer(id).inspect({ abortSignal }), id);
      const networks = Object.keys(info.NetworkSettings?.Networks ?? {}).sort();
      logger.info({ container: info.Name.replace(/^\//, ''), containerId: info.Id, networks }, 'running in a container; using its networks');
      return { networks };
    } catch (err) {
      const derr = toDockerError(err, 'inspect', id);
      if (derr.code !== 'DOCKER_NOT_FOUND') logger.warn({ container: id, code: derr.code, err: derr }, 'could not inspect our own container');
    }
  }
  if (candidates.length > 0) logger.info({ candidates }, 'not found as a container on this Docker host; assuming we run outside Docker');
  return { networks: [] };
}
