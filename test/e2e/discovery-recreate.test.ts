// docs/discovery.md: a compose container being recreated (same project+service, new ID) keeps its route;
// requests in the gap wait or get 503 + Retry-After, never 404 (and never 502: see below).
// Against the real engine, through a Bellhop child process.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type Docker from 'dockerode';
import { dockerSkip, dockerClient, runHttpd, removeQuietly, uniqueName, waitFor } from '../support/docker-test.ts';
import { startBellhop, type BellhopUnderTest } from '../support/bellhop-harness.ts';

const docker = dockerClient();
const containers: Docker.Container[] = [];
let bellhop: BellhopUnderTest;
/** Deadline for waits on Docker plus Bellhop: generous, so a busy machine cannot fail the gate. */
const ROUTED_MS = 30_000;
/**
 * upstream_connect far above every bound here: a request that waited for it on a dead address
 * (the bug the second test guards against) takes a minute, while a busy machine is nowhere near.
 */
const UPSTREAM_CONNECT = '60s';
const STUCK_MS = 30_000;

function composeLabels(project: string, service: string): Record<string, string> {
  return {
    'com.docker.compose.project': project,
    'com.docker.compose.service': service,
    'com.docker.compose.container-number': '1',
    'com.docker.compose.oneoff': 'False',
    'proxy.exclude': 'false',
  };
}

async function service(project: string, svc: string, body: string, name: string): Promise<Docker.Container> {
  const c = await runHttpd(docker, { name, body, labels: composeLabels(project, svc) });
  containers.push(c);
  return c;
}

async function answers(host: string, body: string): Promise<void> {
  await waitFor(async () => {
    const r = await bellhop.get(host);
    return r.status === 200 && r.body === body ? true : undefined;
  }, ROUTED_MS, `${host} to answer ${body}`);
}

before(async () => {
  if (dockerSkip) return;
  bellhop = await startBellhop({ mode: 'child', yaml: `entrypoint:\n  timeouts:\n    upstream_connect: ${UPSTREAM_CONNECT}\n` });
});

after(async () => {
  await Promise.all(containers.map((c) => removeQuietly(c)));
  if (bellhop) await bellhop.stop();
});

test('a recreated compose container never shows 404: requests in the gap are held and served by the new one', { skip: dockerSkip }, async () => {
  const svc = uniqueName('rec').toLowerCase();
  const project = uniqueName('proj').toLowerCase();
  const old = await service(project, svc, 'old', `${project}-${svc}-1`);
  await answers(svc, 'old');

  const seen: { status: number; body: string; retryAfter: string | undefined; ms: number; at: number }[] = [];
  let tKill = 0;
  let running = true;
  // Four clients in a loop, so some request is always in flight during the gap.
  const clients = [0, 1, 2, 3].map(async () => {
    while (running) {
      const t = Date.now();
      const r = await bellhop.get(svc, '/', { timeoutMs: 30_000 });
      const ra = r.headers['retry-after'];
      seen.push({ status: r.status, body: r.body, retryAfter: Array.isArray(ra) ? ra[0] : ra, ms: Date.now() - t, at: t - tKill });
    }
  });
  await new Promise((r) => setTimeout(r, 200));
  // What `docker compose up` does on a changed service, with a gap: the old one goes, then a
  // moment later a new one with a new ID is created and started.
  tKill = Date.now();
  await old.remove({ force: true });
  const tRemoved = Date.now() - tKill;
  await new Promise((r) => setTimeout(r, 700));
  await service(project, svc, 'new', `${project}-${svc}-1`);
  await answers(svc, 'new');
  await new Promise((r) => setTimeout(r, 200));
  running = false;
  await Promise.all(clients);

  const statuses = new Map<number, number>();
  for (const s of seen) statuses.set(s.status, (statuses.get(s.status) ?? 0) + 1);
  const non200 = seen.filter((s) => s.status !== 200);
  process.stderr.write(`[recreate] rm -f took ${String(tRemoved)} ms; ${String(non200.length)} non-200${non200.length > 0 ? ` sent ${non200.map((s) => s.at).join(', ')} ms after rm` : ''}\n`);
  process.stderr.write(`[recreate] ${String(seen.length)} requests across the gap: ${JSON.stringify(Object.fromEntries(statuses))}, slowest ${String(Math.max(...seen.map((s) => s.ms)))} ms\n`);
  // Every request is answered 200, by the old or the new container. Those sent between the old
  // container's death and Docker's die event reaching Bellhop were refused, reset or left
  // connecting to a dead address: the proxy waits for the route table (awaitMember, or the dead
  // member's requests are routed again) and the recreate hold then serves them from the new one.
  for (const s of seen) {
    assert.equal(s.status, 200, `${String(s.status)} for a request sent ${String(s.at)} ms after rm: ${s.body.slice(0, 100)}`);
    assert.ok(s.body === 'old' || s.body === 'new');
  }
  assert.ok(seen.some((s) => s.body === 'new'));
  // Requests that arrived in the gap were held and answered by the new container.
  assert.ok(seen.some((s) => s.body === 'new' && s.ms >= 300), 'some request was held across the gap');
});

test('a compose service that does not come back: 503 with Retry-After after the hold, not 404', { skip: dockerSkip }, async () => {
  const svc = uniqueName('gone').toLowerCase();
  const project = uniqueName('proj').toLowerCase();
  const c = await service(project, svc, 'bye', `${project}-${svc}-1`);
  await answers(svc, 'bye');
  const removedAt = Date.now();
  await c.remove({ force: true });
  await waitFor(async () => {
    const r = await bellhop.route(svc);
    return r && r.members.length === 0 ? true : undefined;
  }, ROUTED_MS, 'the route to be kept without members');
  const r = await bellhop.get(svc, '/', { timeoutMs: 30_000 });
  // The hold (10 s) counts from when Bellhop saw the members go, which is after the removal
  // began: the answer cannot come sooner than 10 s after it, however slow the machine.
  const sinceRemoval = Date.now() - removedAt;
  assert.equal(r.status, 503);
  assert.ok(r.headers['retry-after'] !== undefined);
  assert.ok(sinceRemoval >= 9500, `held for the recreate hold (10 s) first: answered ${String(sinceRemoval)} ms after the removal began`);
  // A plain container's host, by contrast, is gone at once.
  const solo = uniqueName('solo').toLowerCase();
  const s = await runHttpd(docker, { name: solo, body: 'solo', labels: { 'proxy.aliases': solo } });
  containers.push(s);
  await answers(solo, 'solo');
  // Clients keep asking while it is removed: a request that reaches the dead container's address
  // (refused, or no answer at all once its veth is gone) must not hang until upstream_connect
  // (60 s here): it is routed again when the die/destroy event arrives (503 + Retry-After, then 404).
  const seen: { status: number; ms: number; retryAfter: unknown; body: string }[] = [];
  let running = true;
  const clients = [0, 1, 2, 3].map(async () => {
    while (running) {
      const t = Date.now();
      const x = await bellhop.get(solo, '/', { timeoutMs: 90_000 });
      seen.push({ status: x.status, ms: Date.now() - t, retryAfter: x.headers['retry-after'], body: x.body });
      if (x.status === 404) await new Promise((res) => setTimeout(res, 20));
    }
  });
  await new Promise((res) => setTimeout(res, 100));
  await s.remove({ force: true });
  await waitFor(async () => ((await bellhop.get(solo)).status === 404 ? true : undefined), ROUTED_MS, `${solo} to 404`);
  running = false;
  await Promise.all(clients);
  const counts: Record<number, number> = {};
  for (const x of seen) counts[x.status] = (counts[x.status] ?? 0) + 1;
  process.stderr.write(`[recreate] plain container removed under load: ${JSON.stringify(counts)}, slowest ${String(Math.max(...seen.map((x) => x.ms)))} ms\n`);
  for (const x of seen) {
    assert.ok(x.status === 200 || x.status === 503 || x.status === 404, `unexpected ${String(x.status)} after ${String(x.ms)} ms: ${x.body.slice(0, 300)}`);
    if (x.status === 503) assert.ok(x.retryAfter !== undefined, '503 carries Retry-After');
    assert.ok(x.ms < STUCK_MS, `a request took ${String(x.ms)} ms: it waited for upstream_connect (${UPSTREAM_CONNECT}) on the dead address`);
  }
  assert.ok(seen.some((x) => x.status === 404));
});
