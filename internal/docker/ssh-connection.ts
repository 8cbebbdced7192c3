// One SSH connection per ssh:// Docker host, kept open and shared by every API connection to
// it: each HTTP connection is one `docker system dial-stdio` exec channel on it.
//
// The docker CLI opens one SSH connection per API connection. For Bellhop that was a key
// exchange and a login on the host for every call (~300 ms each here): a sync of 80 containers
// took 7-9 s and 82 logins, and each of them could fail on its own (issue 11). Here a sync
// costs one handshake, and a lost connection is made again: at once the first time, then with
// backoff. The host key is checked against known_hosts on every connection, as before.
// ssh2 comes with dockerode (docker-modem depends on it). Loaded on the first ssh:// connection:
// a Bellhop without an ssh:// host never pays for it (~8 MiB resident).
import { createRequire } from 'node:module';
import type ssh2 from 'ssh2';
import type { ClientChannel, ConnectConfig } from 'ssh2';
import { DockerError, toDockerError } from './docker-error.ts';
import { keyscanHint, sshTarget, type SshIdentity, type SshTransport } from './ssh-identity.ts';
import { checkHostKey, hostKeyAlgorithms, keyBlobType, keyFingerprint, knownHostsName, knownKeyTypes } from './ssh-known-hosts.ts';

const { readFileSync } = process.getBuiltinModule('node:fs');

const requireCjs = createRequire(import.meta.url);
type SshClient = InstanceType<typeof ssh2.Client>;

export const DIAL_COMMAND = 'docker system dial-stdio';
const EXEC_TIMEOUT_MS = 20_000;
/** A connection that lasted this long was good: its loss reconnects at once again. */
const STABLE_MS = 5_000;

export interface SshConnectionOptions {
  /**
   * Channels open at once. sshd allows 10 sessions per connection by default (MaxSessions);
   * a host that allows fewer refuses a channel, and the limit comes down to what it took.
   */
  maxChannels: number;
  /** First wait before connecting again after a failed or short-lived connection. Default 250 ms. */
  backoffInitialMs?: number;
  /** Backoff cap. Default 5 s. */
  backoffMaxMs?: number;
  /** The connection is ended after this long with no channel open. Default 10 s. */
  idleMs?: number;
  random?: () => number;
}

export type ChannelCallback = (err: DockerError | null, channel?: ClientChannel) => void;

// ssh2's Channel.destroy() takes no error and only closes the channel, so node:http would
// report a bare "socket hang up": hand it our error first (node:http listens while in use).
function abortChannel(ch: ClientChannel, err: DockerError): void {
  if (ch.listenerCount('error') > 0) ch.emit('error', err);
  ch.destroy();
}

/** The shared SSH connection to one host, and the dial-stdio channels on it. */
export class SshConnection {
  readonly transport: SshTransport;
  private readonly identity: SshIdentity;
  private capacity: number;
  private readonly backoffInitialMs: number;
  private readonly backoffMaxMs: number;
  private readonly idleMs: number;
  private readonly random: () => number;

  private conn: SshClient | undefined;
  private ready = false;
  private readyAt = 0;
  /** Ended on purpose (idle, close()): its close is no failure. */
  private readonly leaving = new WeakSet<SshClient>();
  private readonly waiters: ChannelCallback[] = [];
  private readonly channels = new Set<ClientChannel>();
  private opening = 0;
  private failures = 0;
  private retryAt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  /** SSH connections started so far (for tests). */
  connects = 0;

  constructor(identity: SshIdentity, opts: SshConnectionOptions) {
    this.identity = identity;
    this.transport = identity.transport;
    this.capacity = Math.max(1, opts.maxChannels);
    this.backoffInitialMs = opts.backoffInitialMs ?? 250;
    this.backoffMaxMs = opts.backoffMaxMs ?? 5_000;
    this.idleMs = opts.idleMs ?? 10_000;
    this.random = opts.random ?? Math.random;
  }

  /** Channels open or being opened. */
  get inUse(): number {
    return this.channels.size + this.opening;
  }

  /** Calls waiting for a channel (all allowed channels are open). */
  get waiting(): number {
    return this.waiters.length;
  }

  /** No channel can be opened now without waiting for one to close. */
  get atCapacity(): boolean {
    return this.inUse >= this.capacity;
  }

  /**
   * Opens a dial-stdio channel, connecting first if needed. Waits while `maxChannels` are open.
   * A failed connection fails every waiting call with its coded error (callers log and retry).
   */
  openChannel(cb: ChannelCallback): void {
    const problem = this.transport.identityProblem;
    if (problem !== undefined) {
      process.nextTick(() => cb(new DockerError('DOCKER_SSH_AUTH', `Docker ${sshTarget(this.transport)}: ${problem}`, { op: 'connect' })));
      return;
    }
    this.waiters.push(cb);
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.pump();
  }

  /** Ends the connection and every channel; a later openChannel connects again at once. */
  close(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const err = new DockerError('DOCKER_ABORTED', `Docker ${sshTarget(this.transport)}: SSH connection closed`, { op: 'connect' });
    for (const w of this.waiters.splice(0)) w(err);
    this.end();
    this.abortChannels(err);
    this.failures = 0;
    this.retryAt = 0;
  }

  private end(): void {
    const conn = this.conn;
    if (!conn) return;
    this.leaving.add(conn);
    this.conn = undefined;
    this.ready = false;
    conn.end();
  }

  private pump(): void {
    if (this.waiters.length === 0) return;
    if (!this.conn) {
      this.connect();
      return;
    }
    if (!this.ready) return;
    while (this.waiters.length > 0 && !this.atCapacity) this.exec(this.conn, this.waiters.shift()!);
  }

  private armIdle(): void {
    if (this.idleTimer || !this.conn || this.inUse > 0 || this.waiters.length > 0) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.inUse === 0 && this.waiters.length === 0) this.end();
    }, this.idleMs);
    this.idleTimer.unref();
  }

  private backoffDelay(failures: number): number {
    if (failures <= 1) return 0;
    const step = Math.min(this.backoffMaxMs, this.backoffInitialMs * 2 ** (failures - 2));
    return step / 2 + (step / 2) * this.random();
  }

  private connect(): void {
    const wait = this.retryAt - Date.now();
    if (wait > 0) {
      this.retryTimer ??= setTimeout(() => {
        this.retryTimer = undefined;
        this.pump();
      }, wait);
      return;
    }
    const t = this.transport;
    let knownHosts = '';
    let knownHostsError: string | undefined;
    try {
      knownHosts = readFileSync(t.knownHostsFile, 'utf8');
    } catch (err) {
      knownHostsError = (err as NodeJS.ErrnoException).code === 'ENOENT' ? `${t.knownHostsFile} does not exist` : `cannot read ${t.knownHostsFile}: ${(err as Error).message}`;
    }
    const { Client } = requireCjs('ssh2') as typeof ssh2;
    const conn = new Client();
    this.conn = conn;
    this.ready = false;
    this.connects++;
    let rejected: DockerError | undefined;
    let failure: DockerError | undefined;
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
      rejected = new DockerError('DOCKER_SSH_HOST_KEY', `Docker ${sshTarget(t)}: ${why}`, { op: 'connect' });
      return false;
    };
    conn.on('error', (err: Error & { level?: string }) => {
      failure = rejected ?? this.describe(err, this.conn === conn && this.ready);
      // Channels in use learn why at once (e.g. the events stream), before ssh2 closes them.
      if (this.conn === conn) this.abortChannels(failure);
    });
    conn.on('ready', () => {
      if (this.conn !== conn) return;
      // Many small request/response exchanges on one connection: Nagle's algorithm would hold
      // each request back until the previous packet is acknowledged (~40 ms per call here).
      conn.setNoDelay(true);
      this.ready = true;
      this.readyAt = Date.now();
      this.pump();
      this.armIdle();
    });
    conn.on('close', () => {
      if (this.leaving.has(conn) || this.conn !== conn) return;
      const wasReady = this.ready;
      this.conn = undefined;
      this.ready = false;
      const err = failure ?? new DockerError('DOCKER_UNREACHABLE', `Docker ${sshTarget(t)}: Docker is unreachable (SSH connection closed)`, { op: 'connect' });
      this.abortChannels(err);
      if (wasReady && Date.now() - this.readyAt >= STABLE_MS) this.failures = 0;
      this.failures++;
      this.retryAt = Date.now() + this.backoffDelay(this.failures);
      if (wasReady) {
        this.pump(); // calls waiting for a free channel: connect again for them
      } else {
        for (const w of this.waiters.splice(0)) w(err);
      }
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
    if (this.identity.agent !== undefined) config.agent = this.identity.agent;
    if (this.identity.privateKey !== undefined) config.privateKey = this.identity.privateKey;
    try {
      conn.connect(config);
    } catch (err) {
      this.conn = undefined;
      this.failures++;
      this.retryAt = Date.now() + this.backoffDelay(this.failures);
      const derr = new DockerError('DOCKER_UNREACHABLE', `Docker ${sshTarget(t)}: cannot start the SSH connection (${(err as Error).message})`, { op: 'connect', cause: err });
      for (const w of this.waiters.splice(0)) w(derr);
    }
  }

  private describe(err: Error & { level?: string }, wasReady: boolean): DockerError {
    const t = this.transport;
    if (err.level === 'client-authentication') {
      const who = t.identity === 'agent' ? 'the keys in the SSH agent (SSH_AUTH_SOCK)' : `the key ${t.identity ?? ''}`;
      return new DockerError('DOCKER_SSH_AUTH', `Docker ${sshTarget(t)}: the server refused ${who} for user ${t.username}; add its public key to ~${t.username}/.ssh/authorized_keys on the host`, { op: 'connect', cause: err });
    }
    if (err.level === 'client-timeout') {
      const what = wasReady ? 'SSH connection timed out (no answer to keepalives)' : 'SSH handshake timed out';
      return new DockerError('DOCKER_TIMEOUT', `Docker ${sshTarget(t)}: ${what} (${err.message})`, { op: 'connect', cause: err });
    }
    const derr = toDockerError(err, 'connect');
    return derr.code === 'DOCKER_BAD_RESPONSE' ? new DockerError('DOCKER_UNREACHABLE', `Docker ${sshTarget(t)}: Docker is unreachable over SSH (${err.message})`, { op: 'connect', cause: err }) : derr;
  }

  private abortChannels(err: DockerError): void {
    for (const ch of [...this.channels]) abortChannel(ch, err);
  }

  private exec(conn: SshClient, cb: ChannelCallback): void {
    const t = this.transport;
    this.opening++;
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      this.opening--;
      clearTimeout(timer);
      return true;
    };
    // A host whose sshd never answers the exec request would hold this call forever.
    const timer = setTimeout(() => {
      if (!settle()) return;
      cb(new DockerError('DOCKER_TIMEOUT', `Docker ${sshTarget(t)}: the host did not start "${DIAL_COMMAND}" within ${String(EXEC_TIMEOUT_MS / 1000)} s`, { op: 'connect' }));
      this.pump();
      this.armIdle();
    }, EXEC_TIMEOUT_MS);
    timer.unref();
    conn.exec(DIAL_COMMAND, (err, ch) => {
      if (!settle()) {
        ch?.destroy(); // too late: the call already failed
        return;
      }
      if (err) {
        // The host allows fewer sessions per connection than we had open (sshd MaxSessions):
        // keep to what it took, and wait for one of them to close.
        if (/Channel open failure/.test(err.message) && this.inUse > 0 && this.conn === conn) {
          // Never below two: the events stream holds one channel for good, and two refusals of
          // calls opened at once would otherwise bring the limit down to that stream alone,
          // leaving every later call waiting for a channel that never closes.
          this.capacity = Math.min(this.capacity, Math.max(2, this.inUse));
          this.waiters.unshift(cb);
          return;
        }
        cb(this.conn === conn ? new DockerError('DOCKER_UNREACHABLE', `Docker ${sshTarget(t)}: the host refused to run "${DIAL_COMMAND}" (${err.message})`, { op: 'connect', cause: err })
          : new DockerError('DOCKER_UNREACHABLE', `Docker ${sshTarget(t)}: Docker is unreachable (SSH connection closed)`, { op: 'connect', cause: err }));
        this.pump();
        this.armIdle();
        return;
      }
      this.adopt(ch);
      cb(null, ch);
    });
  }

  private adopt(ch: ClientChannel): void {
    const t = this.transport;
    this.channels.add(ch);
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
      abortChannel(ch, new DockerError(code2, `Docker ${sshTarget(t)}: "${DIAL_COMMAND}" failed on the host: ${detail}`, { op: 'connect' }));
    });
    // The slot is free once the host confirmed the close: until then its sshd still counts the
    // session against MaxSessions and would refuse the next one.
    ch.on('close', () => {
      if (!this.channels.delete(ch)) return;
      this.pump();
      this.armIdle();
    });
    // node:http ends the connection after a Connection: close exchange: close the channel
    // then, rather than wait for dial-stdio on the host to notice and exit.
    ch.on('finish', () => ch.destroy());
  }
}
