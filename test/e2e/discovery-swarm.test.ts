// Docker Swarm services as pools (docs/discovery.md, Docker Swarm), on a real single-node swarm.
//
// Swarm mode changes the engine for every other test, so test/run.ts runs this file alone, after
// everything else (-swarm.test.ts), and the node leaves the swarm again whatever happens.
// Bellhop reaches tasks the way it does in production: it runs in a container on the
// services' attachable overlay network (an in-process Bellhop cannot join an overlay). The
// container is a Node 24 base image assembled from this machine's binaries (nothing can be
// pulled here) running this checkout, mounted read-only.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dockerSkip, TEST_IMAGE, waitFor } from '../support/docker-test.ts';
import type { RoutesView } from '../support/bellhop-harness.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${String(r.status)}): ${r.stderr}${r.stdout}`.slice(0, 4000));
  return r.stdout.trim();
}
const docker = (...args: string[]): string => run('docker', args);

/** Runs a docker command without blocking the event loop (GETs keep flowing meanwhile). */
function dockerAsync(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`docker ${args.join(' ')} failed (${String(code)}): ${out.slice(0, 2000)}`))));
  });
}

function swarmState(): string {
  return spawnSync('docker', ['info', '--format', '{{.Swarm.LocalNodeState}}'], { encoding: 'utf8' }).stdout.trim();
}

/** Node 24 alone (plus the libraries ldd lists): enough to run Bellhop from a mounted checkout. */
function nodeImage(): string {
  const tag = 'bellhop-test/node24-run:1';
  if (spawnSync('docker', ['image', 'inspect', tag], { stdio: 'ignore' }).status === 0) return tag;
  const node = realpathSync(join(ROOT, 'node_modules/node/bin/node'));
  const rootfs = mkdtempSync(join(tmpdir(), 'bellhop-swarm-rootfs-'));
  try {
    for (const d of ['tmp', 'etc', 'usr/local/bin']) mkdirSync(join(rootfs, d), { recursive: true });
    chmodSync(join(rootfs, 'tmp'), 0o1777);
    writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    copyFileSync(node, join(rootfs, 'usr/local/bin/node'));
    for (const lib of run('ldd', [node]).match(/\/\S+/g) ?? []) {
      mkdirSync(join(rootfs, dirname(lib)), { recursive: true });
      copyFileSync(realpathSync(lib), join(rootfs, lib));
    }
    const r = spawnSync('sh', ['-c', 'tar -C "$1" -c . | docker import -c "ENV PATH=/usr/local/bin" - "$2"', 'sh', rootfs, tag], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`docker import failed: ${r.stderr}`);
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
  return tag;
}

function get(port: number, host: string, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, headers: { host, accept: '*/*' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.setTimeout(20_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const skip = dockerSkip !== false ? dockerSkip : swarmState() !== 'inactive' ? `the engine is already in swarm mode (${swarmState()}); not touching it` : false;

describe('Docker Swarm services as pools', { skip, timeout: 150_000 }, () => {
  const id = `${String(process.pid)}${Math.random().toString(36).slice(2, 6)}`;
  const network = `bh-swarm-${id}`;
  const service = `bhweb${id}`;
  const app = `bh-swarm-app-${id}`;
  const alias = `swarm-${id}.test`;
  const cfgDir = mkdtempSync(join(tmpdir(), 'bellhop-swarm-cfg-'));
  let joined = false;
  let httpPort = 0;
  let apiPort = 0;

  const leave = (): void => {
    if (!joined) return;
    joined = false;
    spawnSync('docker', ['rm', '-f', app], { stdio: 'ignore' });
    spawnSync('docker', ['service', 'rm', service], { stdio: 'ignore' });
    spawnSync('docker', ['swarm', 'leave', '--force'], { stdio: 'ignore' });
    spawnSync('docker', ['network', 'rm', network], { stdio: 'ignore' });
  };
  // Even if the runner is killed mid-test, the engine must not stay a swarm manager.
  process.on('exit', leave);

  async function routes(): Promise<RoutesView> {
    const r = await get(apiPort, 'localhost', '/api/routes');
    return JSON.parse(r.body) as RoutesView;
  }
  async function memberNames(): Promise<string[]> {
    const route = (await routes()).routes.find((r) => r.hosts.includes(alias) || r.alias === alias);
    return (route?.members ?? []).filter((m) => m.usable).map((m) => m.name).sort();
  }
  async function waitMembers(want: string[], what: string): Promise<void> {
    let last: string[] = [];
    try {
      await waitFor(async () => {
        last = await memberNames().catch(() => []);
        return JSON.stringify(last) === JSON.stringify(want) ? true : undefined;
      }, 60_000, what);
    } catch (err) {
      throw new Error(`${(err as Error).message}; members ${JSON.stringify(last)}; logs:\n${spawnSync('docker', ['logs', '--tail', '30', app], { encoding: 'utf8' }).stdout}`, { cause: err });
    }
  }

  before(() => {
    const image = nodeImage();
    docker('swarm', 'init', '--advertise-addr', '127.0.0.1');
    joined = true;
    docker('network', 'create', '-d', 'overlay', '--attachable', network);
    writeFileSync(join(cfgDir, 'config.yml'), [
      'entrypoint: { http: "0.0.0.0:8080" }',
      'api: { listen: "0.0.0.0:8081" }',
      `docker: { swarm: true, label_filter: ["bellhop.test.owner=${id}"] }`,
      'sticky: { secret_file: /tmp/sticky.key }',
      'log_level: info',
      '',
    ].join('\n'));
    // httpd answers with the task's slot, so the members can be told apart.
    docker('service', 'create', '-d', '--name', service, '--replicas', '2', '--network', network,
      '--label', 'bellhop.test=true', '--label', `bellhop.test.owner=${id}`, '--label', `proxy.aliases=${alias}`, '--label', 'proxy.#1.port=80',
      '--hostname', '{{.Service.Name}}.{{.Task.Slot}}', '--stop-grace-period', '2s',
      TEST_IMAGE, 'sh', '-c', 'hostname > /www/who && exec httpd -f -p 80 -h /www');
    docker('run', '-d', '--name', app, '--label', 'bellhop.test=true', '--network', network, '-p', '127.0.0.1::8080', '-p', '127.0.0.1::8081',
      '-v', '/var/run/docker.sock:/var/run/docker.sock', '-v', `${ROOT}:/app:ro`, '-v', `${cfgDir}:/cfg:ro`,
      '-e', 'BELLHOP_CONFIG=/cfg/config.yml', '-w', '/app', image, 'node', 'cmd/bellhop/main.ts');
    const port = (p: string): number => Number(/:(\d+)$/.exec(docker('port', app, p).split('\n')[0] ?? '')?.[1]);
    httpPort = port('8080/tcp');
    apiPort = port('8081/tcp');
  });

  after(() => {
    leave();
    rmSync(cfgDir, { recursive: true, force: true });
    assert.equal(swarmState(), 'inactive', 'the node left the swarm');
  });

  test('a labelled service with 2 replicas is one route with members <service>.1 and <service>.2', async () => {
    await waitMembers([`${service}.1`, `${service}.2`], 'two task members');
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const r = await get(httpPort, alias, '/who');
      assert.equal(r.status, 200);
      seen.add(r.body.trim());
    }
    assert.deepEqual([...seen].sort(), [`${service}.1`, `${service}.2`], 'both tasks answer');
    const view = await routes();
    assert.equal(view.routes.filter((r) => r.hosts.includes(alias)).length, 1, 'one route for the service');
    assert.equal(view.routes.some((r) => r.members.some((m) => m.name.startsWith(`${service}.`) && !r.hosts.includes(alias))), false, 'task containers are not routes of their own');
  });

  test('scaling to 3 and back to 1: the members follow', async () => {
    await dockerAsync('service', 'scale', '-d', `${service}=3`);
    await waitMembers([`${service}.1`, `${service}.2`, `${service}.3`], 'three members');
    await dockerAsync('service', 'scale', '-d', `${service}=1`);
    await waitMembers([`${service}.1`], 'one member');
    const r = await get(httpPort, alias, '/who');
    assert.equal(r.status, 200);
    assert.equal(r.body.trim(), `${service}.1`);
  });

  test('a start-first rolling update under load: no failed GET, no 404', async () => {
    const failures: string[] = [];
    let ok = 0;
    let done = false;
    const loop = async (): Promise<void> => {
      while (!done) {
        try {
          const r = await get(httpPort, alias, '/who');
          if (r.status === 200) ok++;
          else failures.push(`${String(r.status)} ${r.body.slice(0, 100)}`);
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    };
    const loops = [loop(), loop(), loop(), loop()];
    try {
      for (const n of [1, 2]) {
        await dockerAsync('service', 'update', '--detach=false', '--quiet', '--update-order', 'start-first', '--update-delay', '0s', '--env-add', `ROLL=${String(n)}`, service);
      }
    } finally {
      done = true;
      await Promise.all(loops);
    }
    assert.deepEqual(failures.slice(0, 5), [], `${String(failures.length)} failed GETs of ${String(ok + failures.length)}`);
    assert.ok(ok > 0);
    await waitMembers([`${service}.1`], 'the updated task');
  });
});
