// Docker Swarm services as pools (docs/discovery.md, Docker Swarm), on a real single-node swarm.
//
// Swarm mode changes the engine for every other test, so test/run.ts runs this file alone, after
// everything else (-swarm.test.ts), and the node leaves the swarm again whatever happens.
// Bellhop reaches tasks the way it does in production: it runs as a swarm service (one task on the
// manager, as deploy/stack.example.yml runs it) on the
// services' attachable overlay network (an in-process Bellhop cannot join an overlay), and it
// reaches Docker only through the shipped socket proxy (deploy/socket-proxy/haproxy.cfg, run by
// this machine's haproxy with BELLHOP_SWARM_WAKE set, as deploy/stack.example.yml runs it) over
// a unix socket mounted into the container. The container is a Node 24 base image assembled from
// this machine's binaries (nothing can be pulled here) running this checkout, mounted read-only.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse, stringify } from 'yaml';
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

/** deploy/stack.example.yml's `sleepy` service, made runnable here (see its use). */
function exampleSleepy(id: string, network: string): object {
  const example = parse(readFileSync(join(ROOT, 'deploy/stack.example.yml'), 'utf8')) as { services: Record<string, { deploy: { replicas: number; labels: Record<string, string> } }> };
  const sleepy = example.services['sleepy'];
  assert.ok(sleepy?.deploy.labels['proxy.idle_timeout'], 'the example has a sleeping service');
  return {
    services: {
      sleepy: {
        image: TEST_IMAGE,
        command: ['sh', '-c', 'hostname > /www/who && exec httpd -f -p 80 -h /www'],
        hostname: '{{.Service.Name}}.{{.Task.Slot}}',
        stop_grace_period: '2s',
        networks: ['net'],
        deploy: {
          ...sleepy.deploy,
          labels: { ...sleepy.deploy.labels, 'bellhop.test': 'true', 'bellhop.test.owner': id, 'proxy.idle_timeout': '3s', 'proxy.stop_timeout': '2s', 'proxy.sleepy.healthcheck.path': '/who' },
        },
      },
    },
    networks: { net: { external: true, name: network } },
  };
}

/** A worktree's node_modules may be a symlink to another checkout's: mount that at its own path too. */
function linkedModules(): string[] {
  const real = realpathSync(join(ROOT, 'node_modules'));
  return real === join(ROOT, 'node_modules') ? [] : [real];
}

function get(port: number, host: string, path = '/', accept = '*/*'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, headers: { host, accept } }, (res) => {
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

const haproxyMissing = spawnSync('haproxy', ['-v']).status === 0 ? false : 'haproxy is not installed (apt-get install haproxy)';
// .ci/run installs haproxy: in CI its absence fails the suite (in `before`) instead of skipping it.
const skip = dockerSkip !== false ? dockerSkip
  : swarmState() !== 'inactive' ? `the engine is already in swarm mode (${swarmState()}); not touching it`
  : process.env['CI'] ? false : haproxyMissing;

/** The shipped socket proxy config, listening in `dir` instead of /run/docker-proxy. */
function socketProxyConfig(dir: string): string {
  const shipped = readFileSync(join(ROOT, 'deploy/socket-proxy/haproxy.cfg'), 'utf8');
  assert.match(shipped, /bind \/run\/docker-proxy\/docker\.sock mode 666/);
  assert.match(shipped, /^\.if defined\(BELLHOP_SWARM_WAKE\)$/m);
  writeFileSync(join(dir, 'haproxy.cfg'), shipped.replace('bind /run/docker-proxy/docker.sock', `bind ${join(dir, 'docker.sock')}`).replace(/^\s*log stdout.*$/m, ''));
  return join(dir, 'haproxy.cfg');
}

describe('Docker Swarm services as pools', { skip, timeout: 240_000 }, () => {
  const id = `${String(process.pid)}${Math.random().toString(36).slice(2, 6)}`;
  const network = `bh-swarm-${id}`;
  const service = `bhweb${id}`;
  // The sleeping service comes from deploy/stack.example.yml through `docker stack deploy`.
  const stackName = `bhs${id}`;
  const sleepy = `${stackName}_sleepy`;
  const app = `bh-swarm-app-${id}`;
  const alias = `swarm-${id}.test`;
  const sleepyAlias = 'sleepy'; // the example's own alias (this Bellhop sees only this run's services)
  const cfgDir = mkdtempSync(join(tmpdir(), 'bellhop-swarm-cfg-'));
  const proxyDir = mkdtempSync(join(tmpdir(), 'bellhop-swarm-proxy-'));
  chmodSync(proxyDir, 0o755);
  let haproxy: ChildProcess | undefined;
  let joined = false;
  const gwbridgeBefore = spawnSync('docker', ['network', 'inspect', 'docker_gwbridge'], { stdio: 'ignore' }).status === 0;
  let httpPort = 0;
  let apiPort = 0;

  const leave = (): void => {
    haproxy?.kill('SIGTERM');
    haproxy = undefined;
    if (!joined) return;
    joined = false;
    spawnSync('docker', ['service', 'rm', app], { stdio: 'ignore' });
    spawnSync('docker', ['stack', 'rm', stackName], { stdio: 'ignore' });
    spawnSync('docker', ['service', 'rm', service, sleepy], { stdio: 'ignore' });
    spawnSync('docker', ['swarm', 'leave', '--force'], { stdio: 'ignore' });
    spawnSync('docker', ['network', 'rm', network], { stdio: 'ignore' });
    // swarm init creates the docker_gwbridge network and leaving keeps it: ours to remove.
    if (!gwbridgeBefore) spawnSync('docker', ['network', 'rm', 'docker_gwbridge'], { stdio: 'ignore' });
  };
  // Even if the runner is killed mid-test, the engine must not stay a swarm manager.
  process.on('exit', leave);

  /** Bellhop's running task container (it is a swarm service, as in deploy/stack.example.yml). */
  const appContainer = (): string => docker('ps', '-q', '--filter', `label=com.docker.swarm.service.name=${app}`, '--filter', 'status=running').split('\n')[0] ?? '';
  const port = (ctr: string, p: string): number => Number(/:(\d+)$/.exec(docker('port', ctr, p).split('\n')[0] ?? '')?.[1]);
  /** Waits for a running Bellhop task other than `old`, and reads its host-mode ports. */
  const readPorts = async (old = ''): Promise<void> => {
    const ctr = await waitFor(() => {
      const c = appContainer();
      return c !== '' && c !== old ? c : undefined;
    }, 60_000, 'a running Bellhop task');
    httpPort = port(ctr, '8080/tcp');
    apiPort = port(ctr, '8081/tcp');
  };
  const appLogs = (): string => {
    const r = spawnSync('docker', ['service', 'logs', '--raw', app], { encoding: 'utf8' });
    return r.stdout + r.stderr;
  };
  const inspectService = (name: string): { replicas: number; label: string } => {
    const [replicas, label] = docker('service', 'inspect', '--format', '{{.Spec.Mode.Replicated.Replicas}} {{index .Spec.Labels "bellhop.replicas"}}', name).split(' ');
    return { replicas: Number(replicas), label: label === '<no value>' ? '' : (label ?? '') };
  };
  const runningTasks = (name: string): number => docker('service', 'ps', '--filter', 'desired-state=running', '--format', '{{.CurrentState}}', name).split('\n').filter((l) => l.startsWith('Running')).length;

  async function routes(): Promise<RoutesView> {
    const r = await get(apiPort, 'localhost', '/api/routes');
    return JSON.parse(r.body) as RoutesView;
  }
  async function memberNames(host = alias): Promise<string[]> {
    const route = (await routes()).routes.find((r) => r.hosts.includes(host) || r.alias === host);
    return (route?.members ?? []).filter((m) => m.usable).map((m) => m.name).sort();
  }
  async function waitMembers(want: string[], what: string, host = alias): Promise<void> {
    let last: string[] = [];
    try {
      await waitFor(async () => {
        last = await memberNames(host).catch(() => []);
        return JSON.stringify(last) === JSON.stringify(want) ? true : undefined;
      }, 60_000, what);
    } catch (err) {
      throw new Error(`${(err as Error).message}; members ${JSON.stringify(last)}; logs:\n${appLogs().split('\n').slice(-30).join('\n')}`, { cause: err });
    }
  }

  before(async () => {
    if (haproxyMissing !== false) throw new Error(haproxyMissing);
    const image = nodeImage();
    haproxy = spawn('haproxy', ['-db', '-f', socketProxyConfig(proxyDir)], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, BELLHOP_SWARM_WAKE: '1' } });
    let haproxyErr = '';
    haproxy.stderr?.on('data', (c: Buffer) => (haproxyErr += c.toString()));
    haproxy.on('error', () => undefined);
    await waitFor(() => (existsSync(join(proxyDir, 'docker.sock')) ? true : undefined), 10_000, `haproxy socket (${haproxyErr})`);
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
    const common = ['--network', network, '--label', 'bellhop.test=true', '--label', `bellhop.test.owner=${id}`,
      '--hostname', '{{.Service.Name}}.{{.Task.Slot}}', '--stop-grace-period', '2s'];
    const httpd = [TEST_IMAGE, 'sh', '-c', 'hostname > /www/who && exec httpd -f -p 80 -h /www'];
    docker('service', 'create', '-d', '--name', service, '--replicas', '2', ...common, '--label', `proxy.aliases=${alias}`, '--label', 'proxy.#1.port=80', ...httpd);
    // The example stack's `sleepy` service as `docker stack deploy` deploys it: its deploy.labels
    // as shipped, plus this run's owner label and a 3 s idle_timeout (it is asleep at 0 replicas
    // by the time the tests below are done with the other service); the local test image serving
    // its slot; the test's overlay network.
    writeFileSync(join(cfgDir, 'stack.yml'), stringify(exampleSleepy(id, network)));
    docker('stack', 'deploy', '--detach=true', '--resolve-image', 'never', '-c', join(cfgDir, 'stack.yml'), stackName);
    // Bellhop itself as a swarm service on the manager, as deploy/stack.example.yml runs it: one
    // replica, host-mode ports (here on free ports), the socket proxy's socket mounted in.
    const bind = (src: string, dst: string, ro = true): string[] => ['--mount', `type=bind,source=${src},target=${dst}${ro ? ',readonly' : ''}`];
    docker('service', 'create', '-d', '--name', app, '--label', 'bellhop.test=true', '--container-label', 'bellhop.test=true', '--network', network,
      '--constraint', 'node.role==manager', '--replicas', '1', '--stop-grace-period', '5s',
      '--publish', 'mode=host,target=8080', '--publish', 'mode=host,target=8081',
      ...bind(proxyDir, '/run/docker-proxy', false), '--env', 'DOCKER_HOST=unix:///run/docker-proxy/docker.sock',
      ...bind(ROOT, '/app'), ...bind(cfgDir, '/cfg'), ...linkedModules().flatMap((m) => bind(m, m)),
      '--env', 'BELLHOP_CONFIG=/cfg/config.yml', '--workdir', '/app', image, 'node', 'cmd/bellhop/main.ts');
    await readPorts();
  });

  after(() => {
    leave();
    rmSync(cfgDir, { recursive: true, force: true });
    rmSync(proxyDir, { recursive: true, force: true });
    assert.equal(swarmState(), 'inactive', 'the node left the swarm');
    assert.equal(spawnSync('docker', ['network', 'ls', '-q', '--filter', `name=${network}`], { encoding: 'utf8' }).stdout.trim(), '', 'no overlay network left behind');
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

  test('a start-first rolling update under load: no failed GET, no 404', async (t) => {
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
    t.diagnostic(`${String(ok)} GETs answered 200 during two rolling updates, ${String(failures.length)} failed`);
    assert.deepEqual(failures.slice(0, 5), [], `${String(failures.length)} failed GETs of ${String(ok + failures.length)}`);
    assert.ok(ok > 0);
    await waitMembers([`${service}.1`], 'the updated task');
  });

  test('scale to zero when idle and back on the next request, remembered across a Bellhop restart (loading page for browsers, API clients held)', async (t) => {
    // Asleep: scaled to 0 with the count in its label, its tasks gone, its route still there.
    await waitFor(() => {
      const s = inspectService(sleepy);
      return s.replicas === 0 && s.label === '2' && runningTasks(sleepy) === 0 ? true : undefined;
    }, 60_000, 'the idle service scaled to 0');
    // Bellhop restarts while the service sleeps: the count to wake to lives in the service.
    const before = appContainer();
    docker('service', 'update', '-d', '--force', app);
    await readPorts(before);
    await waitFor(async () => {
      const route = (await routes().catch(() => undefined))?.routes.find((r) => r.hosts.includes(sleepyAlias));
      return route?.members.length === 1 && route.members[0]?.name === sleepy ? true : undefined;
    }, 60_000, 'the restarted Bellhop lists the sleeping service');
    const page = await get(httpPort, sleepyAlias, '/', 'text/html');
    assert.equal(page.status, 200);
    assert.match(page.body, new RegExp(`Waking ${sleepy}`), 'a browser gets the loading page');
    // API clients are held until a task is ready, then answered by it: no failure, no 404.
    const answers = await Promise.all(Array.from({ length: 8 }, () => get(httpPort, sleepyAlias, '/who')));
    for (const a of answers) {
      assert.equal(a.status, 200, a.body.slice(0, 200));
      assert.match(a.body.trim(), new RegExp(`^${sleepy}\\.[12]$`));
    }
    assert.deepEqual(inspectService(sleepy), { replicas: 2, label: '' }, 'back to 2 replicas, the label gone');
    await waitMembers([`${sleepy}.1`, `${sleepy}.2`], 'both tasks of the woken service', sleepyAlias);
    const logs = appLogs();
    assert.match(logs, /swarm service scaled up/);
    const awake = /"ms":(\d+)[^\n]*"msg":"container is awake"/.exec(logs);
    t.diagnostic(`wake of the 2-replica service (scale-up to the first task ready): ${awake?.[1] ?? '?'} ms`);
  });
});
