// Restarting dockerd under a running Bellhop: it must not crash, must report Docker as
// disconnected while the daemon is away, and must resync routes without a restart of its own.
// This test KILLS AND RESTARTS THE LOCAL DOCKER DAEMON: run it alone, after the other Docker
// tests (test/run.ts). It always leaves dockerd running (finally block).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { openSync } from 'node:fs';
import type Docker from 'dockerode';
import { dockerSkip, dockerClient, removeQuietly, uniqueName, waitFor, runHttpd, TEST_IMAGE, TEST_LABELS } from '../support/docker-test.ts';
import { startBellhop, type BellhopUnderTest } from '../support/bellhop-harness.ts';

const docker = dockerClient();
const containers: Docker.Container[] = [];
let bellhop: BellhopUnderTest | undefined;

function dockerdPid(): number | undefined {
  const out = spawnSync('pidof', ['dockerd'], { encoding: 'utf8' }).stdout.trim();
  const pid = Number(out.split(/\s+/)[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function ping(): Promise<boolean> {
  const timer = new Promise<boolean>((r) => setTimeout(() => r(false), 2000).unref());
  return Promise.race([docker.ping().then(() => true, () => false), timer]);
}

/** Starts dockerd the way test/support/docker-engine.ts does and waits for /_ping. */
async function startDockerd(): Promise<void> {
  if (await ping()) return;
  const out = openSync('/tmp/bellhop-dockerd.log', 'a');
  const child = spawn('dockerd', [], { detached: true, stdio: ['ignore', out, out] });
  child.on('error', () => undefined);
  child.unref();
  await waitFor(async () => ((await ping()) ? true : undefined), 60_000, 'dockerd to answer /_ping again');
}

const why = dockerSkip
  || (process.env['DOCKER_HOST'] ? 'DOCKER_HOST is set: not restarting a daemon this test does not own' : false)
  || (process.getuid?.() !== 0 ? 'not root: cannot restart dockerd' : false)
  || (dockerdPid() === undefined ? 'no local dockerd process' : false);

after(async () => {
  await startDockerd().catch(() => undefined);
  await Promise.all(containers.map((c) => removeQuietly(c)));
  await bellhop?.stop();
});

test('Bellhop survives a dockerd restart, reports Docker disconnected meanwhile, and resyncs routes', { skip: why }, async () => {
  try {
    bellhop = await startBellhop({ mode: 'child' });
    const b = bellhop;
    const keep = uniqueName('keep').toLowerCase();
    const c = await docker.createContainer({
      Image: TEST_IMAGE,
      name: keep,
      Cmd: ['/bin/sh', '-c', "mkdir -p /www && printf keep > /www/index.html && exec httpd -f -p 80 -h /www"],
      Labels: { ...TEST_LABELS, 'proxy.aliases': keep },
      ExposedPorts: { '80/tcp': {} },
      HostConfig: { NetworkMode: 'bridge', RestartPolicy: { Name: 'always' } },
    });
    containers.push(c);
    await c.start();
    await waitFor(async () => ((await b.get(keep)).body === 'keep' ? true : undefined), 30_000, `${keep} to answer`);
    const synced = (await b.routes()).docker[0];
    assert.equal(synced?.state, 'synced');
    assert.ok(typeof synced.seconds_since_sync === 'number' && synced.seconds_since_sync < 60, JSON.stringify(synced));

    const pid = dockerdPid()!;
    process.kill(pid, 'SIGTERM');
    await waitFor(() => (alive(pid) ? undefined : true), 60_000, 'dockerd to exit');

    // Docker is away: Bellhop keeps running, says so, and keeps the last snapshot of routes.
    const down = await waitFor(async () => {
      const v = await b.routes();
      return v.docker[0]?.state !== 'synced' ? v : undefined;
    }, 40_000, 'Bellhop to report Docker disconnected');
    assert.ok(['disconnected', 'connecting'].includes(down.docker[0]!.state), JSON.stringify(down.docker));
    assert.ok(down.routes.some((r) => r.alias === keep), 'the route is kept from the last snapshot');
    const whileDown = await b.get(keep, '/', { timeoutMs: 15_000 });
    assert.notEqual(whileDown.status, 404, 'the host is still routed while Docker is away');
    assert.equal(b.exited(), undefined, 'Bellhop did not exit');

    await startDockerd();
    // The restart policy brings the container back, maybe with a new address: routes resync.
    await waitFor(async () => {
      const r = await b.get(keep, '/', { timeoutMs: 3000 });
      return r.status === 200 && r.body === 'keep' ? true : undefined;
    }, 60_000, `${keep} to answer again after the restart`);
    await waitFor(async () => ((await b.routes()).docker[0]?.state === 'synced' ? true : undefined), 30_000, 'Docker synced again');
    // The event stream is live again: a brand-new container is routed.
    const fresh = uniqueName('fresh').toLowerCase();
    containers.push(await runHttpd(docker, { name: fresh, body: 'fresh', labels: { 'proxy.aliases': fresh } }));
    await waitFor(async () => ((await b.get(fresh)).body === 'fresh' ? true : undefined), 30_000, `${fresh} to answer`);
    assert.equal(b.exited(), undefined, 'Bellhop is still the same process');
    process.stderr.write(`[dockerd-restart] while down: ${String(whileDown.status)}; docker state ${down.docker[0]!.state}\n`);
  } finally {
    await startDockerd();
  }
});
