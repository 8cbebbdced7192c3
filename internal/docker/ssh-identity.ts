// Who Bellhop is to an ssh:// Docker host: the identity (agent or key file) and the known_hosts
// file, resolved like the docker CLI's ssh does it.
import { homedir } from 'node:os';
import { join } from 'node:path';
// ssh2 comes with dockerode (docker-modem depends on it); as CommonJS it has no named `utils`
// export. Loaded when a key is first parsed (only for ssh:// hosts).
import { createRequire } from 'node:module';
import type ssh2 from 'ssh2';

const { readFileSync } = process.getBuiltinModule('node:fs');

/** How an ssh:// host is reached; part of DockerHostTarget for ssh:// hosts. */
export interface SshTransport {
  host: string;
  port: number;
  username: string;
  /** 'agent' (SSH_AUTH_SOCK), the private key file used, or undefined when there is none. */
  identity: string | undefined;
  /** Why there is no usable identity (every connection fails with it, code DOCKER_SSH_AUTH). */
  identityProblem: string | undefined;
  /** Read at every connection, so a key added with ssh-keyscan counts without a restart. */
  knownHostsFile: string;
}

const requireCjs = createRequire(import.meta.url);
const IDENTITY_FILES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

export interface SshIdentity {
  transport: SshTransport;
  agent: string | undefined;
  privateKey: Buffer | undefined;
}

/**
 * Resolves the identity and known_hosts path for an ssh:// host, like the docker CLI's ssh:
 * the agent when SSH_AUTH_SOCK is set, else the first of ~/.ssh/id_ed25519, id_ecdsa, id_rsa.
 * Reads the key once, here. Never throws: a missing or passphrase-protected key is reported
 * by every connection attempt, so Bellhop still starts and keeps retrying (docs/docker.md).
 */
export function resolveIdentity(host: string, port: number, username: string, env: NodeJS.ProcessEnv): SshIdentity {
  const home = env['HOME'] || homedir();
  const sshDir = join(home, '.ssh');
  const base = { host, port, username, knownHostsFile: join(sshDir, 'known_hosts') };
  const agent = env['SSH_AUTH_SOCK'];
  if (agent) return { transport: { ...base, identity: 'agent', identityProblem: undefined }, agent, privateKey: undefined };
  for (const name of IDENTITY_FILES) {
    const file = join(sshDir, name);
    let key: Buffer;
    try {
      key = readFileSync(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      const problem = `cannot read the SSH key ${file} (${(err as Error).message}); make it readable by Bellhop's user (uid ${String(process.getuid?.() ?? '?')})`;
      return { transport: { ...base, identity: file, identityProblem: problem }, agent: undefined, privateKey: undefined };
    }
    const parsed = (requireCjs('ssh2') as typeof ssh2).utils.parseKey(key);
    if (parsed instanceof Error) {
      const problem = /passphrase|encrypted/i.test(parsed.message)
        ? `the SSH key ${file} is protected by a passphrase, which Bellhop cannot type: mount a key without one (ssh-keygen -t ed25519 -N '' -f ${file}) or set SSH_AUTH_SOCK to an agent that holds it`
        : `the SSH key ${file} cannot be used: ${parsed.message}`;
      return { transport: { ...base, identity: file, identityProblem: problem }, agent: undefined, privateKey: undefined };
    }
    return { transport: { ...base, identity: file, identityProblem: undefined }, agent: undefined, privateKey: key };
  }
  const problem = `no SSH identity: mount a private key at ${join(sshDir, IDENTITY_FILES[0] ?? '')} (or ${IDENTITY_FILES.slice(1).join(', ')}), or set SSH_AUTH_SOCK to an SSH agent`;
  return { transport: { ...base, identity: undefined, identityProblem: problem }, agent: undefined, privateKey: undefined };
}

/** `ssh://user@host:port`, as error messages name the host. */
export function sshTarget(t: SshTransport): string {
  return `ssh://${t.username}@${t.host}:${String(t.port)}`;
}

/** The ssh-keyscan line that adds the host's key to known_hosts. */
export function keyscanHint(t: SshTransport): string {
  return `ssh-keyscan ${t.port === 22 ? '' : `-p ${String(t.port)} `}${t.host} >> ${t.knownHostsFile}`;
}
