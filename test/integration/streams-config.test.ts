// Stream routes from the config file (docs/streams.md, "In the config file") through a whole
// in-process Bellhop (config.yml → reconciler → StreamManager), with real sockets: a TCP
// stream to a loopback echo server and a UDP stream to a loopback UDP echo, as label streams
// are served; and the admin API lists them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createBellhop, type Bellhop } from '../../cmd/bellhop/app.ts';
import { loadConfig } from '../../internal/config/index.ts';
import { httpGet } from '../support/bellhop-harness.ts';

async function until<T>(get: () => T | undefined, what: string): Promise<T> {
  const end = Date.now() + 20_000;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('config-file streams: TCP and UDP to loopback echo servers, listed by /api/routes', async (t) => {
  const tcpEcho = createServer((s) => {
    s.on('error', () => undefined);
    s.write('tcp:');
    s.pipe(s);
  });
  await new Promise<void>((r) => tcpEcho.listen(0, '127.0.0.1', r));
  const udpEcho = createSocket('udp4');
  udpEcho.on('message', (msg, rinfo) => udpEcho.send(Buffer.concat([Buffer.from('udp:'), msg]), rinfo.port, rinfo.address));
  await new Promise<void>((r) => udpEcho.bind(0, '127.0.0.1', r));
  const tcpPort = (tcpEcho.address() as AddressInfo).port;
  const udpPort = udpEcho.address().port;

  const dir = mkdtempSync(join(tmpdir(), 'bellhop-streams-config-'));
  writeFileSync(join(dir, 'config.yml'), [
    'docker: { hosts: [] }',
    'routes:',
    // listen 0: any free port (the test cannot own a fixed one); GoDoxy's "listen:target" form
    `  echo-tcp: { scheme: tcp, host: 127.0.0.1, port: "0:${String(tcpPort)}", bind: 127.0.0.1 }`,
    `  echo-udp: { scheme: udp, listen: 0, bind: 127.0.0.1, url: "127.0.0.1:${String(udpPort)}" }`,
    '',
  ].join('\n'));
  const loaded = loadConfig({ env: {}, cwd: dir });
  assert.ok(loaded.ok, loaded.ok ? '' : loaded.errors.map((e) => e.format()).join('\n'));
  const bellhop: Bellhop = createBellhop(loaded.config, pino({ level: 'silent' }), new Uint8Array(32).fill(7));
  const ports = await bellhop.start({ http: { host: '127.0.0.1', port: 0 }, api: { host: '127.0.0.1', port: 0 } });
  t.after(async () => {
    await bellhop.stop();
    tcpEcho.close();
    udpEcho.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const tcpListen = await until(() => bellhop.streams.portOf('echo-tcp'), 'the tcp stream to listen');
  const udpListen = await until(() => bellhop.streams.portOf('echo-udp'), 'the udp stream to listen');

  const sock = connect(tcpListen, '127.0.0.1');
  sock.on('error', () => undefined);
  let got = '';
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => { got += d; });
  sock.write('hello');
  await until(() => (got === 'tcp:hello' ? got : undefined), `the tcp echo (got ${JSON.stringify(got)})`);
  sock.destroy();

  const client = createSocket('udp4');
  t.after(() => client.close());
  const answer = new Promise<string>((resolve) => client.once('message', (m) => resolve(m.toString())));
  client.send('ping', udpListen, '127.0.0.1');
  assert.equal(await answer, 'udp:ping');

  const api = await httpGet(ports.apiPort!, '127.0.0.1', '/api/routes');
  const body = JSON.parse(api.body) as { streams?: Array<{ name: string; protocol: string; members: Array<{ url: string }> }> };
  const listed = (body.streams ?? []).map((s) => [s.name, s.protocol, s.members.map((m) => m.url)]);
  assert.deepEqual(listed, [
    ['echo-tcp', 'tcp', [`tcp://127.0.0.1:${String(tcpPort)}`]],
    ['echo-udp', 'udp', [`udp://127.0.0.1:${String(udpPort)}`]],
  ]);
});
