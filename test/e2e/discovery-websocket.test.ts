// A websocket through Bellhop to a file route must survive route-table swaps caused by Docker
// churn on other routes (caddy-docker-proxy drops every websocket on any container change).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type Docker from 'dockerode';
import { dockerSkip, dockerClient, runHttpd, removeQuietly, uniqueName, waitFor } from '../support/docker-test.ts';
import { startBellhop, type BellhopUnderTest } from '../support/bellhop-harness.ts';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const docker = dockerClient();
const containers: Docker.Container[] = [];
let bellhop: BellhopUnderTest;
let echo: Server;
let upgrades = 0;

/** One unmasked (server) or masked (client) text frame, payload < 126 bytes. */
function frame(text: string, mask: boolean): Buffer {
  const payload = Buffer.from(text);
  if (!mask) return Buffer.concat([Buffer.from([0x81, payload.length]), payload]);
  const key = randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ key[i % 4]!));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), key, masked]);
}

/** Reads one small frame (masked or not) from the start of `buf`, or undefined if incomplete. */
function readFrame(buf: Buffer): { text: string; size: number } | undefined {
  if (buf.length < 2) return undefined;
  const masked = (buf[1]! & 0x80) !== 0;
  const len = buf[1]! & 0x7f;
  const head = 2 + (masked ? 4 : 0);
  if (buf.length < head + len) return undefined;
  let payload = buf.subarray(head, head + len);
  if (masked) {
    const key = buf.subarray(2, 6);
    payload = Buffer.from(payload.map((b, i) => b ^ key[i % 4]!));
  }
  return { text: payload.toString(), size: head + len };
}

function startEcho(): Promise<number> {
  echo = createServer((_req, res) => res.end('plain'));
  echo.on('upgrade', (req, socket: Socket) => {
    upgrades++;
    const accept = createHash('sha1').update(`${String(req.headers['sec-websocket-key'])}${GUID}`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    let buf = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      let f;
      while ((f = readFrame(buf))) {
        buf = buf.subarray(f.size);
        socket.write(frame(`echo:${f.text}`, false));
      }
    });
    socket.on('error', () => undefined);
  });
  return new Promise((resolve) => echo.listen(0, '127.0.0.1', () => resolve((echo.address() as { port: number }).port)));
}

/** Opens a websocket through Bellhop; returns the socket and a reader for the next frame. */
async function openWs(host: string): Promise<{ socket: Socket; next(): Promise<string>; closed(): boolean }> {
  const socket = connect(bellhop.httpPort, '127.0.0.1');
  let closed = false;
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const key = randomBytes(16).toString('base64');
  socket.write(`GET /ws HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  let buf = Buffer.alloc(0);
  let waiter: (() => void) | undefined;
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    waiter?.();
  });
  const until = async (ready: () => boolean): Promise<void> => {
    while (!ready()) {
      if (closed) throw new Error('websocket closed');
      await new Promise<void>((r) => {
        waiter = r;
        setTimeout(r, 100);
      });
    }
  };
  await until(() => buf.includes('\r\n\r\n'));
  const end = buf.indexOf('\r\n\r\n');
  const head = buf.subarray(0, end).toString();
  assert.match(head, /^HTTP\/1\.1 101/, head);
  buf = buf.subarray(end + 4);
  return {
    socket,
    closed: () => closed,
    async next() {
      let f: ReturnType<typeof readFrame>;
      await until(() => (f = readFrame(buf)) !== undefined);
      buf = buf.subarray(f!.size);
      return f!.text;
    },
  };
}

const wsAlias = uniqueName('ws').toLowerCase();
/** Deadline for waits on Docker plus Bellhop: generous, so a busy machine cannot fail the gate. */
const ROUTED_MS = 30_000;

before(async () => {
  if (dockerSkip) return;
  const port = await startEcho();
  // A drain deadline (120 s) far beyond the harness's SIGKILL (15 s): a Bellhop that waited for it
  // is killed and exits without code 0, however fast or slow the machine.
  bellhop = await startBellhop({ mode: 'child', yaml: `entrypoint:\n  timeouts:\n    drain: 120s\nroutes:\n  ${wsAlias}:\n    url: http://127.0.0.1:${String(port)}\n` });
});

after(async () => {
  await Promise.all(containers.map((c) => removeQuietly(c)));
  if (bellhop) await bellhop.stop();
  echo?.closeAllConnections();
  echo?.close();
});

test('an open websocket survives 20 container starts and stops of other routes', { skip: dockerSkip }, async () => {
  await waitFor(async () => ((await bellhop.get(wsAlias)).status === 200 ? true : undefined), ROUTED_MS, 'the file route');
  const ws = await openWs(wsAlias);
  ws.socket.write(frame('before', true));
  assert.equal(await ws.next(), 'echo:before');

  // 20 containers, each started (and seen answering through Bellhop, so every one is a real
  // route-table swap) and then stopped and removed; 4 at a time.
  const churn = async (i: number): Promise<void> => {
    const a = uniqueName(`churn${String(i)}`).toLowerCase();
    const c = await runHttpd(docker, { name: a, body: a, labels: { 'proxy.aliases': a } });
    containers.push(c);
    await waitFor(async () => {
      const r = await bellhop.get(a);
      return r.status === 200 && r.body === a ? true : undefined;
    }, ROUTED_MS, `${a} to answer`);
    await c.stop({ t: 0 });
    await c.remove({ force: true });
    await waitFor(async () => ((await bellhop.get(a, '/', { timeoutMs: 15_000 })).status === 404 ? true : undefined), ROUTED_MS, `${a} to be gone`);
  };
  for (let i = 0; i < 20; i += 4) await Promise.all([0, 1, 2, 3].map((k) => churn(i + k)));

  assert.equal(ws.closed(), false, 'the websocket is still open');
  ws.socket.write(frame('after', true));
  assert.equal(await ws.next(), 'echo:after');
  assert.equal(upgrades, 1, 'one upgrade: the same tunnel served both messages');
  ws.socket.destroy();

  // The client closed its websocket (the echo server keeps its half open): nothing is in flight,
  // so SIGTERM must end Bellhop without waiting for the drain deadline (120 s here).
  await waitFor(async () => ((await bellhop.route(wsAlias))?.members[0] as { in_flight?: number } | undefined)?.in_flight === 0 ? true : undefined, ROUTED_MS, 'the tunnel to be released');
  const t0 = Date.now();
  await bellhop.stop();
  const took = Date.now() - t0;
  process.stderr.write(`[websocket] SIGTERM to exit: ${String(took)} ms\n`);
  assert.equal(bellhop.exited()?.code, 0, `exit after SIGTERM (${String(took)} ms): killed, so it waited for the drain deadline`);
  assert.ok(!bellhop.logs().some((l) => l.includes('drain deadline reached')), 'drain finished before its deadline');
});
