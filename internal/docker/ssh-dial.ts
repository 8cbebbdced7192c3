// ssh:// Docker hosts, done the way the docker CLI does them: one SSH connection per API
// connection, running `docker system dial-stdio` on the host and speaking HTTP over its stdio.
//
// docker-modem has this built in (protocol 'ssh'), but it accepts any host key (ssh2 verifies
// nothing without a hostVerifier: a MITM on the Docker API is root on the host), only knows the
// agent, and calls back twice (then throws on an undefined stream) when the exec is refused.
// So dockerode gets a plain http client with this Agent, and every failure is a DockerError
// with a code the watcher logs like any other connection failure.
import { readFileSync } from 'node:fs';
import { Agent, type ClientRequestArgs } from 'node:http';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
// ssh2 comes with dockerode (docker-modem depends on it); as CommonJS it has no named `utils` export.
import ssh2 from 'ssh2';
import type { ClientChannel, ConnectConfig } from 'ssh2';
import { DockerError, toDockerError } from './docker-error.ts';
import { checkHostKey, hostKeyAlgorithms, keyBlobType, keyFingerprint, knownHostsName, knownKeyTypes } from './ssh-known-hosts.ts';

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

const { Client, utils: sshUtils } = ssh2;
const IDENTITY_FILES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];
const DIAL_COMMAND = 'docker system dial-stdio';
const EXEC_TIMEOUT_MS = 20_000;

interface Identity {
  transport: SshTransport;
  agent: string | undefined;
  privateKey: Buffer | undefined;
}

/**
 * Resolves the identity and known_hosts path for an ssh:// host, like the docker CLI's ssh:
 * the agent when SSH_AUTH_SOCK is set, else the first of ~/.ssh/id_ed25519, id_ecdsa, id_rsa.
 * Reads the key once, here. Never throws: a missing or passphrase-protected key is reported
 * by every connection attempt, so Bellhop still starts and keeps retrying (SPEC 1).
 */
function resolveIdentity(host: string, port: number, username: string, env: NodeJS.ProcessEnv): Identity {
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
    const parsed = sshUtils.parseKey(key);
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

function target(t: SshTransport): string {
  return `ssh://${t.username}@${t.host}:${String(t.port)}`;
}

function keyscanHint(t: SshTransport): string {
  return `ssh-keyscan ${t.port === 22 ? '' : `-p ${String(t.port)} `}${t.host} >> ${t.knownHostsFile}`;
}

// ssh2's Channel.destroy() takes no error and only closes the channel, so node:http would
// report a bare "socket hang up": hand it our error first (node:http listens while in use).
function abortChannel(ch: ClientChannel, err: DockerError): void {
  if (ch.listenerCount('error') > 0) ch.emit('error', err);
  ch.destroy();
}

/** An http.Agent whose connections are `docker system dial-stdio` over SSH. */
export class SshDialAgent extends Agent {
  readonly transport: SshTransport;
  private readonly agentSocket: string | undefined;
  private readonly privateKey: Buffer | undefined;

  constructor(host: string, port: number, username: string, env: NodeJS.ProcessEnv) {
    super({ keepAlive: false });
    const id = resolveIdentity(host, port, username, env);
    this.transport = id.transport;
    this.agentSocket = id.agent;
    this.privateKey = id.privateKey;
  }

  override createConnection(_options: ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): undefined {
    // Always asynchronous: node:http waits for the callback when nothing is returned.
    const done = callback ?? (() => undefined);
    this.dial((err, channel) => {
      if (err) done(err, undefined as unknown as Duplex);
      else done(null, channel as Duplex);
    });
    return undefined;
  }

  private dial(cb: (err: DockerError | null, channel?: ClientChannel) => void): void {
    const t = this.transport;
    if (t.identityProblem !== undefined) {
      const problem = t.identityProblem;
      process.nextTick(() => cb(new DockerError('DOCKER_SSH_AUTH', `Docker ${target(t)}: ${problem}`, { op: 'connect' })));
      return;
    }
    let knownHosts = '';
    let knownHostsError: string | undefined;
    try {
      knownHosts = readFileSync(t.knownHostsFile, 'utf8');
    } catch (err) {
      knownHostsError = (err as NodeJS.ErrnoException).code === 'ENOENT' ? `${t.knownHostsFile} does not exist` : `cannot read ${t.knownHostsFile}: ${(err as Error).message}`;
    }
    const conn = new Client();
    let settled = false;
    let rejected: DockerError | undefined;
    let channel: ClientChannel | undefined;
    let channelClosed = false;
    const fail = (err: DockerError): void => {
      if (settled) {
        // After the handoff, a dead connection ends the HTTP exchange (e.g. the events stream).
        if (channel && !channelClosed) abortChannel(channel, err);
        return;
      }
      settled = true;
      conn.end();
      cb(err);
    };
    const verify = (key: Buffer): boolean => {
      const verdict = checkHostKey(knownHosts, t.host, t.port, key);
      if (verdict.kind === 'match') return true;
      const name = knownHostsName(t.host, t.port);
      const type = keyBlobType(key);
      const fp = keyFingerprint(key);
      const fix = `if the host really has this key, remove the old line (ssh-keygen -R '${name}' -f ${t.knownHostsFile}) and add it again: ${keyscanHint(t)}`;
      const why =
        verdict.kind === 'mismatch' ? `host key for ${name} does NOT match ${t.knownHostsFile} (server sent ${type} ${fp}); someone may be intercepting the connection. Refusing to connect; ${fix}`
        : verdict.kind === 'revoked' ? `host key ${type} ${fp} of ${name} is marked @revoked in ${t.knownHostsFile}. Refusing to connect`
        : `host ${name} is not a known host (${knownHostsError ?? (verdict.knownTypes.length > 0 ? `${t.knownHostsFile} lists only ${verdict.knownTypes.join(', ')} keys for it` : `not in ${t.knownHostsFile}`)}; server sent ${type} ${fp}). Refusing to connect; check the fingerprint on the host (ssh-keygen -lf /etc/ssh/ssh_host_${type.replace(/^ssh-|-sha2-nistp\d+$/g, '')}_key.pub), then add it: ${keyscanHint(t)}`;
      rejected = new DockerError('DOCKER_SSH_HOST_KEY', `Docker ${target(t)}: ${why}`, { op: 'connect' });
      return false;
    };
    conn.on('error', (err: Error & { level?: string }) => {
      if (rejected) return fail(rejected);
      if (err.level === 'client-authentication') {
        const who = t.identity === 'agent' ? 'the keys in the SSH agent (SSH_AUTH_SOCK)' : `the key ${t.identity ?? ''}`;
        return fail(new DockerError('DOCKER_SSH_AUTH', `Docker ${target(t)}: the server refused ${who} for user ${t.username}; add its public key to ~${t.username}/.ssh/authorized_keys on the host`, { op: 'connect', cause: err }));
      }
      if (err.level === 'client-timeout') {
        return fail(new DockerError('DOCKER_TIMEOUT', `Docker ${target(t)}: SSH handshake timed out (${err.message})`, { op: 'connect', cause: err }));
      }
      const derr = toDockerError(err, 'connect');
      fail(derr.code === 'DOCKER_BAD_RESPONSE' ? new DockerError('DOCKER_UNREACHABLE', `Docker ${target(t)}: Docker is unreachable over SSH (${err.message})`, { op: 'connect', cause: err }) : derr);
    });
    conn.on('close', () => fail(new DockerError('DOCKER_UNREACHABLE', `Docker ${target(t)}: Docker is unreachable (SSH connection closed)`, { op: 'connect' })));
    conn.on('ready', () => {
      // A host whose sshd never answers the exec request would hold this connection forever.
      const execTimer = setTimeout(() => fail(new DockerError('DOCKER_TIMEOUT', `Docker ${target(t)}: the host did not start "${DIAL_COMMAND}" within ${String(EXEC_TIMEOUT_MS / 1000)} s`, { op: 'connect' })), EXEC_TIMEOUT_MS);
      execTimer.unref();
      conn.exec(DIAL_COMMAND, (err, ch) => {
        clearTimeout(execTimer);
        if (settled) {
          ch?.destroy(); // too late: the attempt already failed
          return;
        }
        if (err) return fail(new DockerError('DOCKER_UNREACHABLE', `Docker ${target(t)}: the host refused to run "${DIAL_COMMAND}" (${err.message})`, { op: 'connect', cause: err }));
        channel = ch;
        settled = true;
        let sawData = false;
        let stderr = '';
        ch.on('data', () => {
          sawData = true;
        });
        ch.stderr.on('data', (chunk: Buffer) => {
          if (stderr.length < 2000) stderr += chunk.toString('utf8');
        });
        ch.on('exit', (code: number | null) => {
          // dial-stdio that dies before saying anything: no docker CLI on the host, or no access
          // to its socket. Say that instead of node:http's "socket hang up".
          if (sawData || code === 0) return;
          const detail = stderr.trim().split('\n').slice(-3).join(' ') || `exit code ${String(code)}`;
          const code2 = /permission denied/i.test(detail) ? 'DOCKER_PERMISSION' : 'DOCKER_UNREACHABLE';
          abortChannel(ch, new DockerError(code2, `Docker ${target(t)}: "${DIAL_COMMAND}" failed on the host: ${detail}`, { op: 'connect' }));
        });
        ch.on('close', () => {
          channelClosed = true;
          conn.end();
        });
        // One connection per channel, so once node:http is done with it (end() after a response,
        // destroy() on abort) the connection goes too. Waiting for the host's CHANNEL_CLOSE
        // instead would keep a connection and a remote session open for as long as the host
        // takes to finish (or forever, when its sshd is stuck).
        ch.on('finish', () => conn.end());
        const destroyChannel = ch.destroy.bind(ch);
        ch.destroy = () => {
          destroyChannel();
          conn.end();
          return ch;
        };
        cb(null, ch);
      });
    });
    const config: ConnectConfig = {
      host: t.host,
      port: t.port,
      username: t.username,
      readyTimeout: 20_000,
      // A silently dead host never ends the events stream; SSH keepalives notice within ~45 s.
      keepaliveInterval: 15_000,
      keepaliveCountMax: 3,
      hostVerifier: verify,
      algorithms: { serverHostKey: hostKeyAlgorithms(knownKeyTypes(knownHosts, t.host, t.port)) as NonNullable<NonNullable<ConnectConfig['algorithms']>['serverHostKey']> },
    };
    if (this.agentSocket !== undefined) config.agent = this.agentSocket;
    if (this.privateKey !== undefined) config.privateKey = this.privateKey;
    try {
      conn.connect(config);
    } catch (err) {
      fail(new DockerError('DOCKER_UNREACHABLE', `Docker ${target(t)}: cannot start the SSH connection (${(err as Error).message})`, { op: 'connect', cause: err }));
    }
  }
}
