// SwarmServiceControl against a fake Engine API on a unix socket: the replica count is kept in the
// `bellhop.replicas` service label, the whole spec is posted back at the version read, a
// concurrent update is retried once, scale-down waits for the tasks to stop.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { REPLICAS_LABEL, SwarmServiceControl, wakeReplicas } from './swarm-control.ts';

interface FakeService {
  ID: string;
  Version: { Index: number };
  Spec: { Name: string; Labels?: Record<string, string>; Mode: { Replicated?: { Replicas: number }; Global?: object }; TaskTemplate: { ContainerSpec: { Image: string; Env: string[] } } };
  PreviousSpec?: { Mode: { Replicated?: { Replicas: number } } };
}

async function fakeSwarm(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'bellhop-swarm-api-'));
  const socketPath = join(dir, 'docker.sock');
  const state = {
    service: {
      ID: 'svc1',
      Version: { Index: 10 },
      Spec: { Name: 'web', Labels: { 'proxy.aliases': 'web' }, Mode: { Replicated: { Replicas: 3 } }, TaskTemplate: { ContainerSpec: { Image: 'app:1', Env: ['A=1'] } } },
    } as FakeService,
    /** Tasks still running after a scale-down, for this many task listings. */
    lingering: 0,
    /** Bump the version behind the client's back before the next update (a concurrent update). */
    raceOnce: false,
    updates: [] as Array<{ version: string | null; body: FakeService['Spec'] }>,
    paths: [] as string[],
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://docker');
    const path = url.pathname.replace(/^\/v1\.\d+/, '');
    state.paths.push(`${req.method ?? ''} ${path}`);
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const json = (status: number, value: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      };
      if (path === '/services/svc1' && req.method === 'GET') return json(200, state.service);
      if (path === '/services/svc1/update' && req.method === 'POST') {
        if (state.raceOnce) {
          state.raceOnce = false;
          state.service.Version.Index++;
        }
        const version = url.searchParams.get('version');
        if (Number(version) !== state.service.Version.Index) return json(500, { message: 'rpc error: code = Unknown desc = update out of sequence' });
        const spec = JSON.parse(body) as FakeService['Spec'];
        state.updates.push({ version, body: spec });
        state.service = { ...state.service, Version: { Index: state.service.Version.Index + 1 }, PreviousSpec: { Mode: state.service.Spec.Mode }, Spec: spec };
        if (spec.Mode.Replicated?.Replicas === 0) state.lingering = 2;
        return json(200, { Warnings: null });
      }
      if (path === '/services/nope' || path === '/services/nope/update') return json(404, { message: 'service nope not found' });
      if (path === '/tasks') {
        const filters = JSON.parse(url.searchParams.get('filters') ?? '{}') as { service?: string[] };
        assert.deepEqual(filters.service, ['svc1']);
        const n = state.service.Spec.Mode.Replicated?.Replicas ?? 0;
        const running = n > 0 ? n : state.lingering > 0 ? (state.lingering--, 1) : 0;
        return json(200, Array.from({ length: running }, (_, i) => ({ ID: `t${String(i + 1)}`, ServiceID: 'svc1', Slot: i + 1, Status: { State: 'running' } })));
      }
      if (path === '/services/svc1/logs') {
        const frame = (type: number, text: string): Buffer => {
          const head = Buffer.alloc(8);
          head[0] = type;
          head.writeUInt32BE(Buffer.byteLength(text), 4);
          return Buffer.concat([head, Buffer.from(text)]);
        };
        res.writeHead(200, { 'content-type': 'application/vnd.docker.multiplexed-stream' });
        return res.end(Buffer.concat([frame(1, 'web.1 | booting\n'), frame(2, 'web.1 | fatal: no config\n'), frame(1, 'web.2 | bye\n')]));
      }
      return json(404, { message: `unexpected ${req.method ?? ''} ${path}` });
    });
  });
  await new Promise<void>((r) => server.listen(socketPath, r));
  t.after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });
  const control = new SwarmServiceControl({ host: 'unix:///fake.sock', docker: new Docker({ socketPath }), callTimeoutMs: 2_000, pollMs: 5 });
  return { state, control };
}

test('scale-down remembers the count in bellhop.replicas, keeps the rest of the spec, and waits for the tasks to stop', async (t) => {
  const { state, control } = await fakeSwarm(t);
  await control.scaleDown('svc1', { waitMs: 5_000 });
  assert.equal(state.updates.length, 1);
  const sent = state.updates[0]!;
  assert.equal(sent.version, '10', 'posted at the version read');
  assert.deepEqual(sent.body.Mode, { Replicated: { Replicas: 0 } });
  assert.deepEqual(sent.body.Labels, { 'proxy.aliases': 'web', [REPLICAS_LABEL]: '3' });
  assert.deepEqual(sent.body.TaskTemplate, { ContainerSpec: { Image: 'app:1', Env: ['A=1'] } }, 'the task template is untouched: nothing restarts');
  assert.equal(state.lingering, 0, 'listed tasks until none ran');
  // Already at 0: nothing posted.
  await control.scaleDown('svc1', { waitMs: 5_000 });
  assert.equal(state.updates.length, 1);
  const snap = await control.inspect('svc1');
  assert.equal(snap.service.Spec?.Labels?.[REPLICAS_LABEL], '3');
  assert.deepEqual(snap.tasks, []);
});

test('scale-up goes back to the remembered count and drops the label; already up: nothing posted', async (t) => {
  const { state, control } = await fakeSwarm(t);
  await control.scaleDown('svc1', { waitMs: 5_000 });
  await control.scaleUp('svc1');
  assert.equal(state.updates.length, 2);
  assert.deepEqual(state.updates[1]!.body.Mode, { Replicated: { Replicas: 3 } });
  assert.deepEqual(state.updates[1]!.body.Labels, { 'proxy.aliases': 'web' });
  await control.scaleUp('svc1');
  assert.equal(state.updates.length, 2);
  assert.equal((await control.inspect('svc1')).tasks.length, 3);
});

test('an update between our read and our post ("update out of sequence") is retried once on a fresh read', async (t) => {
  const { state, control } = await fakeSwarm(t);
  state.raceOnce = true;
  await control.scaleDown('svc1', { waitMs: 5_000 });
  assert.equal(state.updates.length, 1);
  assert.equal(state.updates[0]!.version, '11');
  assert.equal(state.paths.filter((p) => p === 'POST /services/svc1/update').length, 2);
});

test('wakeReplicas: the label, else the previous spec, else 1; a global service cannot be scaled', async (t) => {
  assert.equal(wakeReplicas({ ID: 'a', Spec: { Labels: { [REPLICAS_LABEL]: '4' } } }), 4);
  assert.equal(wakeReplicas({ ID: 'a', Spec: { Labels: { [REPLICAS_LABEL]: 'x' } }, PreviousSpec: { Mode: { Replicated: { Replicas: 2 } } } }), 2);
  assert.equal(wakeReplicas({ ID: 'a', PreviousSpec: { Mode: { Replicated: { Replicas: 0 } } } }), 1);
  assert.equal(wakeReplicas({ ID: 'a' }), 1);
  const { state, control } = await fakeSwarm(t);
  state.service.Spec.Mode = { Global: {} };
  await assert.rejects(control.scaleDown('svc1', { waitMs: 100 }), /not replicated \(mode global\)/);
  assert.equal(state.updates.length, 0);
});

test('logsTail demultiplexes the service logs; an unknown service is DOCKER_NOT_FOUND', async (t) => {
  const { state, control } = await fakeSwarm(t);
  assert.equal(await control.logsTail('svc1', 2), 'web.1 | fatal: no config\nweb.2 | bye');
  assert.ok(state.paths.includes('GET /services/svc1/logs'));
  await assert.rejects(control.scaleUp('nope'), { code: 'DOCKER_NOT_FOUND' });
});
