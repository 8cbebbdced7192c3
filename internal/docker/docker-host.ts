// Turns a `docker.hosts` entry (or DOCKER_HOST) into a dockerode client. The client gets no
// global timeout: modem's `timeout` would also cut the long-lived /events stream, so every call
// carries its own deadline instead (call-timeout.ts).
import Docker from 'dockerode';

export interface DockerHostTarget {
  /** The host string as configured, normalised ('unix:///var/run/docker.sock', 'tcp://10.0.0.5:2375'). */
  host: string;
  /** For tcp:// and ssh://: the address containers' published ports are reached at. */
  remoteAddress: string | undefined;
  /** Options for `new Docker(...)`. */
  options: Docker.DockerOptions;
}

export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

/** Parses a Docker host string. Throws a plain Error with a readable message for bad input. */
export function parseDockerHost(input: string): DockerHostTarget {
  const raw = input.trim();
  if (raw === '') return parseDockerHost(DEFAULT_DOCKER_HOST);
  if (raw.startsWith('unix://')) {
    const socketPath = raw.slice('unix://'.length) || '/var/run/docker.sock';
    return { host: `unix://${socketPath}`, remoteAddress: undefined, options: { socketPath } };
  }
  if (raw.startsWith('/')) return parseDockerHost(`unix://${raw}`);
  let url: URL;
  try {
    url = new URL(raw.includes('://') ? raw : `tcp://${raw}`);
  } catch (cause) {
    throw new Error(`docker host "${input}" is not a valid address (expected unix:///path, tcp://host:port or ssh://user@host)`, { cause });
  }
  if (url.protocol !== 'tcp:' && url.protocol !== 'http:' && url.protocol !== 'ssh:') {
    throw new Error(`docker host "${input}": unsupported scheme "${url.protocol}" (use unix://, tcp:// or ssh://)`);
  }
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!hostname) throw new Error(`docker host "${input}" has no host name`);
  if (url.protocol === 'tcp:' || url.protocol === 'http:') {
    const port = url.port || '2375';
    return { host: `tcp://${url.hostname}:${port}`, remoteAddress: hostname, options: { host: hostname, port, protocol: 'http' } };
  }
  // ssh://: dockerode runs `docker system dial-stdio` over ssh2 for each request.
  const port = url.port || '22';
  const options: Docker.DockerOptions = { host: hostname, port, protocol: 'ssh', username: decodeURIComponent(url.username) || 'root' };
  // ssh2 authenticates through the agent; without one the connection fails with a clear error.
  const agent = process.env['SSH_AUTH_SOCK'];
  if (agent) options.sshOptions = { agent };
  return { host: `ssh://${url.username ? `${url.username}@` : ''}${url.hostname}:${port}`, remoteAddress: hostname, options };
}

/** Builds a dockerode client for a parsed host. */
export function dockerClientFor(target: DockerHostTarget): Docker {
  return new Docker(target.options);
}

/** GET /_ping with an abort signal (dockerode supports it; its type definitions do not say so). */
export function pingDocker(docker: Docker, abortSignal: AbortSignal): Promise<unknown> {
  const ping = docker.ping.bind(docker) as unknown as (opts: { abortSignal: AbortSignal }) => Promise<unknown>;
  return ping({ abortSignal });
}
