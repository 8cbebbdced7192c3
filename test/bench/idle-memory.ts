// Bellhop's idle memory as the container image runs it: the JavaScript from tools/build-js.ts
// (dist-js/) started with the node flags of the Dockerfile's CMD, NODE_ENV=production, the admin
// API on, one static route whose member (a small server in this process) answers HTTP health
// checks, and the local Docker socket when there is one (with a label_filter that matches no
// container, so it manages nothing). It waits until Bellhop logs that it serves (and that Docker
// is synced) and the member has answered two health checks, without asking Bellhop anything
// that would load code an idle Bellhop does not run, lets it idle, then prints VmRSS / VmHWM (with its anonymous and file-backed parts, from
// /proc/<pid>/status), the V8 heap and how many modules are loaded (test/bench/kit/memory-probe.cjs,
// a preload that answers SIGUSR2). Never part of the gate; prints figures only.
//
//   npx node test/bench/idle-memory.ts [--runs 3] [--idle 20] [--no-build] [--no-docker]
//                                      [--node-args="--flag …"] [--no-probe] [--modules]
// `npm run bench` runs it with BENCH_ONLY=memory. The default idle is 20 s, not 5: V8 tiers up
// undici's llhttp WebAssembly after a few responses (the third 5 s health check), and that
// compile left ~10 MiB resident (malloc arenas) until the image ran with --liftoff-only; a 5 s
// wait did not see it. --check tcp: a TCP health check (undici unused until the first request);
// --warm N: N requests through Bellhop before the idle wait. --node-args replaces the Dockerfile's flags
// (to try others); --modules also lists the loaded modules per package.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { imageNodeFlags } from './image-node-flags.ts';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const root = here('../..');
const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    idle: { type: 'string', default: '20' },
    build: { type: 'boolean', default: true },
    docker: { type: 'boolean', default: true },
    probe: { type: 'boolean', default: true },
    modules: { type: 'boolean', default: false },
    check: { type: 'string', default: 'http' },
    warm: { type: 'string', default: '0' },
    'node-args': { type: 'string' },
  },
  allowNegative: true,
});
const runs = Number(opts.runs);
const idleMs = Number(opts.idle) * 1000;
const warm = Number(opts.warm);

async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

const kib = (status: string, key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
const mib = (bytes: number): string => (bytes / 1048576).toFixed(1);

interface Sample {
  rss: number;
  hwm: number;
  anon: number;
  file: number;
  probe?: {
    heapUsed: number;
    heapPhysical: number;
    external: number;
    spaces: Record<string, { used: number; physical: number }>;
    bytecode: number;
    code: number;
    modules: { cjs: number; esm: number; builtins: number; packages: Record<string, number> };
  };
}

/** Connections the member has had: health checks until --warm traffic starts. */
let probesAnswered = 0;

async function once(dir: string, backendPort: number, flags: string[], docker: boolean): Promise<Sample> {
  const [httpPort, apiPort] = [await freePort(), await freePort()];
  const config = join(dir, 'config.yml');
  writeFileSync(
    config,
    `entrypoint:
  http: "127.0.0.1:${String(httpPort)}"
api:
  listen: "127.0.0.1:${String(apiPort)}"
docker:
  hosts: ${docker ? '["unix:///var/run/docker.sock"]' : '[]'}
  label_filter: ["bellhop.idle-memory=${String(process.pid)}"]
sticky:
  secret_file: ${join(dir, 'sticky.key')}
routes:
  app:
    aliases: [app.example]
    members:
      - { name: a, url: "http://127.0.0.1:${String(backendPort)}" }
    healthcheck: { ${opts.check === 'tcp' ? 'interval: 5s' : 'path: /health'} }
`,
  );
  const probeFile = join(dir, 'probe.json');
  rmSync(probeFile, { force: true });
  const args = [...flags, ...(opts.probe ? ['--require', here('./kit/memory-probe.cjs')] : []), join(root, 'dist-js/cmd/bellhop/main.js')];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_ENV: 'production', BELLHOP_CONFIG: config, BELLHOP_MEMORY_PROBE: probeFile },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // the log goes to a pipe, as in a container; read it for the readiness lines
  let serving = false;
  let synced = !docker;
  let log = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    log = (log + chunk).slice(-4096);
    serving ||= log.includes('"msg":"bellhop is serving"');
    synced ||= log.includes('"msg":"Docker containers synced"');
  });
  probesAnswered = 0;
  try {
    const deadline = Date.now() + 30_000;
    while (!serving || !synced || probesAnswered < 2) {
      if (child.exitCode !== null) throw new Error(`bellhop exited with ${String(child.exitCode)}: ${log}`);
      if (Date.now() > deadline) throw new Error(`bellhop not ready within 30 s (serving ${String(serving)}, docker synced ${String(synced)}, health checks ${String(probesAnswered)})`);
      await sleep(100);
    }
    if (warm > 0) await traffic(httpPort, warm);
    await sleep(idleMs);
    if (process.env['IDLE_MEMORY_SMAPS'] !== undefined) writeFileSync(process.env['IDLE_MEMORY_SMAPS'], readFileSync(`/proc/${String(child.pid)}/smaps`));
    const status = readFileSync(`/proc/${String(child.pid)}/status`, 'utf8');
    const sample: Sample = { rss: kib(status, 'VmRSS'), hwm: kib(status, 'VmHWM'), anon: kib(status, 'RssAnon'), file: kib(status, 'RssFile') };
    if (opts.probe) {
      child.kill('SIGUSR2');
      for (let i = 0; i < 50 && !existsSync(probeFile); i++) await sleep(100);
      sample.probe = JSON.parse(readFileSync(probeFile, 'utf8')) as NonNullable<Sample['probe']>;
    }
    return sample;
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

/** `count` GETs through Bellhop to the route, 10 at a time on keep-alive connections. */
async function traffic(port: number, count: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 10 });
  let next = 0;
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/', headers: { host: 'app.example' }, agent }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${String(res.statusCode)}`))));
      });
      req.on('error', reject);
      req.end();
    });
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (next++ < count) await one();
    }),
  );
  agent.destroy();
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  if (opts.build) {
    const b = spawnSync(process.execPath, ['--no-warnings', join(root, 'tools/build-js.ts'), join(root, 'dist-js')], { stdio: 'inherit', cwd: root });
    if (b.status !== 0) process.exit(b.status ?? 1);
  }
  const flags = opts['node-args'] !== undefined ? opts['node-args'].split(' ').filter(Boolean) : imageNodeFlags();
  const docker = opts.docker && existsSync('/var/run/docker.sock');
  const backend: Server = createServer((_req, res) => res.end('ok'));
  backend.on('connection', () => probesAnswered++);
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  const backendPort = (backend.address() as AddressInfo).port;
  const dir = mkdtempSync(join(tmpdir(), 'bellhop-idle-memory-'));
  process.stdout.write(
    `idle memory: node ${process.version} ${flags.join(' ')} dist-js/cmd/bellhop/main.js, one static route (${opts.check === 'tcp' ? 'TCP' : 'HTTP'} health check), ` +
      `admin API, ${docker ? 'Docker socket (label_filter: nothing managed)' : 'no Docker host'}; ` +
      `${warm > 0 ? `${String(warm)} requests through it after ready, then ` : ''}${String(idleMs / 1000)} s idle\n`,
  );
  const samples: Sample[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const s = await once(dir, backendPort, flags, docker);
      samples.push(s);
      const p = s.probe;
      process.stdout.write(
        `  run ${String(i + 1)}: VmRSS ${(s.rss / 1024).toFixed(1)} MiB (anon ${(s.anon / 1024).toFixed(1)}, file ${(s.file / 1024).toFixed(1)}), VmHWM ${(s.hwm / 1024).toFixed(1)} MiB` +
          (p === undefined
            ? '\n'
            : `; heap used ${mib(p.heapUsed)} MiB of ${mib(p.heapPhysical)} resident (new space ${mib(p.spaces['new_space']?.physical ?? 0)}), ` +
              `bytecode ${mib(p.bytecode)}, code ${mib(p.code)}, external ${mib(p.external)}; modules: ${String(p.modules.cjs)} CommonJS, ${String(p.modules.esm)} ESM, ${String(p.modules.builtins)} node builtins\n`),
      );
    }
    const last = samples.at(-1)?.probe;
    if (opts.modules && last !== undefined) {
      const list = Object.entries(last.modules.packages).sort((a, b) => b[1] - a[1]);
      process.stdout.write(`  modules by package: ${list.map(([k, v]) => `${k} ${String(v)}`).join(', ')}\n`);
    }
    process.stdout.write(
      `  median of ${String(runs)}: VmRSS ${(median(samples.map((s) => s.rss)) / 1024).toFixed(1)} MiB, VmHWM ${(median(samples.map((s) => s.hwm)) / 1024).toFixed(1)} MiB\n`,
    );
  } finally {
    backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
