// Head-of-line case for upstream pipelining (docs/proxy.md, "Pipelining"): one slow endpoint
// (a 200 ms answer) mixed with fast ones on the same member. The fast requests' p99 with
// pipelining on must stay within 20 % of pipelining off (no_pipelining: true), in one run.
// Bellhop runs as its own process (cmd/bellhop/main.ts) twice, interleaved rounds; the backend
// and the load are in this process. Loopback only; bounded in time (~40 s).
//   node test/bench/pipelining-hol.ts [--rounds 3] [--seconds 5] [--clients 40]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, Agent, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const arg = (name: string, d: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : d;
};
const ROUNDS = arg('rounds', 3);
const SECONDS = arg('seconds', 5);
const CLIENTS = arg('clients', 40);
const SLOW_MS = 200;

function listen(s: Server): Promise<number> {
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)));
}

async function startBellhop(dir: string, name: string, backendPort: number, noPipelining: boolean): Promise<{ port: number; child: ChildProcess }> {
  const probe = createServer();
  const port = await listen(probe);
  await new Promise((r) => probe.close(r));
  const file = join(dir, `${name}.yml`);
  writeFileSync(file, [
    `entrypoint: { http: "127.0.0.1:${String(port)}" }`,
    'api: { listen: "" }',
    'docker: { hosts: [] }',
    'log_level: warn',
    `sticky: { secret_file: ${join(dir, `${name}.key`)} }`,
    'routes:',
    '  bench:',
    '    aliases: ["127.0.0.1"]',
    `    url: "http://127.0.0.1:${String(backendPort)}"`,
    '    healthcheck: { interval: 5s }',
    noPipelining ? '    no_pipelining: true' : '',
  ].join('\n'));
  const main = fileURLToPath(new URL('../../cmd/bellhop/main.ts', import.meta.url));
  const child = spawn(process.execPath, [main], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, BELLHOP_CONFIG: file } });
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((r) => {
      const q = request({ host: '127.0.0.1', port, path: '/fast', headers: { host: '127.0.0.1' } }, (res) => { res.resume(); r(res.statusCode === 200); });
      q.on('error', () => r(false));
      q.end();
    });
    if (ok) return { port, child };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not start`);
}

/** CLIENTS keep-alive clients send /fast in a loop; one sends /slow in a loop. Fast latencies in ms. */
async function load(port: number): Promise<{ fast: number[]; slow: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS + 1 });
  const until = performance.now() + SECONDS * 1000;
  const fast: number[] = [];
  let slow = 0;
  const one = (path: string): Promise<number> => new Promise((resolve, reject) => {
    const t0 = performance.now();
    const q = request({ host: '127.0.0.1', port, path, agent, headers: { host: '127.0.0.1' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(performance.now() - t0));
    });
    q.on('error', reject);
    q.end();
  });
  const clients = Array.from({ length: CLIENTS }, async () => {
    while (performance.now() < until) fast.push(await one('/fast'));
  });
  const slowClient = (async () => {
    while (performance.now() < until) {
      await one('/slow');
      slow++;
    }
  })();
  await Promise.all([...clients, slowClient]);
  agent.destroy();
  return { fast, slow };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

const backend = createServer((req, res) => {
  const send = (): void => { res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 }); res.end('ok'); };
  if (req.url === '/slow') setTimeout(send, SLOW_MS);
  else send();
});
backend.keepAliveTimeout = 65_000;
const backendPort = await listen(backend);
const dir = mkdtempSync(join(tmpdir(), 'bellhop-hol-'));
const on = await startBellhop(dir, 'pipelining-on', backendPort, false);
const off = await startBellhop(dir, 'pipelining-off', backendPort, true);
const results: Record<string, { rps: number[]; p50: number[]; p99: number[] }> = { on: { rps: [], p50: [], p99: [] }, off: { rps: [], p50: [], p99: [] } };
try {
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, b] of [['off', off], ['on', on]] as const) {
      const x = await load(b.port);
      results[name]!.rps.push(x.fast.length / SECONDS);
      results[name]!.p50.push(pct(x.fast, 50));
      results[name]!.p99.push(pct(x.fast, 99));
    }
  }
} finally {
  on.child.kill('SIGTERM');
  off.child.kill('SIGTERM');
  backend.close();
  rmSync(dir, { recursive: true, force: true });
}
const median = (xs: number[]): number => pct(xs, 50);
const row = (n: string): string => {
  const x = results[n]!;
  return `${n.padEnd(16)} ${median(x.rps).toFixed(0).padStart(8)} ${median(x.p50).toFixed(2).padStart(8)} ${median(x.p99).toFixed(2).padStart(8)}`;
};
process.stdout.write(`head-of-line: ${String(CLIENTS)} clients on /fast, 1 on /slow (${String(SLOW_MS)} ms), ${String(ROUNDS)} interleaved rounds of ${String(SECONDS)} s, medians\n`);
process.stdout.write(`${'pipelining'.padEnd(16)} ${'fast rps'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)}\n${row('off')}\n${row('on')}\n`);
const ratio = median(results['on']!.p99) / median(results['off']!.p99);
process.stdout.write(`fast p99 on/off = ${ratio.toFixed(2)} (bound 1.20): ${ratio <= 1.2 ? 'within' : 'OUTSIDE'}\n`);
// one machine-readable line for proxy-table.ts
process.stdout.write(`HOL_RESULT on_p99_ms=${median(results['on']!.p99).toFixed(2)} off_p99_ms=${median(results['off']!.p99).toFixed(2)} ratio=${ratio.toFixed(2)} within=${ratio <= 1.2 ? '1' : '0'}\n`);
