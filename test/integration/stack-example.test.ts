// deploy/stack.example.yml, the `docker stack deploy` example: Docker's own stack loader accepts
// it, and its services' deploy.labels, turned into the swarm services and tasks Docker would
// report (stack namespace "bellhop"), go through the live discovery path (toSwarmRecords, the
// label parser, the route table) with no error: the routes and pools the comments promise.
// The live proof of the same shape (Bellhop in a container on the overlay, behind the shipped
// socket proxy, services scaled to 0 and back) is test/e2e/discovery-swarm.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { defaultHealthcheck, defaultLoadBalance, loadConfig } from '../../internal/config/index.ts';
import { toSwarmRecords, type SwarmServiceJson, type SwarmTaskJson } from '../../internal/docker/index.ts';
import { parseContainers } from '../../internal/labels/index.ts';
import { buildRouteTable } from '../../internal/routes/index.ts';
import { dockerSkip } from '../support/docker-test.ts';

const FILE = new URL('../../deploy/stack.example.yml', import.meta.url);
const STACK = 'bellhop';

interface StackService {
  image: string;
  user?: string;
  environment?: Record<string, string>;
  labels?: Record<string, string> | string[];
  networks?: string[];
  volumes?: string[];
  configs?: Array<{ source: string; target: string }>;
  deploy?: { mode?: string; replicas?: number; labels?: Record<string, string>; placement?: { constraints?: string[] } };
}
interface Stack {
  services: Record<string, StackService>;
  networks: Record<string, { driver?: string; attachable?: boolean; internal?: boolean }>;
  configs: Record<string, { file: string }>;
}

const stack = parse(readFileSync(FILE, 'utf8')) as Stack;

/** What GET /services and GET /tasks would say once the stack runs (all tasks up, or none). */
function swarmOf(running: boolean): { services: SwarmServiceJson[]; tasks: SwarmTaskJson[] } {
  const services: SwarmServiceJson[] = [];
  const tasks: SwarmTaskJson[] = [];
  let ip = 2;
  for (const [name, svc] of Object.entries(stack.services)) {
    const global = svc.deploy?.mode === 'global';
    const replicas = global ? 1 : svc.deploy?.replicas ?? 1;
    const id = `svc-${name}`;
    services.push({
      ID: id,
      Spec: {
        Name: `${STACK}_${name}`,
        Labels: { ...(svc.deploy?.labels ?? {}), 'com.docker.stack.namespace': STACK },
        TaskTemplate: { ContainerSpec: { Image: svc.image } },
        Mode: global ? { Global: {} } : { Replicated: { Replicas: running ? replicas : 0 } },
      },
    });
    if (!running) continue;
    for (let slot = 1; slot <= replicas; slot++) {
      tasks.push({
        ID: `task-${name}-${String(slot)}`,
        ServiceID: id,
        ...(global ? {} : { Slot: slot }),
        NodeID: 'node1',
        DesiredState: 'running',
        Status: { State: 'running' },
        NetworksAttachments: (svc.networks ?? []).map((n) => ({ Network: { Spec: { Name: `${STACK}_${n}` } }, Addresses: [`10.0.1.${String(ip++)}/24`] })),
      });
    }
  }
  return { services, tasks };
}

function routesOf(running: boolean) {
  const loaded = loadConfig({ env: {}, cwd: '/nonexistent' });
  if (!loaded.ok) throw new Error('default config');
  const { services, tasks } = swarmOf(running);
  const records = toSwarmRecords(services, tasks, 'unix:///run/docker-proxy/docker.sock');
  const parsed = parseContainers(records, {
    exposeAll: loaded.config.docker.exposeAll,
    self: { networks: (stack.services['bellhop']?.networks ?? []).map((n) => `${STACK}_${n}`) },
    defaults: { healthcheck: defaultHealthcheck(loaded.config), loadBalance: defaultLoadBalance(loaded.config) },
  });
  const built = buildRouteTable(parsed.routes, { matchDomains: [] });
  return { errors: [...parsed.errors, ...built.errors], warnings: parsed.warnings, routes: built.table.routes() };
}

test('its deploy.labels make the promised routes: a sticky pool of two tasks named <service>.<slot>, a sleeping service; no errors', () => {
  const { errors, warnings, routes } = routesOf(true);
  assert.deepEqual(errors, []);
  assert.deepEqual(warnings, []);
  assert.deepEqual(routes.map((r) => r.name).sort(), ['sleepy', 'whoami'], 'Bellhop and the socket proxy carry no proxy labels: no route of their own');
  const whoami = routes.find((r) => r.name === 'whoami')!;
  assert.deepEqual(whoami.members.map((m) => m.name), ['bellhop_whoami.1', 'bellhop_whoami.2']);
  assert.equal(whoami.loadBalance.sticky, true);
  for (const m of whoami.members) {
    assert.match(m.url, /^http:\/\/10\.0\.1\.\d+:80$/, 'reached at its overlay address');
    assert.equal(m.healthcheck.path, '/health');
  }
  const sleepy = routes.find((r) => r.name === 'sleepy')!;
  assert.deepEqual(sleepy.members.map((m) => [m.name, m.container?.idle?.idleTimeoutMs]), [['bellhop_sleepy.1', 600_000], ['bellhop_sleepy.2', 600_000]]);
});

test('asleep at 0 replicas, the sleeping service keeps its route (one address-less member to wake)', () => {
  const { errors, routes } = routesOf(false);
  assert.deepEqual(errors, []);
  const sleepy = routes.find((r) => r.name === 'sleepy')!;
  assert.deepEqual(sleepy.members.map((m) => [m.name, m.url, m.container?.state]), [['bellhop_sleepy', '', 'exited']]);
});

test('the wiring: one Bellhop on a manager behind a socket proxy on every manager that may scale services; labels only under deploy', () => {
  const { bellhop, 'socket-proxy': proxy } = stack.services;
  assert.ok(bellhop && proxy);
  assert.equal(bellhop.deploy?.replicas, 1, 'one Bellhop: two would each see half of the traffic and scale services down under the other');
  assert.deepEqual(bellhop.deploy?.placement?.constraints, ['node.role == manager']);
  assert.equal(proxy.deploy?.mode, 'global');
  assert.deepEqual(proxy.deploy?.placement?.constraints, ['node.role == manager']);
  // Bellhop talks to the proxy's unix socket, in the volume both mount.
  assert.equal(bellhop.environment?.['DOCKER_HOST'], 'unix:///run/docker-proxy/docker.sock');
  assert.ok(bellhop.volumes?.includes('docker-proxy:/run/docker-proxy:ro'));
  assert.ok(proxy.volumes?.includes('docker-proxy:/run/docker-proxy'));
  assert.ok(proxy.volumes?.includes('/var/run/docker.sock:/var/run/docker.sock:ro'));
  // The shipped proxy config, with scaling allowed.
  assert.equal(proxy.environment?.['BELLHOP_SWARM_WAKE'], '1');
  const cfg = proxy.configs?.[0];
  assert.equal(cfg?.target, '/usr/local/etc/haproxy/haproxy.cfg');
  const file = new URL(stack.configs[cfg.source]?.file ?? '', FILE);
  assert.ok(existsSync(file), `${file.pathname} exists`);
  assert.match(readFileSync(file, 'utf8'), /^\.if defined\(BELLHOP_SWARM_WAKE\)$/m);
  // Every labelled service shares an overlay network with Bellhop; none has proxy.* labels on its containers.
  assert.equal(stack.networks['web']?.driver, 'overlay');
  for (const [name, svc] of Object.entries(stack.services)) {
    const top = Array.isArray(svc.labels) ? svc.labels : Object.keys(svc.labels ?? {});
    assert.equal(top.some((l) => l.startsWith('proxy.')), false, `${name}: proxy labels belong under deploy.labels`);
    if (svc.deploy?.labels === undefined) continue;
    assert.ok(svc.networks?.some((n) => bellhop.networks?.includes(n)), `${name} shares a network with Bellhop`);
  }
});

test('Docker\'s stack loader accepts it (docker stack config)', { skip: dockerSkip }, () => {
  const r = spawnSync('docker', ['stack', 'config', '-c', FILE.pathname], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const resolved = parse(r.stdout) as Stack;
  assert.deepEqual(Object.keys(resolved.services).sort(), ['bellhop', 'sleepy', 'socket-proxy', 'whoami']);
  assert.deepEqual(resolved.services['sleepy']?.deploy?.labels, stack.services['sleepy']?.deploy?.labels);
  assert.ok(existsSync(resolved.configs['socket-proxy']?.file ?? ''), 'the proxy config path resolves next to the stack file');
});
