// Docker's own HEALTHCHECK gates traffic through a whole in-process Bellhop reading the real
// engine: a member Docker calls `starting` or `unhealthy` gets no request, whatever Bellhop's own
// TCP check says, and the admin API says why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import pino from 'pino';
import { createBellhop, type Bellhop } from '../../cmd/bellhop/app.ts';
import { loadConfig } from '../../internal/config/index.ts';
import { dockerClient, dockerSkip, removeQuietly, runHttpd, uniqueName, waitFor, TEST_IMAGE, TEST_LABELS } from '../support/docker-test.ts';

interface Reply {
  status: number;
  body: string;
}

function get(port: number, host: string, path = '/', agent: Agent | false = false): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent, headers: { host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${host}${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

interface ApiMember {
  name: string;
  container_id: string | null;
  health: string;
  usable: boolean;
  reason: string;
}

interface ApiRoute {
  alias: string;
  summary: string;
  members: ApiMember[];
}

async function startBellhop(yaml: string): Promise<{ bellhop: Bellhop; httpPort: number; apiPort: number; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'bellhop-health-docker-'));
  writeFileSync(join(dir, 'config.yml'), `${yaml}\n`);
  const env: NodeJS.ProcessEnv = {};
  if (process.env['DOCKER_HOST']) env['DOCKER_HOST'] = process.env['DOCKER_HOST'];
  const loaded = loadConfig({ env, cwd: dir });
  if (!loaded.ok) throw new Error(`config: ${loaded.errors.map((e) => e.format()).join('\n')}`);
  const bellhop = createBellhop(loaded.config, pino({ level: 'silent' }), new Uint8Array(32).fill(5));
  const ports = await bellhop.start({ http: { host: '127.0.0.1', port: 0 }, api: { host: '127.0.0.1', port: 0 } });
  assert.ok(ports.apiPort !== undefined);
  return {
    bellhop,
    httpPort: ports.httpPort,
    apiPort: ports.apiPort,
    async stop() {
      await bellhop.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// The docker CLI: dockerode's exec start keeps its hijacked socket open after the command ends.
function exec(name: string, cmd: string[]): void {
  execFileSync('docker', ['exec', name, ...cmd], { stdio: 'ignore', timeout: 20_000 });
}

async function dockerHealthOf(container: Docker.Container): Promise<string | undefined> {
  return (await container.inspect()).State.Health?.Status;
}

test('a member Docker reports starting or unhealthy gets no traffic through Bellhop', { skip: dockerSkip, timeout: 90_000 }, async (t) => {
  const docker = dockerClient();
  const pool = uniqueName('hcpool');
  const labels = (alias: string): Record<string, string> => ({
    'proxy.aliases': alias,
    [`proxy.${alias}.load_balance.link`]: pool,
    [`proxy.${alias}.healthcheck.interval`]: '300ms',
    [`proxy.${alias}.healthcheck.timeout`]: '300ms',
  });
  const goodName = uniqueName('hc-good');
  const flipName = uniqueName('hc-flip');
  const neverName = uniqueName('hc-never');
  const containers: Docker.Container[] = [];
  t.after(async () => {
    for (const c of containers) await removeQuietly(c);
  });

  // good: no HEALTHCHECK. never: a HEALTHCHECK that always fails (Docker: starting, then unhealthy).
  containers.push(await runHttpd(docker, { name: goodName, body: 'good', labels: labels(goodName) }));
  containers.push(await runHttpd(docker, { name: neverName, body: 'never', labels: labels(neverName), healthcheck: { test: ['CMD', 'false'], intervalMs: 500 } }));
  // flip: starting until /tmp/up exists (a long start period keeps failures from counting),
  // healthy while it does, unhealthy once /tmp/down exists.
  const flip = await docker.createContainer({
    Image: TEST_IMAGE,
    name: flipName,
    Cmd: ['/bin/sh', '-c', "mkdir -p /www && printf flip > /www/index.html && exec httpd -f -p 80 -h /www"],
    Labels: { ...TEST_LABELS, ...labels(flipName) },
    ExposedPorts: { '80/tcp': {} },
    HostConfig: { NetworkMode: 'bridge' },
    Healthcheck: { Test: ['CMD-SHELL', 'test -f /tmp/up && test ! -f /tmp/down'], Interval: 300e6, Timeout: 2e9, Retries: 1, StartPeriod: 120e9 },
  });
  containers.push(flip);
  await flip.start();

  const run = await startBellhop('');
  t.after(() => run.stop());
  const routes = async (): Promise<ApiRoute | undefined> => {
    const r = await get(run.apiPort, '127.0.0.1', '/api/routes');
    return (JSON.parse(r.body) as { routes: ApiRoute[] }).routes.find((x) => x.alias === pool);
  };
  const member = async (name: string): Promise<ApiMember | undefined> => (await routes())?.members.find((m) => m.name === name || m.name.startsWith(name));
  const served = new Map<string, number>();
  const burst = async (n: number): Promise<Map<string, number>> => {
    const by = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const r = await get(run.httpPort, pool);
      const key = r.status === 200 ? r.body : `HTTP ${r.status}`;
      by.set(key, (by.get(key) ?? 0) + 1);
      served.set(key, (served.get(key) ?? 0) + 1);
    }
    return by;
  };

  // Phase 1: flip is Docker-`starting`: only good serves.
  await waitFor(async () => (await member(goodName))?.usable === true, 20_000, 'good to be usable');
  assert.equal(await dockerHealthOf(flip), 'starting');
  const mFlip = await member(flipName);
  assert.ok(mFlip, `flip is a member of ${pool}`);
  assert.equal(mFlip.health, 'starting');
  assert.equal(mFlip.reason, 'docker: starting');
  const phase1 = await burst(20);
  assert.deepEqual([...phase1], [['good', 20]], 'only good serves while flip is starting');

  // Phase 2: Docker says healthy: flip joins the rotation.
  exec(flipName, ['touch', '/tmp/up']);
  await waitFor(async () => (await member(flipName))?.usable === true, 20_000, 'flip to be usable');
  const phase2 = await burst(20);
  assert.ok((phase2.get('flip') ?? 0) > 0, `flip serves once Docker says healthy: ${JSON.stringify([...phase2])}`);

  // Phase 3: Docker says unhealthy; Bellhop's own TCP check still passes. Once Bellhop has seen
  // the status, flip gets nothing.
  exec(flipName, ['touch', '/tmp/down']);
  const t0 = Date.now();
  await waitFor(async () => (await dockerHealthOf(flip)) === 'unhealthy', 20_000, 'Docker to report flip unhealthy');
  const dockerAt = Date.now();
  const out = await waitFor(async () => {
    const m = await member(flipName);
    return m?.health === 'unhealthy' ? m : undefined;
  }, 20_000, 'Bellhop to see flip unhealthy');
  const bellhopAt = Date.now();
  assert.equal(out.usable, false);
  assert.match(out.reason, /docker/);
  const phase3 = await burst(30);
  assert.deepEqual([...phase3], [['good', 30]], 'only good serves once Docker reports flip unhealthy');

  const never = await member(neverName);
  assert.ok(never);
  assert.equal(never.health, 'unhealthy');
  assert.match(never.reason, /docker: unhealthy/);
  assert.equal(served.get('never'), undefined, 'a member Docker never called healthy got no request at all');
  const route = await routes();
  assert.equal(route?.summary, '1/3 members healthy');
  t.diagnostic(`Docker marked flip unhealthy ${dockerAt - t0} ms after /tmp/down; Bellhop saw it within ${bellhopAt - dockerAt} ms (admin API poll)`);
});

test('a pool member container killed mid-stream costs no failed GET and is out until it runs again', { skip: dockerSkip, timeout: 90_000 }, async (t) => {
  const docker = dockerClient();
  const pool = uniqueName('killpool');
  const labels = (alias: string): Record<string, string> => ({
    'proxy.aliases': alias,
    [`proxy.${alias}.load_balance.link`]: pool,
    [`proxy.${alias}.healthcheck.interval`]: '300ms',
    [`proxy.${alias}.healthcheck.timeout`]: '300ms',
  });
  const aName = uniqueName('kill-a');
  const bName = uniqueName('kill-b');
  const containers: Docker.Container[] = [];
  t.after(async () => {
    for (const c of containers) await removeQuietly(c);
  });
  containers.push(await runHttpd(docker, { name: aName, body: 'a', labels: labels(aName) }));
  const b = await runHttpd(docker, { name: bName, body: 'b', labels: labels(bName) });
  containers.push(b);
  const run = await startBellhop('entrypoint: { timeouts: { upstream_connect: 1s, upstream_response: 2s } }');
  t.after(() => run.stop());
  const routes = async (): Promise<ApiRoute | undefined> => {
    const r = await get(run.apiPort, '127.0.0.1', '/api/routes');
    return (JSON.parse(r.body) as { routes: ApiRoute[] }).routes.find((x) => x.alias === pool);
  };
  const member = async (name: string): Promise<ApiMember | undefined> => (await routes())?.members.find((m) => m.name === name || m.name.startsWith(name));
  await waitFor(async () => (await member(aName))?.usable === true && (await member(bName))?.usable === true, 20_000, 'both members usable');

  const agent = new Agent({ keepAlive: true, maxSockets: 10 });
  t.after(() => agent.destroy());
  const out = { ok: 0, failed: [] as string[], by: new Map<string, number>() };
  let stopAt = Number.POSITIVE_INFINITY;
  const loop = async (): Promise<void> => {
    while (Date.now() < stopAt) {
      try {
        const r = await get(run.httpPort, pool, '/', agent);
        if (r.status === 200) {
          out.ok += 1;
          out.by.set(r.body, (out.by.get(r.body) ?? 0) + 1);
        } else out.failed.push(`HTTP ${r.status}: ${r.body.slice(0, 80)}`);
      } catch (err) {
        out.failed.push(`error: ${(err as Error).message}`);
      }
    }
  };
  const clients = Promise.all(Array.from({ length: 10 }, loop));
  await new Promise((r) => setTimeout(r, 1000));
  const killedAt = Date.now();
  await b.kill();
  const down = await waitFor(async () => {
    const m = await member(bName);
    return m?.usable === false ? m : undefined;
  }, 20_000, 'Bellhop to take b out');
  const outAfter = Date.now() - killedAt;
  const fromBBefore = out.by.get('b') ?? 0;
  await new Promise((r) => setTimeout(r, 1000));
  stopAt = 0;
  await clients;
  assert.deepEqual(out.failed, [], `no failed request over ${out.ok + out.failed.length}`);
  assert.ok(fromBBefore > 0, 'b served before it was killed');
  assert.equal(out.by.get('b') ?? 0, fromBBefore, 'nothing from b once it was out');
  assert.equal(down.health, 'unhealthy');
  assert.match(down.reason, /container exited|ejected|ECONN|EHOST|timeout/);

  await b.start();
  await waitFor(async () => (await member(bName))?.usable === true, 20_000, 'b back after a restart');
  const again = new Set<string>();
  for (let i = 0; i < 10; i++) again.add((await get(run.httpPort, pool)).body);
  assert.deepEqual([...again].sort(), ['a', 'b']);
  t.diagnostic(`b out ${outAfter} ms after docker kill (${down.reason}); ${out.ok} requests, 0 failed`);
});

test('a container joining the pool leaves the health of the others alone (no reset on a route change)', { skip: dockerSkip, timeout: 90_000 }, async (t) => {
  const docker = dockerClient();
  const pool = uniqueName('joinpool');
  const labels = (alias: string, path: string): Record<string, string> => ({
    'proxy.aliases': alias,
    [`proxy.${alias}.load_balance.link`]: pool,
    [`proxy.${alias}.healthcheck.path`]: path,
    [`proxy.${alias}.healthcheck.interval`]: '300ms',
    [`proxy.${alias}.healthcheck.timeout`]: '300ms',
  });
  const okName = uniqueName('join-ok');
  const sickName = uniqueName('join-sick');
  const newName = uniqueName('join-new');
  const containers: Docker.Container[] = [];
  t.after(async () => {
    for (const c of containers) await removeQuietly(c);
  });
  containers.push(await runHttpd(docker, { name: okName, body: 'ok', labels: labels(okName, '/') }));
  containers.push(await runHttpd(docker, { name: sickName, body: 'sick', labels: labels(sickName, '/missing') })); // httpd: 404
  const run = await startBellhop('');
  t.after(() => run.stop());
  const idOf = (name: string): string | undefined =>
    run.bellhop.table()?.routes().find((r) => r.name === pool)?.members.find((m) => m.name.startsWith(name))?.id;
  const status = (name: string) => {
    const id = idOf(name);
    return id === undefined ? undefined : run.bellhop.health.status(id);
  };
  await waitFor(() => status(okName)?.health === 'healthy' && status(sickName)?.health === 'unhealthy', 20_000, 'ok healthy, sick unhealthy');
  assert.match(status(sickName)!.reason, /HTTP 404 from \/missing/);
  const transitions: string[] = [];
  const okId = idOf(okName)!;
  const sickId = idOf(sickName)!;
  run.bellhop.health.onChange((id, s) => {
    if (id === okId || id === sickId) transitions.push(`${id === okId ? 'ok' : 'sick'} → ${s.health}`);
  });

  containers.push(await runHttpd(docker, { name: newName, body: 'new', labels: labels(newName, '/') }));
  await waitFor(() => status(newName)?.health === 'healthy', 20_000, 'the new member to be healthy');
  assert.equal(status(sickName)?.health, 'unhealthy');
  assert.equal(status(okName)?.health, 'healthy');
  assert.deepEqual(transitions, [], 'no transition of the members the change did not touch');
  const bodies = new Set<string>();
  for (let i = 0; i < 12; i++) bodies.add((await get(run.httpPort, pool)).body);
  assert.deepEqual([...bodies].sort(), ['new', 'ok']);
});
