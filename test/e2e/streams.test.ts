// TCP and UDP stream routes through a whole Bellhop (in-process) against the real engine
// (docs/streams.md). TCP members are busybox `nc -ll -e` servers that greet with their hostname
// and then echo; the UDP member is a node dgram echo: busybox has no UDP server, so the host's
// node binary runs in a test-image container with the host's libraries mounted read-only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { createSocket } from 'node:dgram';
import type Docker from 'dockerode';
import { dockerSkip, dockerClient, removeQuietly, uniqueName, waitFor, TEST_IMAGE, TEST_LABELS } from '../support/docker-test.ts';
import { freePort, startBellhop } from '../support/bellhop-harness.ts';
import { watchEvents } from '../support/docker-events.ts';

const GREET = `#!/bin/sh\nprintf '%s:' "$(hostname)"\nexec cat\n`;

async function tcpEcho(docker: Docker, labels: Record<string, string>, start = true): Promise<Docker.Container> {
  const script = `echo ${Buffer.from(GREET).toString('base64')} | base64 -d > /greet.sh && chmod +x /greet.sh && exec nc -ll -p 22 -e /greet.sh`;
  const c = await docker.createContainer({
    Image: TEST_IMAGE, name: uniqueName('bellhop-stream'), Cmd: ['/bin/sh', '-c', script],
    Labels: { ...TEST_LABELS, ...labels }, ExposedPorts: { '22/tcp': {} }, HostConfig: { NetworkMode: 'bridge' },
  });
  if (start) await c.start();
  return c;
}

/** Connects, sends `text`, resolves with what came back once it holds `until`. */
function exchange(port: number, text: string, until: RegExp, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port });
    let got = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer in time (got ${JSON.stringify(got)})`));
    }, timeoutMs);
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      got += d;
      if (until.test(got)) {
        clearTimeout(timer);
        s.end();
        resolve(got);
      }
    });
    s.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    s.write(text);
  });
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.on('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.on('error', () => resolve(true));
  });
}

async function hostnameOf(c: Docker.Container): Promise<string> {
  return (await c.inspect()).Config.Hostname;
}

interface StreamsView { streams?: Array<{ name: string; listening: boolean; members: Array<{ name: string; health: string }> }> }

test('TCP stream: "port: L:22" listens on L, round robin across two members of one link, the listener closes when the containers go', { skip: dockerSkip }, async () => {
  const docker = dockerClient();
  const port = await freePort();
  const link = `ssh${Math.random().toString(36).slice(2, 7)}`;
  const labels = (alias: string): Record<string, string> => ({ 'proxy.aliases': alias, [`proxy.${alias}.port`]: `${String(port)}:22`, [`proxy.${alias}.load_balance.link`]: link });
  const a = await tcpEcho(docker, labels(`${link}a`));
  const b = await tcpEcho(docker, labels(`${link}b`));
  const bh = await startBellhop({ mode: 'in-process' });
  try {
    await waitFor(async () => {
      const v = (await bh.routes()) as unknown as StreamsView;
      const s = v.streams?.find((x) => x.name === link);
      return s !== undefined && s.listening && s.members.length === 2 && s.members.every((m) => m.health === 'healthy');
    }, 30_000, 'stream listening with two healthy members');
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) seen.push((await exchange(port, `hello${String(i)}\n`, new RegExp(`hello${String(i)}\\n$`))).split(':')[0]!);
    const ha = await hostnameOf(a);
    const hb = await hostnameOf(b);
    assert.deepEqual([...seen].sort(), [ha, ha, hb, hb].sort(), `round robin: ${seen.join(',')}`);
    await removeQuietly(a);
    await removeQuietly(b);
    await waitFor(async () => ((await refused(port)) ? true : undefined), 30_000, 'listener closed once the containers are gone');
  } finally {
    await bh.stop();
    await removeQuietly(a);
    await removeQuietly(b);
  }
});

test('TCP stream: a stopped container is woken by a connection; the bytes sent first arrive; one start', { skip: dockerSkip }, async () => {
  const docker = dockerClient();
  const port = await freePort();
  const alias = `wk${Math.random().toString(36).slice(2, 7)}`;
  const c = await tcpEcho(docker, { 'proxy.aliases': alias, [`proxy.${alias}.port`]: `${String(port)}:22`, 'proxy.idle_timeout': '1m' }, false);
  const id = (await c.inspect()).Id;
  const ev = await watchEvents(docker, () => [id]);
  const bh = await startBellhop({ mode: 'in-process' });
  try {
    await waitFor(async () => ((await bh.routes()) as unknown as StreamsView).streams?.find((x) => x.name === alias)?.listening === true || undefined, 30_000, 'stream listening');
    const got = await exchange(port, 'SSH-2.0-first-bytes\r\n', /SSH-2\.0-first-bytes\r\n$/, 60_000);
    assert.equal(got, `${await hostnameOf(c)}:SSH-2.0-first-bytes\r\n`);
    assert.equal((await c.inspect()).State.Status, 'running');
    assert.equal(ev.count(id, 'start'), 1);
  } finally {
    ev.close();
    await bh.stop();
    await removeQuietly(c);
  }
});

test('UDP stream: datagrams reach the member and its replies come back from the listening port', { skip: dockerSkip }, async () => {
  const docker = dockerClient();
  const port = await freePort();
  const alias = `dns${Math.random().toString(36).slice(2, 7)}`;
  const echo = "const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send(Buffer.concat([Buffer.from('echo:'),m]),r.port,r.address));s.bind(53)";
  const c = await docker.createContainer({
    Image: TEST_IMAGE, name: uniqueName('bellhop-udp'), Cmd: ['/bin/node', '-e', echo],
    Labels: { ...TEST_LABELS, 'proxy.aliases': alias, [`proxy.${alias}.scheme`]: 'udp', [`proxy.${alias}.port`]: `${String(port)}:53` },
    ExposedPorts: { '53/tcp': {} },
    HostConfig: { NetworkMode: 'bridge', Binds: ['/lib:/lib:ro', '/lib64:/lib64:ro', `${process.execPath}:/bin/node:ro`] },
  });
  await c.start();
  const bh = await startBellhop({ mode: 'in-process' });
  const client = createSocket('udp4');
  try {
    await waitFor(async () => ((await bh.routes()) as unknown as StreamsView).streams?.find((x) => x.name === alias)?.listening === true || undefined, 30_000, 'stream listening');
    const replies: string[] = [];
    client.on('message', (m) => replies.push(String(m)));
    // The container's node may still be starting: ask until it answers (UDP has no connect).
    await waitFor(() => {
      client.send('q', port, '127.0.0.1');
      return replies.length > 0 || undefined;
    }, 30_000, 'a UDP reply');
    assert.equal(replies[0], 'echo:q');
  } finally {
    client.close();
    await bh.stop();
    await removeQuietly(c);
  }
});
