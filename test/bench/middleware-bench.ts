// BENCH_ONLY=middleware npm run bench: what a route's middlewares cost. The same Bellhop twice
// (dist-js, as the image runs it) on one machine in ONE run of proxy-bench.sh, interleaved
// rounds [nginx, bare, middlewares] × ROUNDS so machine drift is shared: `bare` is the plain
// two-member pool, `mw` the same route with cidr_whitelist + request header edits + rate_limit
// (a limit never reached: every request pays the bucket, none is refused). Prints each round's
// mw/bare requests-per-second ratio, their median (the target: ≥ 0.90), and `uptime`.
// Extra arguments go to proxy-bench.sh (`-d 8 -r 5`).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const b = spawnSync(process.execPath, ['--no-warnings', here('../../tools/build-js.ts')], { stdio: 'inherit', cwd: here('../..') });
if (b.status !== 0) process.exit(b.status ?? 1);
// the chain alone first (CPU per request, no sockets): steady whatever the box's load
const c = spawnSync(process.execPath, [here('./middleware-chain-bench.ts')], { stdio: 'inherit' });
if (c.status !== 0) process.exit(c.status ?? 1);
// and the rules stage alone (docs/rules.md): GoDoxy's NetBird rules
const rb = spawnSync(process.execPath, [here('./rules-bench.ts')], { stdio: 'inherit' });
if (rb.status !== 0) process.exit(rb.status ?? 1);
const dir = mkdtempSync(join(tmpdir(), 'bellhop-mwbench-'));
const raw = join(dir, 'runs.tsv');
const bellhop = `${process.execPath} ${here('./bellhop-under-bench.ts')}`;
const args = process.argv.slice(2);
const uptimeBefore = execFileSync('uptime', { encoding: 'utf8' }).trim();
const r = spawnSync('bash', [
  here('./kit/proxy-bench.sh'), '--no-direct', '--max-seconds', '600', '--raw', raw, ...args,
  '--put', `bare=19090=${bellhop}`,
  '--put', `mw=19092=env BENCH_MIDDLEWARES=1 ${bellhop}`,
], { stdio: 'inherit' });
const uptimeAfter = execFileSync('uptime', { encoding: 'utf8' }).trim();
if (r.status !== 0) process.exit(r.status ?? 1);

const rows = readFileSync(raw, 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
const rps = new Map<string, number>();
for (const [round, target, value] of rows) rps.set(`${round ?? ''}/${target ?? ''}`, Number(value));
const rounds = [...new Set(rows.map((x) => x[0] ?? ''))];
const ratios = rounds.map((round) => (rps.get(`${round}/mw`) ?? NaN) / (rps.get(`${round}/bare`) ?? NaN)).filter((x) => Number.isFinite(x));
const sorted = [...ratios].sort((x, y) => x - y);
const median = sorted.length === 0 ? NaN : sorted.length % 2 === 1 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
console.log(`middleware/bare rps per round: ${ratios.map((x) => x.toFixed(3)).join(' ')}`);
console.log(`uptime before: ${uptimeBefore}`);
console.log(`uptime after:  ${uptimeAfter}`);
console.log(`middleware_ratio=${median.toFixed(3)} (target >= 0.90: ${median >= 0.9 ? 'met' : 'NOT met'}) rounds=${String(ratios.length)}`);
rmSync(dir, { recursive: true, force: true });
