// Health through a whole in-process Bellhop (config → live pools → proxy → health → admin API),
// with real node:http members on 127.0.0.1 port 0: a member killed mid-stream, a failing health
// path, a hanging member, the admin API's health view and health across a hot reload.
// Timings are printed as diagnostics, never asserted: a wait for an eventual state has a deadline
// only a broken Bellhop misses, and what a test proves is counted (probes, attempts, answers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createBellhop, type Bellhop } from '../../cmd/bellhop/app.ts';
import { loadConfig, type Config } from '../../internal/config/index.ts';
import { rawRequest } from '../support/raw-client.ts';
import { PROBE_USER_AGENT, type MemberHealthStatus } from '../../internal/health/index.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Deadline of a wait for an eventual state; the wait ends as soon as the state holds. */
const EVENTUALLY_MS = 20_000;

async function waitUntil(fn: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!fn()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

// ── members ──────────────────────────────────────────────────────────────────────────────

type Mode = 'ok' | 'health-500' | 'hang' | 'serve-503' | 'slow-503' | 'read-body';

/** A member that answers its name on every path, and records which requests were probes. */
interface Backend {
  name: string;
  port: number;
  url: string;
  mode: Mode;
  /** proxied (non-probe) requests, with Bellhop's view of this member when each arrived */
  served: { at: number; health: string | undefined }[];
  /** proxied (non-probe) requests accepted in mode 'hang', never answered */
  hung: number;
  probes: { at: number; status: number }[];
  /** set by the test: what Bellhop thinks of this member right now */
  view: () => string | undefined;
  kill(): Promise<void>;
  restart(): Promise<void>;
}

async function backend(name: string): Promise<Backend> {
  const sockets = new Set<Socket>();
  const b: Backend = {
    name,
    port: 0,
    url: '',
    mode: 'ok',
    served: [],
    hung: 0,
    probes: [],
    view: () => undefined,
    kill: () => Promise.resolve(),
    restart: () => Promise.resolve(),
  };
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    if (b.mode === 'hang') {
      if (req.headers['user-agent'] !== PROBE_USER_AGENT) b.hung += 1;
      return; // accepted, never answered
    }
    if (req.headers['user-agent'] === PROBE_USER_AGENT) {
      const status = b.mode === 'health-500' && req.url === '/health' ? 500 : 200;
      b.probes.push({ at: performance.now(), status });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(name);
      return;
    }
    b.served.push({ at: performance.now(), health: b.view() });
    if (b.mode === 'read-body') {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end(name));
      return;
    }
    if (b.mode === 'slow-503') {
      setTimeout(() => res.writeHead(503, { 'content-type': 'text/plain' }).end(name), 300);
      return;
    }
    res.writeHead(b.mode === 'serve-503' ? 503 : 200, { 'content-type': 'text/plain' }).end(name);
  };
  let server: Server;
  const listen = async (port: number): Promise<void> => {
    server = createServer(handler);
    server.on('connection', (s: Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    b.port = (server.address() as AddressInfo).port;
    b.url = `http://127.0.0.1:${b.port}`;
  };
  b.kill = async () => {
    if (!server.listening) return;
    // Abruptly: stop accepting and reset every open connection, in-flight requests included.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of sockets) s.destroy();
    await closed;
  };
  b.restart = () => listen(b.port);
  await listen(0);
  return b;
}

// ── Bellhop ──────────────────────────────────────────────────────────────────────────────

interface Running {
  bellhop: Bellhop;
  httpPort: number;
  apiPort: number;
  dir: string;
  load(yaml: string): Config;
  memberId(route: string, member: string): string;
  status(route: string, member: string): MemberHealthStatus | undefined;
  stop(): Promise<void>;
}

function poolYaml(route: string, members: Backend[], hc: string, extra = ''): string {
  return [
    'docker: { hosts: [] }',
    'entrypoint:',
    '  timeouts: { upstream_connect: 1s, upstream_response: 1s }',
    'routes:',
    `  ${route}:`,
    '    members:',
    ...members.map((m) => `      - { name: ${m.name}, url: "${m.url}" }`),
    `    healthcheck: ${hc}`,
    extra,
  ].join('\n');
}

async function startBellhop(yaml: string): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'bellhop-health-'));
  const env = {};
  const load = (text: string): Config => {
    writeFileSync(join(dir, 'config.yml'), `${text}\n`);
    const loaded = loadConfig({ env, cwd: dir });
    if (!loaded.ok) throw new Error(`config: ${loaded.errors.map((e) => e.format()).join('\n')}`);
    return loaded.config;
  };
  const bellhop = createBellhop(load(yaml), pino({ level: 'silent' }), new Uint8Array(32).fill(3));
  const ports = await bellhop.start({ http: { host: '127.0.0.1', port: 0 }, api: { host: '127.0.0.1', port: 0 } });
  assert.ok(ports.apiPort !== undefined);
  const memberId = (route: string, member: string): string => {
    const spec = bellhop.table()?.routes().find((r) => r.name === route)?.members.find((m) => m.name === member);
    if (!spec) throw new Error(`no member ${route}/${member}`);
    return spec.id;
  };
  return {
    bellhop,
    httpPort: ports.httpPort,
    apiPort: ports.apiPort,
    dir,
    load,
    memberId,
    status: (route, member) => bellhop.health.status(memberId(route, member)),
    async stop() {
      await bellhop.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Reply {
  status: number;
  body: string;
  ms: number;
}

function get(port: number, host: string, path = '/', agent: Agent | false = false, timeoutMs = 10_000): Promise<Reply> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent, headers: { host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - t0 }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`GET ${host}${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** `clients` loops of GETs through Bellhop until `until()` is true; every outcome is recorded. */
async function steadyLoad(port: number, host: string, clients: number, until: () => boolean): Promise<{ ok: number; failed: string[]; by: Map<string, number> }> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const out = { ok: 0, failed: [] as string[], by: new Map<string, number>() };
  const loop = async (): Promise<void> => {
    while (!until()) {
      try {
        const r = await get(port, host, '/', agent);
        if (r.status === 200) {
          out.ok += 1;
          out.by.set(r.body, (out.by.get(r.body) ?? 0) + 1);
        } else {
          out.failed.push(`HTTP ${r.status}: ${r.body.slice(0, 80)}`);
        }
      } catch (err) {
        out.failed.push(`error: ${(err as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, loop));
  agent.destroy();
  return out;
}

/** Health transitions of one member, timestamped, from the monitor's own change feed. */
function transitions(run: Running, route: string, member: string): { at: number; health: string; usable: boolean; reason: string }[] {
  const id = run.memberId(route, member);
  const seen: { at: number; health: string; usable: boolean; reason: string }[] = [];
  run.bellhop.health.onChange((mid, s) => {
    if (mid === id) seen.push({ at: performance.now(), health: s.health, usable: s.usable, reason: s.reason });
  });
  return seen;
}

// Probes every 200 ms, but each may take up to 2 s: on a loaded 2-core machine a live member's
// answer can take longer than 200 ms, and two such slow probes made the surviving member
// "unhealthy" too (503 PROXY_NO_MEMBER for everyone). A dead member is found by refused
// connects, which take no time, so the timeout does not slow the tests' claims.
const HC = '{ path: /health, interval: 200ms, timeout: 2s, rise: 2, fall: 2 }';

/** A long probe interval: only passive checks act (probes pass anyway). */
const PASSIVE_HC = '{ path: /health, interval: 1m, timeout: 1s }';

/** Pool `web` of members a and b, both healthy before the test starts. */
async function healthyPair(
  t: { after(fn: () => Promise<unknown>): void },
  hc = HC,
  opts: { mode?: Mode; yaml?: (yaml: string) => string } = {},
): Promise<{ a: Backend; b: Backend; run: Running }> {
  const a = await backend('a');
  const b = await backend('b');
  if (opts.mode !== undefined) a.mode = b.mode = opts.mode;
  t.after(() => Promise.all([a.kill(), b.kill()]));
  const yaml = poolYaml('web', [a, b], hc);
  const run = await startBellhop(opts.yaml ? opts.yaml(yaml) : yaml);
  t.after(() => run.stop());
  await waitUntil(() => run.status('web', 'a')?.usable === true && run.status('web', 'b')?.usable === true, EVENTUALLY_MS, 'both members healthy');
  return { a, b, run };
}

// ── 1. killed mid-stream ─────────────────────────────────────────────────────────────────

test('a member killed mid-stream costs zero failed requests and gets nothing until it has risen again', async (t) => {
  const { b, run } = await healthyPair(t);
  const bId = run.memberId('web', 'b');
  b.view = () => run.bellhop.health.status(bId)?.health;
  const bSeen = transitions(run, 'web', 'b');

  // Phase 1: 20 clients for 3 s; b dies abruptly after 1 s.
  const t0 = performance.now();
  let killedAt = 0;
  const killer = (async () => {
    await sleep(1000);
    killedAt = performance.now();
    await b.kill();
  })();
  const phase1 = await steadyLoad(run.httpPort, 'web', 20, () => performance.now() - t0 > 3000);
  await killer;
  // Usually within phase 1 (fall × interval = 400 ms); the deadline only catches "never".
  await waitUntil(() => bSeen.some((s) => s.at >= killedAt && !s.usable), EVENTUALLY_MS, 'b to leave rotation');
  const ejected = bSeen.find((s) => s.at >= killedAt && !s.usable);
  assert.ok(ejected, 'b left rotation');
  const total1 = phase1.ok + phase1.failed.length;
  assert.deepEqual(phase1.failed, [], `no failed request over ${total1}`);
  assert.ok((phase1.by.get('b') ?? 0) > 0 && (phase1.by.get('a') ?? 0) > 0, 'both served before the kill');
  const servedByBAfterEject = b.served.filter((s) => s.at > ejected.at).length;
  assert.equal(servedByBAfterEject, 0);
  t.diagnostic(`phase 1: ${total1} requests, 0 failed; b out of rotation ${(ejected.at - killedAt).toFixed(0)} ms after the kill (${ejected.reason})`);

  // Phase 2: b comes back on the same port while the load goes on; until Bellhop sees it
  // healthy again (rise = 2 probes), not one proxied request may reach it.
  assert.equal(run.bellhop.health.status(bId)?.health, 'unhealthy');
  const before = b.served.length;
  await b.restart();
  const restartedAt = performance.now();
  const phase2 = await steadyLoad(run.httpPort, 'web', 20, () => (run.bellhop.health.status(bId)?.usable === true && b.served.length > before + 20) || performance.now() - restartedAt > 2 * EVENTUALLY_MS);
  assert.deepEqual(phase2.failed, []);
  const back = bSeen.find((s) => s.at >= restartedAt && s.usable);
  assert.ok(back, 'b is back in rotation');
  const probesToRise = b.probes.filter((p) => p.at >= restartedAt && p.at <= back.at && p.status === 200).length;
  // Active checks saw b down and back: rise = 2 successes end the passive cool-down too.
  assert.equal(probesToRise, 2, `b came back after ${probesToRise} successful probes; rise is 2`);
  const early = b.served.slice(before).filter((s) => s.health !== 'healthy');
  assert.deepEqual(early, [], 'no proxied request reached b while Bellhop still held it unhealthy');
  assert.ok(b.served.length > before, 'b takes traffic again once healthy');
  t.diagnostic(`phase 2: ${phase2.ok + phase2.failed.length} requests, 0 failed; b back ${(back.at - restartedAt).toFixed(0)} ms after restart (${probesToRise} probes)`);
});

// ── 2. failing health path ───────────────────────────────────────────────────────────────

test('a member whose health path fails leaves after `fall` failed probes and returns after `rise` successes', async (t) => {
  const { b, run } = await healthyPair(t);
  const bId = run.memberId('web', 'b');
  b.view = () => run.bellhop.health.status(bId)?.health;
  const bSeen = transitions(run, 'web', 'b');

  const first = await Promise.all(Array.from({ length: 20 }, () => get(run.httpPort, 'web')));
  assert.deepEqual(new Set(first.map((r) => r.body)), new Set(['a', 'b']), 'round robin uses both');

  const flippedAt = performance.now();
  b.mode = 'health-500';
  await waitUntil(() => bSeen.some((s) => !s.usable), EVENTUALLY_MS, 'b to leave rotation');
  const out = bSeen.find((s) => !s.usable)!;
  const failedProbes = b.probes.filter((p) => p.at >= flippedAt && p.at <= out.at && p.status === 500).length;
  assert.equal(failedProbes, 2, 'out after exactly fall = 2 failed probes');
  assert.equal(out.health, 'unhealthy');
  assert.match(out.reason, /HTTP 500 from \/health/);
  const outAfterMs = out.at - flippedAt;

  const servedBefore = b.served.length;
  const during = await Promise.all(Array.from({ length: 30 }, () => get(run.httpPort, 'web')));
  assert.ok(during.every((r) => r.status === 200 && r.body === 'a'), 'only a serves while b is unhealthy');
  assert.equal(b.served.length, servedBefore);

  const fixedAt = performance.now();
  b.mode = 'ok';
  await waitUntil(() => bSeen.some((s) => s.at > fixedAt && s.usable), EVENTUALLY_MS, 'b to come back');
  const back = bSeen.find((s) => s.at > fixedAt && s.usable)!;
  const okProbes = b.probes.filter((p) => p.at >= fixedAt && p.at <= back.at && p.status === 200).length;
  assert.equal(okProbes, 2, 'back after exactly rise = 2 successful probes');
  const after = await Promise.all(Array.from({ length: 20 }, () => get(run.httpPort, 'web')));
  assert.ok(after.some((r) => r.body === 'b'), 'b serves again');
  t.diagnostic(`b out ${outAfterMs.toFixed(0)} ms after its health path broke (fall × interval = 400 ms plus probe time); back ${(back.at - fixedAt).toFixed(0)} ms after it was fixed`);
});

// ── 3. hanging member ────────────────────────────────────────────────────────────────────

test('a hanging member costs at most upstream_response per request, then is taken out', async (t) => {
  const { b, run } = await healthyPair(t);
  const bSeen = transitions(run, 'web', 'b');
  const hungAt = performance.now();
  b.mode = 'hang';
  // Sequential requests: alternate members, so b's share waits out upstream_response (1 s).
  // Bellhop's other timeouts are far longer, and the client gives up only after 20 s: a request
  // that came back at all came back by upstream_response, which its 504's code names.
  const replies: Reply[] = [];
  for (let i = 0; i < 6; i++) replies.push(await get(run.httpPort, 'web', '/', false, EVENTUALLY_MS));
  for (const r of replies) {
    assert.ok(r.status === 200 || r.status === 504, `status ${r.status}`);
    if (r.status === 200) assert.equal(r.body, 'a');
    else assert.match(r.body, /PROXY_UPSTREAM_TIMEOUT/);
  }
  // one upstream_response per 504: the timed-out attempt on b was its only one (not sent to b
  // again, nor to a after the wait)
  assert.equal(b.hung, replies.filter((r) => r.status === 504).length, 'every request that reached the hung b is one 504');
  await waitUntil(() => bSeen.some((s) => !s.usable), EVENTUALLY_MS, 'b to leave rotation');
  const out = bSeen.find((s) => !s.usable)!;
  assert.equal(out.health, 'unhealthy');
  assert.match(run.status('web', 'b')!.reason, /timeout after 2s|ejected/);
  const later = await Promise.all(Array.from({ length: 10 }, () => get(run.httpPort, 'web', '/', false, EVENTUALLY_MS)));
  assert.ok(later.every((r) => r.status === 200 && r.body === 'a'), 'only a serves (b would time out with 504)');
  const slow = replies.filter((r) => r.status === 504).length;
  t.diagnostic(`b out ${(out.at - hungAt).toFixed(0)} ms after it hung (${out.reason}); ${slow}/6 requests got 504 after ~1 s, max ${Math.max(...replies.map((r) => r.ms)).toFixed(0)} ms`);
});

// ── passive ejection through the proxy ──────────────────────────────────────────────────

test('a member answering 503 to real requests is ejected after 3, yet the last usable member never is', async (t) => {
  const { a, b, run } = await healthyPair(t, PASSIVE_HC);
  b.mode = 'serve-503';
  const replies: Reply[] = [];
  for (let i = 0; i < 20; i++) replies.push(await get(run.httpPort, 'web'));
  const fromB = replies.filter((r) => r.body === 'b');
  assert.equal(fromB.length, 3, 'b answered exactly 3 requests (all 503) before it was ejected');
  assert.ok(fromB.every((r) => r.status === 503));
  assert.ok(replies.slice(replies.indexOf(fromB[2]!) + 1).every((r) => r.status === 200 && r.body === 'a'));
  const sb = run.status('web', 'b')!;
  assert.equal(sb.health, 'unhealthy');
  assert.match(sb.reason, /^ejected: 3 failures in 10s \(last: HTTP 503\), retry in /);

  // Now a fails too, but it is the pool's last usable member: it keeps being asked.
  a.mode = 'serve-503';
  const last = await Promise.all(Array.from({ length: 6 }, () => get(run.httpPort, 'web')));
  assert.ok(last.every((r) => r.status === 503 && r.body === 'a'), 'answers come from a, not from Bellhop');
  assert.equal(run.status('web', 'a')?.usable, true);
  assert.equal(run.bellhop.health.poolSummary('web'), '1/2 members healthy');
});

test('after its cool-down an ejected member gets exactly one trial request, not every concurrent one', async (t) => {
  const { b, run } = await healthyPair(t, PASSIVE_HC);
  b.mode = 'serve-503';
  for (let i = 0; i < 20 && run.status('web', 'b')?.usable !== false; i++) await get(run.httpPort, 'web');
  assert.match(run.status('web', 'b')?.reason ?? '', /^ejected: 3 failures/);
  // Still broken, and slow to say so: every request that reaches it during the trial is a loss.
  b.mode = 'slow-503';
  await waitUntil(() => run.status('web', 'b')?.reason.startsWith('half-open') === true, EVENTUALLY_MS, 'the 5 s cool-down to end');
  const before = b.served.length;
  const agent = new Agent({ keepAlive: true, maxSockets: 12 });
  t.after(() => agent.destroy());
  const burst = await Promise.all(Array.from({ length: 12 }, () => get(run.httpPort, 'web', '/', agent)));
  assert.equal(b.served.length - before, 1, 'one trial reached b');
  assert.deepEqual(burst.filter((r) => r.body === 'b').map((r) => r.status), [503]);
  assert.equal(burst.filter((r) => r.status === 200 && r.body === 'a').length, 11);
  const sb = run.status('web', 'b')!;
  assert.equal(sb.usable, false);
  assert.match(sb.reason, /^ejected: trial request failed \(HTTP 503\), retry in /);
});

test('clients that send their body too slowly (408) count against nobody: the members stay in', async (t) => {
  const { a, b, run } = await healthyPair(t, PASSIVE_HC, {
    mode: 'read-body',
    yaml: (y) => y.replace('timeouts: { upstream_connect: 1s, upstream_response: 1s }', 'timeouts: { upstream_connect: 1s, upstream_response: 5s, idle: 300ms }'),
  });
  for (let i = 0; i < 6; i++) {
    // 2 of 10 announced body bytes, then silence
    const r = await rawRequest(run.httpPort, 'POST / HTTP/1.1\r\nHost: web\r\nContent-Length: 10\r\n\r\nab', 10_000);
    assert.equal(r.responses[0]?.status, 408);
  }
  assert.equal(a.served.length + b.served.length, 6, 'every slow body was being streamed to a member');
  for (const m of ['a', 'b']) {
    const st = run.status('web', m)!;
    assert.equal(st.usable, true, `${m}: ${st.reason}`);
    assert.doesNotMatch(st.reason, /ejected/);
  }
});

// ── 5. admin API ─────────────────────────────────────────────────────────────────────────

interface ApiMember {
  name: string;
  health: string;
  usable: boolean;
  reason: string;
  last_check: string | null;
  latency_ms: number | null;
}

test('the admin API and /metrics show each member\'s health, reason, last check and latency', async (t) => {
  const a = await backend('a');
  const b = await backend('b');
  b.mode = 'health-500';
  t.after(() => Promise.all([a.kill(), b.kill()]));
  const run = await startBellhop(poolYaml('web', [a, b], HC));
  t.after(() => run.stop());
  await waitUntil(() => run.status('web', 'a')?.usable === true && run.status('web', 'b')?.health === 'unhealthy', EVENTUALLY_MS, 'a healthy, b unhealthy');
  const routes = JSON.parse((await get(run.apiPort, '127.0.0.1', '/api/routes')).body) as { routes: { alias: string; summary: string; members: ApiMember[] }[] };
  const web = routes.routes.find((r) => r.alias === 'web');
  assert.ok(web);
  assert.equal(web.summary, '1/2 members healthy');
  const [ma, mb] = [web.members.find((m) => m.name === 'a')!, web.members.find((m) => m.name === 'b')!];
  assert.equal(ma.health, 'healthy');
  assert.equal(ma.usable, true);
  assert.equal(ma.reason, 'HTTP 200 from /health');
  assert.equal(mb.health, 'unhealthy');
  assert.equal(mb.usable, false);
  assert.match(mb.reason, /^HTTP 500 from \/health/);
  for (const m of [ma, mb]) {
    assert.ok(m.last_check !== null && Math.abs(Date.parse(m.last_check) - Date.now()) < 60_000, `last_check ${String(m.last_check)}`);
    assert.equal(typeof m.latency_ms, 'number');
    assert.ok(m.latency_ms! >= 0);
  }
  const metrics = (await get(run.apiPort, '127.0.0.1', '/metrics')).body;
  const gauge = (member: string): string | undefined =>
    metrics.split('\n').find((l) => l.startsWith('bellhop_member_healthy{') && l.includes(`member="${member}"`) && l.includes('route="web"'))?.split(' ').pop();
  assert.equal(gauge('a'), '1');
  assert.equal(gauge('b'), '0');

  // /api/explain: which route and pool a host reaches, and why, with the pool's live health.
  interface Explained { host: string; rule: string; route?: string; reason: string; pool: { mode: string; sticky: boolean; summary: string; members: ApiMember[] } | null }
  const explain = async (host: string): Promise<Explained> => JSON.parse((await get(run.apiPort, '127.0.0.1', `/api/explain?host=${encodeURIComponent(host)}`)).body) as Explained;
  const hit = await explain('WEB.example.com:8443');
  assert.equal(hit.host, 'web.example.com');
  assert.equal(hit.route, 'web');
  assert.notEqual(hit.rule, 'none');
  assert.match(hit.reason, /web/);
  assert.equal(hit.pool?.mode, 'roundrobin');
  assert.equal(hit.pool?.sticky, false);
  assert.equal(hit.pool?.summary, '1/2 members healthy');
  assert.deepEqual(hit.pool?.members.map((m) => [m.name, m.usable]).sort(), [['a', true], ['b', false]]);
  const miss = await explain('nothing.example.com');
  assert.equal(miss.rule, 'none');
  assert.equal(miss.route, undefined);
  assert.equal(miss.pool, null);
});

// ── 6. hot reload ────────────────────────────────────────────────────────────────────────

test('a hot reload that does not touch a member keeps its health (no reset to healthy)', async (t) => {
  const a = await backend('a');
  const b = await backend('b');
  const c = await backend('c');
  b.mode = 'health-500';
  t.after(() => Promise.all([a.kill(), b.kill(), c.kill()]));
  const run = await startBellhop(poolYaml('web', [a, b], HC));
  t.after(() => run.stop());
  await waitUntil(() => run.status('web', 'a')?.usable === true && run.status('web', 'b')?.health === 'unhealthy', EVENTUALLY_MS, 'a healthy, b unhealthy');
  const aSeen = transitions(run, 'web', 'a');
  const bSeen = transitions(run, 'web', 'b');
  const lastCheckA = run.status('web', 'a')!.lastCheck;

  // Unrelated changes: another route, match_domains, a default that this route overrides.
  const next = run.load(poolYaml('web', [a, b], HC, [
    '  other:',
    `    url: "${c.url}"`,
    'match_domains: [home.test]',
    'defaults:',
    '  healthcheck: { interval: 3s }',
  ].join('\n')));
  run.bellhop.applyConfig(next);
  assert.equal(run.status('web', 'b')?.health, 'unhealthy', 'b stays unhealthy right after the reload');
  assert.equal(run.status('web', 'a')?.health, 'healthy', 'a stays healthy (no starting phase)');
  assert.ok(run.bellhop.table()?.routes().some((r) => r.name === 'other'), 'the reload applied');

  const served = b.served.length;
  const replies = await Promise.all(Array.from({ length: 20 }, () => get(run.httpPort, 'web.home.test')));
  assert.ok(replies.every((r) => r.status === 200 && r.body === 'a'));
  assert.equal(b.served.length, served, 'b got no request after the reload');
  await sleep(300); // a probe round or so: still no flapping
  assert.deepEqual(bSeen, [], 'no transition of b');
  assert.deepEqual(aSeen, [], 'no transition of a');
  assert.notEqual(run.status('web', 'a')!.lastCheck, null);
  assert.ok(lastCheckA !== null);

  // A change to the route itself (mode, sticky) that keeps each member's url and check.
  run.bellhop.applyConfig(run.load(poolYaml('web', [a, b], HC, '    load_balance: { mode: leastconn, sticky: true }')));
  assert.equal(run.bellhop.table()?.routes().find((r) => r.name === 'web')?.loadBalance.mode, 'leastconn');
  assert.equal(run.status('web', 'b')?.health, 'unhealthy');
  assert.equal(run.status('web', 'a')?.health, 'healthy');
  assert.deepEqual(bSeen, []);
  assert.deepEqual(aSeen, []);

  // A member added to the pool by a reload does not disturb the others either.
  run.bellhop.applyConfig(run.load(poolYaml('web', [a, b, c], HC)));
  assert.equal(run.status('web', 'b')?.health, 'unhealthy');
  assert.equal(run.status('web', 'a')?.health, 'healthy');
  assert.equal(run.status('web', 'c')?.health, 'starting');
  await waitUntil(() => run.status('web', 'c')?.usable === true, EVENTUALLY_MS, 'c healthy');
  assert.equal(run.status('web', 'b')?.health, 'unhealthy');
  assert.deepEqual(aSeen, []);
});
