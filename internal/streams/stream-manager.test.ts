// Stream routes with real sockets on 127.0.0.1 (members are local echo servers; the Docker
// side is test/e2e/streams.test.ts): balancing, holding a connection while its member wakes,
// listener lifecycle and errors, UDP sessions and their idle timeout.
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { test } from 'node:test';
import type { MemberSpec, StreamRouteSpec } from '../routes/index.ts';
import { StreamManager } from './index.ts';
import type { StreamHealth, StreamWake } from './index.ts';
import { silentLogger } from '../../pkg/log/index.ts';

const hc = { useGet: false, intervalMs: 5000, timeoutMs: 5000, rise: 1, fall: 1, disable: false };

function member(id: string, url: string, weight?: number): MemberSpec {
  return { id, identity: id, name: id, url, noTlsVerify: false, healthcheck: hc, ...(weight !== undefined ? { weight } : {}) };
}

function route(name: string, protocol: 'tcp' | 'udp', port: number, members: MemberSpec[], mode: 'roundrobin' | 'leastconn' | 'iphash' = 'roundrobin'): StreamRouteSpec {
  return { name, aliases: [name], source: 'docker', loadBalance: { mode, sticky: false, stickyMaxAgeMs: 0 }, members, stream: { protocol, port, bind: '127.0.0.1' } };
}

const allHealthy: StreamHealth & { reports: Array<[string, boolean]> } = {
  reports: [],
  isUsable: () => true,
  report(id, o) {
    this.reports.push([id, o.ok]);
  },
};

/** A TCP server that greets with its name, then echoes. */
async function tcpEcho(name: string): Promise<{ server: Server; port: number; accepted: () => number }> {
  let n = 0;
  const server = createServer((s) => {
    n++;
    s.on('error', () => undefined);
    s.write(`${name}:`);
    s.pipe(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port, accepted: () => n };
}

/** Connects, sends `text`, resolves with everything received until `want` bytes came. */
function exchange(port: number, text: string, want: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port });
    let got = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      got += d;
      if (got.length >= want) {
        s.end();
        resolve(got);
      }
    });
    s.on('error', reject);
    s.on('close', () => resolve(got));
    s.write(text);
  });
}

async function waitFor<T>(fn: () => T | undefined | false, what: string, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('TCP: round robin across two members, bytes both ways, counters', async () => {
  const a = await tcpEcho('a');
  const b = await tcpEcho('b');
  const mgr = new StreamManager({ health: allHealthy, logger: silentLogger });
  try {
    mgr.update([route('ssh', 'tcp', 0, [member('a', `tcp://127.0.0.1:${String(a.port)}`), member('b', `tcp://127.0.0.1:${String(b.port)}`)])]);
    const port = await waitFor(() => mgr.portOf('ssh'), 'listening');
    const greet: string[] = [];
    for (let i = 0; i < 6; i++) greet.push((await exchange(port, 'hello', 7)).slice(0, 2));
    assert.deepEqual(greet.sort(), ['a:', 'a:', 'a:', 'b:', 'b:', 'b:']);
    assert.equal(a.accepted(), 3);
    assert.equal(b.accepted(), 3);
    const v = await waitFor(() => mgr.views()[0]!.open === 0 && mgr.views()[0], 'connections closed');
    assert.equal(v.connections_total, 6);
    assert.equal(v.bytes_in, 30);
    assert.equal(v.bytes_out, 42);
    assert.equal(v.protocol, 'tcp');
    assert.equal(v.listen, `127.0.0.1:${String(port)}`);
  } finally {
    await mgr.close();
    a.server.close();
    b.server.close();
  }
});

test('TCP: iphash keeps one client address on one member; leastconn avoids the busy member', async () => {
  const a = await tcpEcho('a');
  const b = await tcpEcho('b');
  const mgr = new StreamManager({ health: allHealthy, logger: silentLogger });
  const open: Socket[] = [];
  try {
    const members = [member('a', `tcp://127.0.0.1:${String(a.port)}`), member('b', `tcp://127.0.0.1:${String(b.port)}`)];
    mgr.update([route('h', 'tcp', 0, members, 'iphash'), route('l', 'tcp', 0, members, 'leastconn')]);
    const hp = await waitFor(() => mgr.portOf('h'), 'listening');
    const seen = new Set<string>();
    for (let i = 0; i < 5; i++) seen.add((await exchange(hp, 'x', 3)).slice(0, 2));
    assert.equal(seen.size, 1, 'one client IP, one member');
    const lp = await waitFor(() => mgr.portOf('l'), 'listening');
    // One long connection stays open on the first member; the next three all go to the other
    // while it is busier, so the counts end 1 + 3 (round robin alone would give 2 + 2).
    const s = connect({ host: '127.0.0.1', port: lp });
    open.push(s);
    const first = await new Promise<string>((r) => s.once('data', (d) => r(String(d))));
    await waitFor(() => mgr.views().find((x) => x.name === 'l')!.open === 1, 'one open');
    const others = [];
    for (let i = 0; i < 3; i++) {
      others.push((await exchange(lp, 'y', 3)).slice(0, 2));
      await waitFor(() => mgr.views().find((x) => x.name === 'l')!.open === 1, 'the short connection closed');
    }
    const other = first === 'a:' ? 'b:' : 'a:';
    assert.deepEqual(others, [other, other, other]);
  } finally {
    for (const s of open) s.destroy();
    await mgr.close();
    a.server.close();
    b.server.close();
  }
});

test('TCP: a sleeping member is woken by the connection; the first bytes, sent before it runs, arrive', async () => {
  let server: Awaited<ReturnType<typeof tcpEcho>> | undefined;
  let state = 'asleep';
  let url = '';
  let wakes = 0;
  let held = 0;
  const wake: StreamWake = {
    isUsable: () => state === 'awake',
    stateOf: () => state,
    async ensureAwake() {
      wakes++;
      state = 'waking';
      await new Promise((r) => setTimeout(r, 200)); // the client's bytes arrive meanwhile
      server = await tcpEcho('woke');
      url = `tcp://127.0.0.1:${String(server.port)}`;
      state = 'awake';
      return { ok: true };
    },
    begin: () => {
      held++;
      return () => held--;
    },
    upstreamUrl: (_id, fallback) => url || fallback,
  };
  const mgr = new StreamManager({ health: allHealthy, wake, logger: silentLogger });
  try {
    mgr.update([route('w', 'tcp', 0, [member('m', '')])]);
    const port = await waitFor(() => mgr.portOf('w'), 'listening');
    const s = connect({ host: '127.0.0.1', port });
    s.setEncoding('utf8');
    let got = '';
    s.on('data', (d: string) => (got += d));
    s.write('SSH-2.0-first-bytes\r\n');
    await waitFor(() => got === 'woke:SSH-2.0-first-bytes\r\n', `echo (got ${JSON.stringify(got)})`);
    assert.equal(wakes, 1);
    assert.equal(held, 1, 'the open connection keeps the container awake');
    s.end();
    await waitFor(() => held === 0, 'released when the connection closed');
  } finally {
    await mgr.close();
    server?.server.close();
  }
});

test('TCP: a refused member is reported and the next one is tried; nothing usable closes the client', async () => {
  const a = await tcpEcho('a');
  const dead = await tcpEcho('dead');
  dead.server.close();
  await once(dead.server, 'close');
  const reports: Array<[string, boolean]> = [];
  const health: StreamHealth = { isUsable: () => true, report: (id, o) => reports.push([id, o.ok]) };
  const mgr = new StreamManager({ health, logger: silentLogger });
  try {
    mgr.update([route('r', 'tcp', 0, [member('dead', `tcp://127.0.0.1:${String(dead.port)}`), member('a', `tcp://127.0.0.1:${String(a.port)}`)])]);
    const port = await waitFor(() => mgr.portOf('r'), 'listening');
    const got = [await exchange(port, 'p', 3), await exchange(port, 'q', 3)];
    assert.deepEqual(got, ['a:p', 'a:q']);
    assert.deepEqual(reports.filter(([id]) => id === 'dead').map(([, ok]) => ok), [false]);
    mgr.update([route('r', 'tcp', port, [member('dead', `tcp://127.0.0.1:${String(dead.port)}`)])]);
    assert.equal(await exchange(port, 'z', 1), '', 'closed without a byte');
    assert.equal(mgr.views()[0]!.failed_total, 1);
  } finally {
    await mgr.close();
    a.server.close();
  }
});

test('listener lifecycle: removing the route closes its port and ends open connections; a taken port is an error, retried', async () => {
  const a = await tcpEcho('a');
  const mgr = new StreamManager({ health: allHealthy, logger: silentLogger, retryListenMs: 50, closeGraceMs: 200 });
  const squatter = createServer();
  try {
    mgr.update([route('x', 'tcp', 0, [member('a', `tcp://127.0.0.1:${String(a.port)}`)])]);
    const port = await waitFor(() => mgr.portOf('x'), 'listening');
    const s = connect({ host: '127.0.0.1', port });
    await once(s, 'data');
    const closed = once(s, 'close');
    mgr.update([]);
    await closed;
    await assert.rejects(new Promise((resolve, reject) => connect({ host: '127.0.0.1', port }).on('connect', resolve).on('error', reject)), /ECONNREFUSED/);
    squatter.listen(0, '127.0.0.1');
    await once(squatter, 'listening');
    const taken = (squatter.address() as { port: number }).port;
    mgr.update([route('y', 'tcp', taken, [member('a', `tcp://127.0.0.1:${String(a.port)}`)])]);
    const err = await waitFor(() => mgr.errors()[0], 'listen error');
    assert.equal(err.code, 'STREAM_LISTEN_FAILED');
    assert.equal(err.key, 'proxy.y.port');
    assert.match(err.message, /in use/);
    squatter.close();
    await waitFor(() => mgr.portOf('y'), 'listening once the port is free');
    assert.deepEqual(mgr.errors(), []);
    assert.equal((await exchange(taken, 'ok', 4)), 'a:ok');
  } finally {
    await mgr.close();
    a.server.close();
  }
});

/** A UDP echo prefixing each reply with its name and the source port it saw. */
async function udpEcho(name: string): Promise<{ socket: UdpSocket; port: number; peers: Set<number> }> {
  const socket = createSocket('udp4');
  const peers = new Set<number>();
  socket.on('message', (m, r) => {
    peers.add(r.port);
    socket.send(Buffer.concat([Buffer.from(`${name}:`), m]), r.port, r.address);
  });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return { socket, port: socket.address().port, peers };
}

function udpClient(): { socket: UdpSocket; ask(port: number, text: string): Promise<string> } {
  const socket = createSocket('udp4');
  const waiting: Array<(s: string) => void> = [];
  socket.on('message', (m) => waiting.shift()?.(String(m)));
  return {
    socket,
    ask: (port, text) => new Promise((resolve) => {
      waiting.push(resolve);
      socket.send(text, port, '127.0.0.1');
    }),
  };
}

test('UDP: one session per client (its own socket toward the member), round robin between clients, idle timeout ends it', async () => {
  const a = await udpEcho('a');
  const b = await udpEcho('b');
  const mgr = new StreamManager({ health: allHealthy, logger: silentLogger, udpIdleTimeoutMs: 300 });
  const c1 = udpClient();
  const c2 = udpClient();
  try {
    mgr.update([route('dns', 'udp', 0, [member('a', `udp://127.0.0.1:${String(a.port)}`), member('b', `udp://127.0.0.1:${String(b.port)}`)])]);
    const port = await waitFor(() => mgr.portOf('dns'), 'listening');
    const r1 = [await c1.ask(port, 'q1'), await c1.ask(port, 'q2'), await c1.ask(port, 'q3')];
    const owner = r1[0]!.slice(0, 2);
    assert.deepEqual(r1, [`${owner}q1`, `${owner}q2`, `${owner}q3`], 'one client stays on its session');
    const r2 = await c2.ask(port, 'other');
    assert.notEqual(r2.slice(0, 2), owner, 'the next client gets the other member');
    assert.equal(mgr.views()[0]!.open, 2);
    const peersBefore = a.peers.size + b.peers.size;
    assert.equal(peersBefore, 2, 'a socket per client toward the members');
    await waitFor(() => mgr.views()[0]!.open === 0, 'sessions idle out');
    const again = await c1.ask(port, 'q4');
    assert.match(again, /:q4$/);
    assert.equal(a.peers.size + b.peers.size, 3, 'a new session after the idle timeout: a new socket');
    const v = mgr.views()[0]!;
    assert.equal(v.connections_total, 3);
    assert.equal(v.bytes_in, 'q1q2q3otherq4'.length);
  } finally {
    c1.socket.close();
    c2.socket.close();
    await mgr.close();
    a.socket.close();
    b.socket.close();
  }
});

test('UDP: a route\'s own udp_idle_timeout ends its sessions (the manager default is 5 min); a changed one applies without a new listener', async () => {
  const a = await udpEcho('a');
  const mgr = new StreamManager({ health: allHealthy, logger: silentLogger });
  const c1 = udpClient();
  try {
    const spec = route('game', 'udp', 0, [member('a', `udp://127.0.0.1:${String(a.port)}`)]);
    mgr.update([{ ...spec, stream: { ...spec.stream, udpIdleTimeoutMs: 200 } }]);
    const port = await waitFor(() => mgr.portOf('game'), 'listening');
    assert.equal(await c1.ask(port, 'q1'), 'a:q1');
    assert.equal(mgr.views()[0]!.open, 1);
    await waitFor(() => mgr.views()[0]!.open === 0, 'the session idles out after the route\'s 200 ms');
    // 10 min now: the same listener, and a new session stays open
    mgr.update([{ ...spec, stream: { ...spec.stream, udpIdleTimeoutMs: 600_000 } }]);
    assert.equal(mgr.portOf('game'), port, 'the listener is kept');
    assert.equal(await c1.ask(port, 'q2'), 'a:q2');
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(mgr.views()[0]!.open, 1, 'not ended after 400 ms');
  } finally {
    c1.socket.close();
    await mgr.close();
    a.socket.close();
  }
});
