// The proxy part of `npm run bench` (BENCH_ONLY=proxy): issue 18's table with Bellhop in it.
// One interleaved proxy-bench.sh run (kit/proxy-bench.sh: wrk, 50 connections, rounds of
// [nginx, undici forwarder, Bellhop, Bellhop without pipelining]) with small answers, then the
// same with 64 KiB answers, then the head-of-line case (pipelining-hol.ts); then one markdown
// table: target | rps | vs nginx | p99 | p99 vs nginx | CPU µs/req, ratios being medians of the
// per-round ratios to nginx in the same round. Needs nginx and wrk (apt-get install -y nginx wrk).
// Bellhop runs as the container image runs it: the JavaScript tools/build-js.ts emits (built
// here first) with the node flags of the Dockerfile's CMD, log_level warn (nginx's reference has no access log).
//   node test/bench/proxy-table.ts [--no-64k] [--no-hol] [proxy-bench options, e.g. -d 10 -r 5]
// Defaults: -d 5 -r 3 per proxy-bench run (about 2 minutes each), the HOL case about 40 s.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const node = process.execPath;
let args = process.argv.slice(2);
const no64k = args.includes('--no-64k');
const noHol = args.includes('--no-hol');
args = args.filter((a) => a !== '--no-64k' && a !== '--no-hol');

const TARGETS: { name: string; label: string; port: number; cmd: string }[] = [
  { name: 'undici', label: 'minimal undici forwarder (test/bench/peers)', port: 19091, cmd: `${node} ${here('./peers/undici-forwarder.ts')}` },
  { name: 'bellhop', label: '**Bellhop** (default: pipelining adaptive)', port: 19090, cmd: `${node} ${here('./bellhop-under-bench.ts')}` },
  { name: 'bellhop-nopipe', label: 'Bellhop, `no_pipelining: true`', port: 19092, cmd: `env BENCH_NO_PIPELINING=1 ${node} ${here('./bellhop-under-bench.ts')}` },
];

interface Row { label: string; rps: number; ratio: number; p99: number; p99Ratio: number; cpu: number; errors: number }

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 === 1 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

/** One proxy-bench.sh run; rows from its per-run TSV (--raw), or undefined when it failed. */
function benchRun(body: 'small' | '64k', dir: string): { rows: Row[]; load: string } | undefined {
  const raw = join(dir, `raw-${body}.tsv`);
  const puts = TARGETS.flatMap((t) => ['--put', `${t.name}=${String(t.port)}=${t.cmd}`]);
  const r = spawnSync('bash', [here('./kit/proxy-bench.sh'), '-d', '5', '-r', '3', '--no-direct', '--max-seconds', '900', '--body', body, ...args, '--raw', raw, ...puts], { stdio: 'inherit' });
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  if (r.status !== 0) {
    process.stderr.write(`proxy-bench (${body}) exited with ${String(r.status)}\n`);
    return undefined;
  }
  // round target rps p50_us p99_us errors cpu_us_per_req ...
  const lines = readFileSync(raw, 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
  const by = (t: string): string[][] => lines.filter((l) => l[1] === t);
  const ngx = new Map(by('nginx').map((l) => [l[0]!, l]));
  const row = (name: string, label: string): Row => {
    const ls = by(name);
    return {
      label,
      rps: median(ls.map((l) => Number(l[2]))),
      ratio: median(ls.map((l) => Number(l[2]) / Number(ngx.get(l[0]!)![2]))),
      p99: median(ls.map((l) => Number(l[4]) / 1000)),
      p99Ratio: median(ls.map((l) => Number(l[4]) / Number(ngx.get(l[0]!)![4]))),
      cpu: median(ls.map((l) => Number(l[6]))),
      errors: ls.reduce((a, l) => a + Number(l[5]), 0),
    };
  };
  return { rows: [row('nginx', 'nginx, 1 worker (reference)'), ...TARGETS.map((t) => row(t.name, t.label))], load };
}

// What the container image runs: plain JavaScript from Node's own type stripping.
const build = spawnSync(node, ['--no-warnings', here('../../tools/build-js.ts')], { stdio: 'inherit', cwd: here('../..') });
if (build.status !== 0) process.exit(build.status ?? 1);

const dir = mkdtempSync(join(tmpdir(), 'bellhop-proxy-table-'));
const started = new Date().toISOString().slice(0, 16).replace('T', ' ');
const runs: { body: string; rows: Row[]; load: string }[] = [];
let failed = false;
try {
  for (const body of no64k ? ['small'] as const : ['small', '64k'] as const) {
    const r = benchRun(body, dir);
    if (r === undefined) failed = true;
    else runs.push({ body, ...r });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

let hol: string | undefined;
if (!noHol) {
  const h = spawnSync(node, [here('./pipelining-hol.ts')], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  process.stdout.write(h.stdout);
  hol = /^HOL_RESULT .*$/m.exec(h.stdout)?.[0];
  if (h.status !== 0 || hol === undefined) failed = true;
}

const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const out: string[] = ['', `## Proxy table (${started} UTC, ${process.version}, wrk -c50, medians of the rounds; ratios are medians of per-round ratios to nginx)`];
for (const run of runs) {
  out.push('', `${run.body === 'small' ? 'Small answers (2 bytes)' : '64 KiB answers'}, load average after the run: ${run.load}`, '',
    '| target | rps | vs nginx | p99 | p99 vs nginx | CPU µs/req |', '|---|---:|---:|---:|---:|---:|');
  for (const r of run.rows) {
    out.push(`| ${r.label} | ${fmt(r.rps)} | ${fmt(r.ratio, 2)} | ${fmt(r.p99, 2)} ms | ${fmt(r.p99Ratio, 2)} | ${fmt(r.cpu, 1)} |${r.errors > 0 ? ` ${String(r.errors)} errors` : ''}`);
  }
}
if (hol !== undefined) {
  const kv = Object.fromEntries(hol.split(' ').slice(1).map((p) => p.split('=') as [string, string]));
  out.push('', `Head-of-line (one 200 ms endpoint among fast ones, same member): fast requests' p99 with pipelining ${kv['on_p99_ms'] ?? '?'} ms, without ${kv['off_p99_ms'] ?? '?'} ms: on/off ${kv['ratio'] ?? '?'} (bound 1.20: ${kv['within'] === '1' ? 'within' : 'OUTSIDE'})`);
}
process.stdout.write(`${out.join('\n')}\n`);
if (failed) process.exit(1);
