// How the active health checker's schedule behaves in real time, on this machine: N members (one
// node:http server on 127.0.0.1 answering every probe), probed every `interval`. It prints how long
// after sync() every member had its first probe and was healthy, the probe rate in steady state
// against the ideal N per interval, how evenly the probes spread over 100 ms buckets (unjittered,
// every member would probe in the same bucket), and how late each member's probe came against its
// own schedule (gap between two probes of one member minus the interval). Never part of the gate:
// the gate checks the same schedule on a fake clock (test/integration/health-active.test.ts); the
// figures here move with the machine's load, which is why they live here.
//
// Run: `npx node test/bench/health-probe-spread.ts [members] [intervals]` (default 100 members,
// 3 steady intervals of 1 s), or `BENCH_ONLY=health npm run bench`.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HealthMonitor } from '../../internal/health/index.ts';
import { memberSpec } from '../fixtures/route-specs.ts';

const MEMBERS = Math.max(1, Number(process.argv[2] ?? process.env['BENCH_HEALTH_MEMBERS'] ?? 100));
const INTERVALS = Math.max(1, Number(process.argv[3] ?? process.env['BENCH_HEALTH_INTERVALS'] ?? 3));
const INTERVAL_MS = 1000;
const BUCKET_MS = 100;

const probes: { at: number; path: string }[] = [];
const server = createServer((req, res) => {
  probes.push({ at: performance.now(), path: req.url ?? '' });
  res.writeHead(200).end('ok');
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;

const hm = new HealthMonitor();
const members = Array.from({ length: MEMBERS }, (_, i) => memberSpec(`m${String(i)}`, url, { path: `/m/${String(i)}`, intervalMs: INTERVAL_MS, timeoutMs: 500 }));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const t0 = performance.now();
hm.sync([{ name: 'big', members }]);
let allProbedAt: number | undefined;
let allHealthyAt: number | undefined;
while (allHealthyAt === undefined || allProbedAt === undefined) {
  if (allProbedAt === undefined && new Set(probes.map((p) => p.path)).size === MEMBERS) allProbedAt = performance.now() - t0;
  if (allHealthyAt === undefined && hm.poolSummary('big') === `${String(MEMBERS)}/${String(MEMBERS)} members healthy`) allHealthyAt = performance.now() - t0;
  if (performance.now() - t0 > 30_000) break;
  await sleep(1);
}

// Steady state: whole intervals after the first one (which holds the first, jittered slots).
const from = t0 + INTERVAL_MS + BUCKET_MS;
const to = from + INTERVALS * INTERVAL_MS;
await sleep(to - performance.now() + 50);
await hm.close();
await new Promise<void>((resolve) => {
  server.closeAllConnections();
  server.close(() => resolve());
});

const window = probes.filter((p) => p.at >= from && p.at < to);
const buckets = new Array<number>(Math.round((to - from) / BUCKET_MS)).fill(0);
for (const p of window) buckets[Math.floor((p.at - from) / BUCKET_MS)]! += 1;
const perMember = new Map<string, number[]>();
for (const p of probes) perMember.set(p.path, [...(perMember.get(p.path) ?? []), p.at]);
const counts = members.map((_, i) => (perMember.get(`/m/${String(i)}`) ?? []).filter((at) => at >= from && at < to).length);
// Lateness against the member's own schedule, from its second probe on (the first gap is its jitter).
const late: number[] = [];
for (const ats of perMember.values()) for (let i = 2; i < ats.length; i++) late.push(ats[i]! - ats[i - 1]! - INTERVAL_MS);
late.sort((a, b) => a - b);
const pct = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
const ms = (n: number | undefined): string => (n === undefined || Number.isNaN(n) ? '   n/a' : `${n.toFixed(1).padStart(7)} ms`);
const ideal = MEMBERS * INTERVALS;
const line = (label: string, value: string): void => void process.stdout.write(`${label.padEnd(52)} ${value}\n`);

process.stdout.write(`\nhealth probe schedule: ${String(MEMBERS)} members, interval ${String(INTERVAL_MS)} ms, ${String(INTERVALS)} steady intervals\n`);
line('sync → every member probed once', ms(allProbedAt));
line('sync → every member healthy', ms(allHealthyAt));
line('steady probes (ideal)', `${String(window.length)} (${String(ideal)}), ${(window.length / INTERVALS / (INTERVAL_MS / 1000)).toFixed(1)}/s`);
line('probes per member in the window: min / max', `${String(Math.min(...counts))} / ${String(Math.max(...counts))} (ideal ${String(INTERVALS)})`);
line(`${String(BUCKET_MS)} ms buckets: max / min / empty of ${String(buckets.length)}`, `${String(Math.max(...buckets))} / ${String(Math.min(...buckets))} / ${String(buckets.filter((n) => n === 0).length)} (even: ${(MEMBERS * BUCKET_MS / INTERVAL_MS).toFixed(1)} each)`);
line('lateness vs own schedule: median / p95 / max', `${ms(pct(late, 50))} / ${ms(pct(late, 95))} / ${ms(late.at(-1))}`);
process.stdout.write(`buckets: ${buckets.join(',')}\n`);
