// Turns a `docker.hosts` entry (or DOCKER_HOST) into a dockerode client. The client gets no
// global timeout: modem's `timeout` would also cut the long-lived /events stream, so every call
// carries its own deadline instead (call-timeout.ts).
import { join } from 'node:path';
import type Docker from 'dockerode';
import { dockerode } from './load-dockerode.ts';
import { SshDialAgent } from './ssh-dial.ts';
import type { SshTransport } from './ssh-identity.ts';

const { readFileSync } = process.getBuiltinModule('node:fs');

export interface DockerHostTarget {
  /** The host string as configured, normalised ('unix:///var/run/docker.sock', 'tcp://10.0.0.5:2375'). */
  host: string;
  /** For tcp:// and ssh://: the address containers' published ports are reached at. */
  remoteAddress: string | undefined;
  /** Options for `new Docker(...)`. */
  options: Docker.DockerOptions;
  /** For ssh:// only: user, identity and known_hosts file (what the error messages name). */
  ssh?: SshTransport;
}

export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

/**
 * Parses a Docker host string. Throws a plain Error with a readable message for bad input. For
 * ssh:// it reads the SSH identity from `env` (SSH_AUTH_SOCK, HOME) but never throws for a
 * missing one: connections then fail with DOCKER_SSH_AUTH, so startup still goes on.
 */
export function parseDockerHost(input: string, env: NodeJS.ProcessEnv = process.env): DockerHostTarget {
  const raw = input.trim();
  if (raw === '') return parseDockerHost(DEFAULT_DOCKER_HOST, env);
  if (raw.startsWith('unix://')) {
    const socketPath = raw.slice('unix://'.length) || '/var/run/docker.sock';
    return { host: `unix://${socketPath}`, remoteAddress: undefined, options: { socketPath } };
  }
  if (raw.startsWith('npipe://')) {
    // Windows named pipe (Docker Desktop); node:net connects to it like a unix socket.
    const socketPath = raw.slice('npipe://'.length) || '//./pipe/docker_engine';
    return { host: `npipe://${socketPath}`, remoteAddress: undefined, options: { socketPath } };
  }
  if (raw.startsWith('/')) return parseDockerHost(`unix://${raw}`, env);
  let url: URL;
  try {
    url = new URL(raw.includes('://') ? raw : `tcp://${raw}`);
  } catch (cause) {
    throw new Error(`docker host "${input}" is not a valid address (expected unix:///path, tcp://host:port or ssh://user@host)`, { cause });
  }
  if (!['tcp:', 'http:', 'https:', 'ssh:'].includes(url.protocol)) {
    throw new Error(`docker host "${input}": unsupported scheme "${url.protocol}" (use unix://, tcp://, https:// or ssh://)`);
  }
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!hostname) throw new Error(`docker host "${input}" has no host name`);
  if (url.protocol === 'ssh:') {
    // `docker system dial-stdio` over SSH, with the identity from SSH_AUTH_SOCK or ~/.ssh/id_*
    // (read now) and the host key checked against ~/.ssh/known_hosts on every connection.
    // dockerode sees a plain http client; the agent's connections are channels on one SSH
    // connection per host (ssh-dial.ts), closed by closeDockerClient.
    const port = Number(url.port || '22');
    const username = decodeURIComponent(url.username) || 'root';
    const agent = new SshDialAgent(hostname, port, username, env);
    // docker-modem hands `agent` to node:http; @types/dockerode does not list it.
    const options: Docker.DockerOptions & { agent: SshDialAgent } = { host: hostname, port, protocol: 'http', agent };
    return { host: `ssh://${url.username ? `${url.username}@` : ''}${url.hostname}:${String(port)}`, remoteAddress: hostname, options, ssh: agent.transport };
  }
  // Like the docker CLI: https://, or tcp:// with DOCKER_TLS_VERIFY=1, means TLS; client
  // certificates come from DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem) when it is set.
  const tls = url.protocol === 'https:' || env['DOCKER_TLS_VERIFY'] === '1';
  const port = url.port || (tls ? '2376' : '2375');
  const options: Docker.DockerOptions = { host: hostname, port, protocol: tls ? 'https' : 'http' };
  const certPath = env['DOCKER_CERT_PATH'];
  if (tls && certPath) {
    options.ca = readFileSync(join(certPath, 'ca.pem'));
    options.cert = readFileSync(join(certPath, 'cert.pem'));
    options.key = readFileSync(join(certPath, 'key.pem'));
  }
  return { host: `${tls ? 'https' : 'tcp'}://${url.hostname}:${port}`, remoteAddress: hostname, options };
}

/** Builds a dockerode client for a parsed host. */
export function dockerClientFor(target: DockerHostTarget): Docker {
  const Dockerode = dockerode();
  return new Dockerode(target.options);
}

/**
 * Lets go of what a client keeps open between calls: for ssh:// the SSH connection and its
 * kept-alive channels (the sessions and dial-stdio processes on the host). Other hosts keep
 * nothing open. The client still works afterwards; it connects again when used.
 */
export function closeDockerClient(docker: Docker): void {
  const agent = (docker.modem as { agent?: unknown }).agent;
  if (agent instanceof SshDialAgent) agent.destroy();
}

/** GET /_ping with an abort signal (dockerode supports it; its type definitions do not say so). */
export function pingDocker(docker: Docker, abortSignal: AbortSignal): Promise<unknown> {
  const ping = docker.ping.bind(docker) as unknown as (opts: { abortSignal: AbortSignal }) => Promise<unknown>;
  return ping({ abortSignal });
}
