// How long a labelled container takes from `docker start` to its first answer through Bellhop,
// on the real engine with the local test image (test/support/docker-engine.ts builds it). A real
// Bellhop child process (as a user runs it, log level debug) follows the events; for each run
// this creates a busybox httpd container, calls start, and polls the proxy every 5 ms on a fresh
// connection until it answers 200 with that container's body. It prints median, p95, min and max
// over the runs, and from Bellhop's own log lines where the time went: the `start` event seen,
// the container appeared in the table, its member turned healthy. Never part of the gate.
//
// Run: `npx node test/bench/discovery-latency.ts [runs]` (default 20; BENCH_RUNS too), or
// `BENCH_ONLY=discovery npm run bench`. Half the runs are on the default bridge, half with
// network_mode host on a free port, interleaved.
import { request } from 'node:http';
import type Docker from 'dockerode';
import { ensureDockerEngine, ensureTestImage } from '../support/docker-engine.ts';
import { freePort, startBellhop, type BellhopUnderTest } from '../support/bellhop-harness.ts';
import { runHttpd, removeQuietly, uniqueName } from '../support/docker-test.ts';

const RUNS = Math.max(1, Number(process.argv[2] ?? process.env['BENCH_RUNS'] ?? 20));
const POLL_MS = 5;
const RUN_TIMEOUT_MS = 30_000;

interface Run {
  mode: 'bridge' | 'host';
  /** ms from the start call to: the call returning, the event seen, the route, healthy, first 200 */
  started: number;
  event: number | undefined;
  appeared: number | undefined;
  healthy: number | undefined;
  ok: number;
  /** host network only: the container itself answering on 127.0.0.1:port, polled alike */
  direct: number | undefined;
}

/** A GET straight to the container (no Bellhop); true on a 200. */
function directOk(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

interface LogLine {
  time?: number;
  msg?: string;
  containerId?: string;
  container?: string;
  action?: string;
}

function parse(line: string): LogLine | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as LogLine;
  } catch {
    return undefined;
  }
}

function pct(sorted: readonly number[], p: number): number {
  // nearest rank
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function summary(label: string, values: readonly (number | undefined)[]): string {
  const v = values.filter((x): x is number => x !== undefined).sort((a, b) => a - b);
  if (v.length === 0) return `${label.padEnd(58)} (no data)`;
  const f = (n: number) => String(Math.round(n)).padStart(6);
  return `${label.padEnd(58)} median ${f(pct(v, 50))} ms   p95 ${f(pct(v, 95))} ms   min ${f(v[0]!)}   max ${f(v[v.length - 1]!)}   (n=${String(v.length)})`;
}

/** A free port Bellhop will call plain http: one ending in 443 defaults to https (docs/labels.md). */
async function httpPort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port % 1000 !== 443) return port;
  }
}

async function oneRun(docker: Docker, bellhop: BellhopUnderTest, mode: Run['mode']): Promise<Run> {
  const alias = uniqueName(mode === 'bridge' ? 'lat-br' : 'lat-hn').toLowerCase();
  const body = `latency-${alias}`;
  const port = mode === 'host' ? await httpPort() : 80;
  const c = await runHttpd(docker, {
    name: alias,
    body,
    port,
    labels: mode === 'host' ? { 'proxy.aliases': alias, [`proxy.${alias}.port`]: String(port) } : { 'proxy.aliases': alias },
    ...(mode === 'host' ? { networkMode: 'host' } : {}),
    start: false,
  });
  try {
    const logFrom = bellhop.logs().length;
    const t0 = Date.now();
    await c.start();
    const started = Date.now() - t0;
    // For the host network the container's own port is known: poll it alongside, as a reference.
    let direct: number | undefined;
    let polling = mode === 'host';
    const directPoll = (async () => {
      while (polling && Date.now() - t0 < RUN_TIMEOUT_MS) {
        if (await directOk(port)) {
          direct = Date.now() - t0;
          return;
        }
        await new Promise((res) => setTimeout(res, POLL_MS));
      }
    })();
    let ok: number | undefined;
    let last = '';
    while (ok === undefined) {
      if (Date.now() - t0 > RUN_TIMEOUT_MS) {
        const route = await bellhop.route(alias).catch((err: unknown) => String(err));
        throw new Error(`${alias} did not answer within ${String(RUN_TIMEOUT_MS)} ms; last answer ${last}; route ${JSON.stringify(route)}`);
      }
      const r = await bellhop.get(alias, '/', { timeoutMs: 2000 }).catch((err: unknown) => String(err));
      if (typeof r !== 'string' && r.status === 200 && r.body === body) ok = Date.now() - t0;
      else {
        last = typeof r === 'string' ? r : `${String(r.status)} ${r.body.slice(0, 100)}`;
        await new Promise((res) => setTimeout(res, POLL_MS));
      }
    }
    polling = false;
    await directPoll;
    // Bellhop's log reaches us through a pipe, a moment after the fact.
    const healthyLine = (l: LogLine | undefined): boolean => l?.container === alias && /^health: .* is healthy$/.test(l.msg ?? '');
    for (let i = 0; i < 40 && !bellhop.logs().slice(logFrom).some((l) => healthyLine(parse(l))); i++) await new Promise((res) => setTimeout(res, 25));
    const lines = bellhop.logs().slice(logFrom).map(parse).filter((l): l is LogLine => l !== undefined);
    const at = (pred: (l: LogLine) => boolean): number | undefined => {
      const l = lines.find(pred);
      return l?.time === undefined ? undefined : l.time - t0;
    };
    return {
      mode,
      started,
      ok,
      direct,
      event: at((l) => l.msg === 'docker event' && l.containerId === c.id && l.action === 'start'),
      appeared: at((l) => (l.msg === 'container appeared' || l.msg === 'container changed') && l.containerId === c.id),
      healthy: at(healthyLine),
    };
  } finally {
    await removeQuietly(c);
  }
}

const engine = await ensureDockerEngine();
if (!engine.ok) {
  process.stderr.write(`discovery-latency: no Docker engine (${engine.reason}); skipped\n`);
  process.exit(0);
}
await ensureTestImage(engine.docker);
const bellhop = await startBellhop({ mode: 'child', logLevel: 'debug' });
const runs: Run[] = [];
try {
  // Bellhop has synced once it serves its own 404 and the watcher says so.
  for (let i = 0; i < 200; i++) {
    const v = await bellhop.routes().catch(() => undefined);
    if (v?.docker.every((d) => d.state === 'synced')) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  for (let i = 0; i < RUNS; i++) {
    const r = await oneRun(engine.docker, bellhop, i % 2 === 0 ? 'bridge' : 'host');
    runs.push(r);
    process.stderr.write(`  run ${String(i + 1).padStart(2)}/${String(RUNS)} ${r.mode.padEnd(6)} start call ${String(r.started).padStart(4)} ms, event ${String(r.event ?? '?').padStart(4)}, routed ${String(r.appeared ?? '?').padStart(4)}, healthy ${String(r.healthy ?? '?').padStart(4)}, first 200 ${String(r.ok).padStart(5)} ms${r.direct === undefined ? '' : ` (container itself: ${String(r.direct)} ms)`}\n`);
    // Let the removal's events settle so the next run starts on a quiet watcher.
    await new Promise((res) => setTimeout(res, 150));
  }
} finally {
  await bellhop.stop();
}

console.log(`\ndocker start → first proxied 200, ${String(runs.length)} runs (${String(runs.filter((r) => r.mode === 'bridge').length)} bridge, ${String(runs.filter((r) => r.mode === 'host').length)} host network), polled every ${String(POLL_MS)} ms:`);
console.log(summary('first proxied 200 (all)', runs.map((r) => r.ok)));
console.log(summary('first proxied 200 (bridge)', runs.filter((r) => r.mode === 'bridge').map((r) => r.ok)));
console.log(summary('first proxied 200 (host network)', runs.filter((r) => r.mode === 'host').map((r) => r.ok)));
console.log(summary('Bellhop\'s share: start call returned → first proxied 200', runs.map((r) => r.ok - r.started)));
console.log(summary('host network: container itself answers', runs.map((r) => r.direct)));
console.log('where the time goes (from Bellhop\'s log, ms after the start call):');
console.log(summary('  start call returned', runs.map((r) => r.started)));
console.log(summary('  start event seen by Bellhop', runs.map((r) => r.event)));
console.log(summary('  container in the route table', runs.map((r) => r.appeared)));
console.log(summary('  member healthy', runs.map((r) => r.healthy)));
