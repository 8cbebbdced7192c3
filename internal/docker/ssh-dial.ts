// ssh:// Docker hosts: `docker system dial-stdio` on the host over SSH, speaking HTTP over its
// stdio, like the docker CLI, but with one SSH connection per host kept open (ssh-connection.ts)
// and one exec channel per HTTP connection, which node:http keeps alive between calls.
//
// docker-modem has ssh built in (protocol 'ssh'), but it accepts any host key (ssh2 verifies
// nothing without a hostVerifier: a MITM on the Docker API is root on the host), only knows the
// agent, and calls back twice (then throws on an undefined stream) when the exec is refused.
// So dockerode gets a plain http client with this Agent, and every failure is a DockerError
// with a code the watcher logs like any other connection failure.
import type { ClientRequest, ClientRequestArgs } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ClientChannel } from 'ssh2';
import { SshConnection } from './ssh-connection.ts';
import { resolveIdentity, type SshTransport } from './ssh-identity.ts';

const { Agent } = process.getBuiltinModule('node:http');
const { inspect } = process.getBuiltinModule('node:util');

/**
 * Channels (HTTP connections, each a dial-stdio process on the host) open at once: the events
 * stream, 8 parallel inspects and a start or stop, under sshd's default MaxSessions of 10.
 */
const MAX_CHANNELS = 9;
/** An idle kept-alive channel is closed after this (each one is a process on the host). */
const FREE_CHANNEL_IDLE_MS = 5_000;

/**
 * node:http treats the connections an Agent hands it as net.Sockets when it keeps them alive:
 * a channel has no TCP options, handle or timer of its own, so those calls do nothing. (No
 * caller sets a socket timeout: every Docker call has its own deadline, call-timeout.ts.)
 */
function asSocket(ch: ClientChannel): Duplex {
  const s = ch as ClientChannel & Record<'setKeepAlive' | 'setNoDelay' | 'setTimeout' | 'ref' | 'unref', () => ClientChannel>;
  s.setKeepAlive = () => ch;
  s.setNoDelay = () => ch;
  s.setTimeout = () => ch;
  s.ref = () => ch;
  s.unref = () => ch;
  return s;
}

/** An http.Agent whose connections are dial-stdio channels on one shared SSH connection. */
export class SshDialAgent extends Agent {
  readonly transport: SshTransport;
  readonly connection: SshConnection;
  private readonly idle = new WeakMap<Duplex, NodeJS.Timeout>();

  constructor(host: string, port: number, username: string, env: NodeJS.ProcessEnv) {
    super({ keepAlive: true, maxSockets: MAX_CHANNELS, maxFreeSockets: MAX_CHANNELS });
    const identity = resolveIdentity(host, port, username, env);
    this.transport = identity.transport;
    this.connection = new SshConnection(identity, { maxChannels: MAX_CHANNELS });
  }

  override createConnection(_options: ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): undefined {
    // Always asynchronous: node:http waits for the callback when nothing is returned.
    const done = callback ?? (() => undefined);
    // The host took fewer channels than we may use: an idle kept-alive one makes room.
    if (this.connection.atCapacity) this.closeOneFreeChannel();
    this.connection.openChannel((err, channel) => {
      if (err || !channel) done(err, undefined as unknown as Duplex);
      else done(null, asSocket(channel));
    });
    return undefined;
  }

  override keepSocketAlive(socket: Duplex): boolean {
    // node:http starts connections for queued requests without counting them against
    // maxSockets until they exist, so calls can be waiting for a channel while this one goes
    // idle: close it, and the first of them gets a channel at once instead of after the idle
    // timeout.
    if (this.connection.waiting > 0) return false;
    const keep = (super.keepSocketAlive(socket) as unknown as boolean | undefined) !== false;
    clearTimeout(this.idle.get(socket));
    const timer = setTimeout(() => socket.destroy(), FREE_CHANNEL_IDLE_MS);
    timer.unref();
    this.idle.set(socket, timer);
    return keep;
  }

  override reuseSocket(socket: Duplex, request: ClientRequest): void {
    clearTimeout(this.idle.get(socket));
    this.idle.delete(socket);
    super.reuseSocket(socket, request);
  }

  /** Closes every channel and the SSH connection (Bellhop stopping); a later call reconnects. */
  override destroy(): void {
    super.destroy();
    this.connection.close();
  }

  /**
   * docker-modem formats every request's options, agent included, with util.inspect (depth
   * unlimited, hidden properties shown) before it checks whether debug logging is on. Our agent
   * holds the SSH connection, its channels and kept-alive sockets: formatting all that took
   * ~100 ms of CPU per call and made a sync of 40 containers take 10 s instead of under 1 s.
   */
  [inspect.custom](): string {
    return `SshDialAgent(ssh://${this.transport.username}@${this.transport.host}:${String(this.transport.port)})`;
  }

  private closeOneFreeChannel(): void {
    for (const list of Object.values(this.freeSockets)) {
      const socket = list?.[0];
      if (socket) {
        socket.destroy();
        return;
      }
    }
  }
}
