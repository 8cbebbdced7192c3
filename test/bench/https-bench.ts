// HTTPS: Bellhop's TLS entrypoint against nginx terminating TLS, in the same run on this machine
// (issue 13). `npm run bench` runs it; BENCH_ONLY=https runs only this part. Not part of the gate.
//
// Both proxies: one process doing the work (Bellhop is one Node process; nginx gets
// `worker_processes 1`, the same single core, as in test/bench/kit/proxy-bench.sh), the same
// self-signed EC P-256 certificate (openssl), TLS 1.2–1.3 with each side's default ciphers,
// HTTP/2 on, no access log, upstream keep-alive, round robin over the same two nginx backends
// (test/bench/kit/backend.nginx.conf.tmpl, 1 worker each, GET / → 2-byte "ok"). Bellhop runs as
// `node <the Dockerfile CMD's flags> cmd/bellhop/main.ts` (the image's V8 flags; BENCH_JS=1 runs
// dist-js/ from tools/build-js.ts instead), configured with `autocert: { provider: local }`, a
// file route to the backends, `docker: { hosts: [] }`, `log_level: warn`.
//
// Three loads, each run against nginx then Bellhop, back to back:
//   keep-alive HTTPS/1.1  wrk -t1 -c50 -d10s (ALPN http/1.1), one TLS handshake per connection
//   HTTP/2                h2load -n 50000 -c 20 -m 10 (ALPN h2); p99 from its per-request log
//   new connections       h2load -n 50 -c 50 --h1 in back-to-back batches for 10 s: every request
//                         is a new TCP connection and a full TLS handshake (h2load resumes no
//                         session; wrk -H 'Connection: close' would: see newConnections)
// Figures: requests/s, p99 latency, and CPU per request: utime+stime of the proxy's processes
// (/proc/<pid>/stat; nginx: master + worker) before and after the load, divided by requests.
// Ratio = Bellhop / nginx. Everything listens on 127.0.0.1 on ports chosen by the kernel; all
// processes started here are ended by pid on exit; a watchdog ends the run after MAX_SECONDS
// (170). Needs nginx, wrk, h2load (apt-get install -y nginx wrk nghttp2-client) and openssl.
// Environment: BENCH_HTTPS_SECONDS (10) per wrk run, BENCH_HTTPS_H2_REQUESTS (50000),
// BENCH_HTTPS_ROUNDS (1; medians over rounds when more), BENCH_KEEP=1 keeps the scratch folder.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { imageNodeFlags } from './image-node-flags.ts';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const env = process.env;
const SECONDS = Number(env['BENCH_HTTPS_SECONDS'] ?? 10);
const H2_REQUESTS = Number(env['BENCH_HTTPS_H2_REQUESTS'] ?? 50_000);
const ROUNDS = Number(env['BENCH_HTTPS_ROUNDS'] ?? 1);
const MAX_SECONDS = Number(env['MAX_SECONDS'] ?? 170);
const CONNS = 50;
const H2_CLIENTS = 20;
const H2_STREAMS = 10;
const TICK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);

for (const tool of ['nginx', 'wrk', 'h2load', 'openssl']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    process.stderr.write(`https-bench: missing tool ${tool} (apt-get install -y nginx wrk nghttp2-client openssl); skipped\n`);
    process.exit(0);
  }
}

const work = mkdtempSync(join(tmpdir(), 'bellhop-https-bench-'));
chmodSync(work, 0o755); // nginx workers run as nobody when started by root
const children: ChildProcess[] = [];
let cleaned = false;
function cleanup(): void {
  if (cleaned) return;
  cleaned = true;
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  if (env['BENCH_KEEP'] !== '1') rmSync(work, { recursive: true, force: true });
  else process.stderr.write(`https-bench: kept ${work}\n`);
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => { cleanup(); process.exit(130); });
const watchdog = setTimeout(() => {
  process.stderr.write(`https-bench: over ${String(MAX_SECONDS)} s, stopping\n`);
  cleanup();
  process.exit(1);
}, MAX_SECONDS * 1000);
watchdog.unref();

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

function run(cmd: string, args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(c);
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    c.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    c.on('error', (e) => { err += e.message; });
    c.on('close', (code) => resolve({ code, out, err }));
  });
}

async function waitTls(port: number, what: string): Promise<void> {
  const deadline = Date.now() + 60_000; // a busy box (load 10+) starts Node slowly
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${what} did not accept TLS on 127.0.0.1:${String(port)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * What the load tools negotiate (wrk and h2load link the system OpenSSL, as `openssl s_client`
 * does): protocol, cipher and key-exchange group, to show both proxies run the same TLS. (Node's
 * own client would offer X25519MLKEM768, which Node's OpenSSL accepts and the system nginx not.)
 */
async function tlsInfo(port: number): Promise<string> {
  const r = await run('sh', ['-c', `openssl s_client -connect 127.0.0.1:${String(port)} -alpn h2,http/1.1 </dev/null 2>&1`]);
  const pick = (re: RegExp): string => re.exec(r.out)?.[1]?.trim() ?? '?';
  return `${pick(/New, (TLSv[\d.]+), Cipher is (\S+)/)} ${pick(/Cipher is (\S+)/)} group=${pick(/(?:Server|Peer) Temp Key: ([^\n]+)/)} alpn=${pick(/ALPN protocol: (\S+)/)}`;
}

// ---- certificate, backends, nginx, Bellhop ----
const certPath = join(work, 'cert.pem');
const keyPath = join(work, 'key.pem');
const cert = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyPath, '-out', certPath,
  '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-days', '2'], { encoding: 'utf8' });
if (cert.status !== 0) throw new Error(`openssl: ${cert.stderr}`);
chmodSync(keyPath, 0o644);

const backendPorts = [await freePort(), await freePort()];
const nginxPort = await freePort();
const [bhHttp, bhHttps] = [await freePort(), await freePort()];

function startNginx(name: string, conf: string, port: number): ChildProcess {
  const file = join(work, `${name}.conf`);
  writeFileSync(file, conf);
  const t = spawnSync('nginx', ['-t', '-q', '-e', join(work, `${name}.t.err`), '-p', work, '-c', file], { encoding: 'utf8' });
  if (t.status !== 0) throw new Error(`nginx rejects ${name}.conf: ${t.stderr}${existsSync(join(work, `${name}.t.err`)) ? readFileSync(join(work, `${name}.t.err`), 'utf8') : ''}`);
  const c = spawn('nginx', ['-e', join(work, `${name}.starterr`), '-p', work, '-c', file], { stdio: 'ignore' });
  children.push(c);
  c.on('exit', (code) => { if (!cleaned) process.stderr.write(`https-bench: ${name} (port ${String(port)}) exited ${String(code)}\n`); });
  return c;
}

const backendTmpl = readFileSync(here('./kit/backend.nginx.conf.tmpl'), 'utf8');
mkdirSync(join(work, 'www'));
for (const p of backendPorts) {
  startNginx(`backend-${String(p)}`, backendTmpl.replaceAll('@WORKDIR@', work).replaceAll('@PORT@', String(p)), p);
}
// The reference: nginx 1 worker, TLS + HTTP/2 on one port, the kit's proxy settings.
// `listen … ssl http2` (nginx < 1.25.1 has no `http2 on;`; newer ones still accept this form).
const nginx = startNginx('nginx-https', `
worker_processes 1;
daemon off;
pid ${work}/nginx-https.pid;
error_log ${work}/nginx-https.err warn;
events { worker_connections 16384; }
http {
    access_log off;
    server_tokens off;
    tcp_nodelay on;
    keepalive_timeout 300s;
    keepalive_requests 10000000;
    client_body_temp_path ${work}/tmp-proxy-body;
    proxy_temp_path ${work}/tmp-proxy;
    upstream backends {
${backendPorts.map((p) => `        server 127.0.0.1:${String(p)};`).join('\n')}
        keepalive 1024;
        keepalive_requests 10000000;
        keepalive_timeout 300s;
    }
    server {
        listen 127.0.0.1:${String(nginxPort)} ssl http2 backlog=4096;
        ssl_certificate ${certPath};
        ssl_certificate_key ${keyPath};
        ssl_protocols TLSv1.2 TLSv1.3;
        location / {
            proxy_pass http://backends;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffer_size 16k;
            proxy_buffers 8 16k;
            proxy_busy_buffers_size 32k;
            proxy_max_temp_file_size 0;
        }
    }
}
`, nginxPort);

const bellhopConfig = join(work, 'bellhop.yml');
writeFileSync(bellhopConfig, `
entrypoint:
  http: "127.0.0.1:${String(bhHttp)}"
  https: "127.0.0.1:${String(bhHttps)}"
  redirect_http: false
api:
  listen: ""
docker:
  hosts: []
log_level: warn
sticky:
  secret_file: ${join(work, 'sticky.key')}
autocert:
  provider: local
  cert_path: ${certPath}
  key_path: ${keyPath}
routes:
  bench:
    aliases: ["127.0.0.1", localhost]
    members:
${backendPorts.map((p, i) => `      - { name: b${String(i + 1)}, url: "http://127.0.0.1:${String(p)}" }`).join('\n')}
    healthcheck: { interval: 5s }
`);
const js = env['BENCH_JS'] === '1';
const main = here(js ? '../../dist-js/cmd/bellhop/main.js' : '../../cmd/bellhop/main.ts');
if (!existsSync(main)) throw new Error(`${main} is missing: run \`node --no-warnings tools/build-js.ts\` first`);
const nodeArgs = [...imageNodeFlags(), ...(env['BELLHOP_NODE_ARGS'] ?? '').split(' ').filter(Boolean)];
// The config file says where to listen: no inherited BELLHOP_*_ADDR may move or disable a listener
// (BELLHOP_HTTPS_ADDR="" turns HTTPS off).
const bellhopEnv: NodeJS.ProcessEnv = { ...env, BELLHOP_CONFIG: bellhopConfig };
for (const k of ['BELLHOP_HTTP_ADDR', 'BELLHOP_HTTPS_ADDR', 'BELLHOP_API_ADDR']) delete bellhopEnv[k];
const bellhop = spawn(process.execPath, [...nodeArgs, main], {
  stdio: ['ignore', 'inherit', 'inherit'],
  env: bellhopEnv,
});
children.push(bellhop);
bellhop.on('exit', (code, sig) => { if (!cleaned) process.stderr.write(`https-bench: bellhop exited ${String(code ?? sig)}\n`); });

await waitTls(nginxPort, 'nginx');
await waitTls(bhHttps, 'bellhop');

// ---- CPU of a process tree, in clock ticks ----
function ticks(pid: number): number {
  try {
    const s = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
  } catch {
    return 0;
  }
}
function treePids(pid: number): number[] {
  let kids: number[] = [];
  try {
    kids = readFileSync(`/proc/${String(pid)}/task/${String(pid)}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch { /* gone */ }
  return [pid, ...kids.flatMap(treePids)];
}
const cpuOf = (pid: number): number => treePids(pid).reduce((a, p) => a + ticks(p), 0);

interface Result { rps: number; p99Ms: number; cpuUsPerReq: number; requests: number; errors: number; othersPct: number }
type Target = { name: 'nginx' | 'bellhop'; port: number; pid: number };
const targets: Target[] = [
  { name: 'nginx', port: nginxPort, pid: nginx.pid! },
  { name: 'bellhop', port: bhHttps, pid: bellhop.pid! },
];

/** Busy share of the whole box (% of one core) over `ms`, from /proc/stat: what others use before a run. */
async function boxBusy(ms: number): Promise<number> {
  const read = (): [number, number] => {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    return [f.reduce((a, x) => a + x, 0) - idle, idle];
  };
  const [b0] = read();
  await new Promise((r) => setTimeout(r, ms));
  const [b1] = read();
  return ((b1 - b0) / TICK / (ms / 1000)) * 100;
}

async function measured(t: Target, load: () => Promise<{ requests: number; rps: number; p99Ms: number; errors: number; detail: string }>): Promise<Result> {
  const idle = await boxBusy(500);
  const before = cpuOf(t.pid);
  const r = await load();
  const cpuUs = ((cpuOf(t.pid) - before) / TICK) * 1e6;
  if (r.errors > 0) process.stderr.write(`https-bench: ${t.name}: ${String(r.errors)} errors ${r.detail}\n`);
  return { othersPct: idle, rps: r.rps, p99Ms: r.p99Ms, requests: r.requests, errors: r.errors, cpuUsPerReq: r.requests > 0 ? cpuUs / r.requests : NaN };
}

async function wrk(port: number, seconds: number, close: boolean): Promise<{ requests: number; rps: number; p99Ms: number; errors: number; detail: string }> {
  const r = await run('wrk', ['-t1', `-c${String(CONNS)}`, `-d${String(seconds)}s`, '-s', here('./kit/wrk-report.lua'),
    ...(close ? ['-H', 'Connection: close'] : []), `https://127.0.0.1:${String(port)}/`]);
  const line = /WRK_RESULT (.*)/.exec(r.out)?.[1];
  if (line === undefined) throw new Error(`wrk: ${r.out}${r.err}`);
  const v = Object.fromEntries(line.split(' ').map((kv) => kv.split('=') as [string, string]).map(([k, x]) => [k, Number(x)]));
  const errors = (v['err_connect'] ?? 0) + (v['err_read'] ?? 0) + (v['err_write'] ?? 0) + (v['err_status'] ?? 0) + (v['err_timeout'] ?? 0);
  return { requests: v['requests'] ?? 0, rps: v['rps'] ?? 0, p99Ms: (v['p99_us'] ?? NaN) / 1000, errors, detail: line };
}

async function h2load(port: number, requests: number): Promise<{ requests: number; rps: number; p99Ms: number; errors: number; detail: string }> {
  const log = join(work, 'h2load.log');
  rmSync(log, { force: true });
  const r = await run('h2load', ['-n', String(requests), '-c', String(H2_CLIENTS), '-m', String(H2_STREAMS), '-t', '1', '--log-file', log, `https://127.0.0.1:${String(port)}/`]);
  const fin = /finished in ([\d.]+)(m?s), ([\d.]+) req\/s/.exec(r.out);
  const req = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(r.out);
  const status = /status codes: (\d+) 2xx/.exec(r.out);
  if (fin === null || req === null) throw new Error(`h2load: ${r.out}${r.err}`);
  if (!/Application protocol: h2/.test(r.out)) throw new Error(`h2load did not negotiate h2: ${r.out}`);
  const durations = readFileSync(log, 'utf8').trim().split('\n').map((l) => Number(l.split('\t')[2])).sort((a, b) => a - b);
  const p99 = durations[Math.min(durations.length - 1, Math.ceil(durations.length * 0.99) - 1)] ?? NaN;
  const done = Number(req[3]);
  const ok2xx = Number(status?.[1] ?? 0);
  return { requests: done, rps: Number(fin[3]), p99Ms: p99 / 1000, errors: Number(req[5]) + Number(req[6]) + (done - ok2xx), detail: req[0] };
}

/**
 * Full TLS handshakes: h2load batches of CONNS clients, one HTTP/1.1 request per connection, for
 * `seconds`. h2load keeps no TLS session between connections (wrk does: with `Connection: close`
 * it resumed 99 % of its handshakes against nginx, which would measure resumption instead). The
 * latency figure is h2load's time to first byte (connect + handshake + request), as the mean of
 * each batch, and the p99 is taken over those batch means (h2load prints no percentiles for it).
 */
async function newConnections(port: number, seconds: number): Promise<{ requests: number; rps: number; p99Ms: number; errors: number; detail: string }> {
  const end = Date.now() + seconds * 1000;
  let requests = 0;
  let errors = 0;
  let busySecs = 0;
  const ttfb: number[] = [];
  while (Date.now() < end) {
    const r = await run('h2load', ['-n', String(CONNS), '-c', String(CONNS), '--h1', '-t', '1', `https://127.0.0.1:${String(port)}/`]);
    const fin = /finished in ([\d.]+)(m?s),/.exec(r.out);
    const req = /requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(r.out);
    const first = /time to 1st byte:\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)/.exec(r.out);
    if (fin === null || req === null || first === null) throw new Error(`h2load: ${r.out}${r.err}`);
    busySecs += Number(fin[1]) / (fin[2] === 'ms' ? 1000 : 1);
    requests += Number(req[2]);
    errors += Number(req[3]) + Number(req[4]) + Number(req[1]) - Number(req[2]);
    ttfb.push(Number(first[1]) * (first[2] === 'us' ? 0.001 : first[2] === 's' ? 1000 : 1));
  }
  ttfb.sort((x, y) => x - y);
  const p99 = ttfb[Math.min(ttfb.length - 1, Math.ceil(ttfb.length * 0.99) - 1)] ?? NaN;
  return { requests, rps: requests / busySecs, p99Ms: p99, errors, detail: `${String(ttfb.length)} batches` };
}

const modes = [
  { name: 'keep-alive HTTPS/1.1', load: (p: number) => wrk(p, SECONDS, false), warm: (p: number) => wrk(p, 2, false) },
  { name: 'HTTP/2 (h2load)', load: (p: number) => h2load(p, H2_REQUESTS), warm: (p: number) => h2load(p, Math.min(10_000, H2_REQUESTS)) },
  { name: 'new TLS connections', load: (p: number) => newConnections(p, SECONDS), warm: (p: number) => newConnections(p, 1) },
] as const;

for (const t of targets) process.stdout.write(`# ${t.name.padEnd(7)} 127.0.0.1:${String(t.port)}  ${await tlsInfo(t.port)}\n`);
process.stdout.write(`# https-bench: ${String(ROUNDS)} round(s); wrk -t1 -c${String(CONNS)} -d${String(SECONDS)}s; h2load -n ${String(H2_REQUESTS)} -c ${String(H2_CLIENTS)} -m ${String(H2_STREAMS)}; CPU = proxy utime+stime\n`);
const results = new Map<string, Result[]>();
for (let round = 1; round <= ROUNDS; round++) {
  for (const m of modes) {
    for (const t of targets) {
      if (round === 1) await m.warm(t.port);
      const r = await measured(t, () => m.load(t.port));
      const key = `${m.name}|${t.name}`;
      results.set(key, [...(results.get(key) ?? []), r]);
      process.stdout.write(`round ${String(round)}  ${m.name.padEnd(21)} ${t.name.padEnd(8)} ${r.rps.toFixed(0).padStart(7)} req/s  p99 ${r.p99Ms.toFixed(2).padStart(6)} ms  ${r.cpuUsPerReq.toFixed(1).padStart(6)} µs CPU/req  errors ${String(r.errors)}  (box busy before: ${r.othersPct.toFixed(0)}% of a core)\n`);
    }
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
process.stdout.write(`\n${'load'.padEnd(21)} ${'target'.padEnd(8)} ${'req/s'.padStart(7)} ${'p99 ms'.padStart(7)} ${'CPU µs/req'.padStart(10)}   (median of ${String(ROUNDS)})\n`);
for (const m of modes) {
  const n = results.get(`${m.name}|nginx`)!;
  const b = results.get(`${m.name}|bellhop`)!;
  const row = (name: string, rs: Result[]): string =>
    `${m.name.padEnd(21)} ${name.padEnd(8)} ${median(rs.map((r) => r.rps)).toFixed(0).padStart(7)} ${median(rs.map((r) => r.p99Ms)).toFixed(2).padStart(7)} ${median(rs.map((r) => r.cpuUsPerReq)).toFixed(1).padStart(10)}\n`;
  process.stdout.write(row('nginx', n) + row('bellhop', b));
  const ratio = median(b.map((r, i) => r.rps / n[i]!.rps));
  const p99 = median(b.map((r, i) => r.p99Ms / n[i]!.p99Ms));
  const cpu = median(b.map((r, i) => r.cpuUsPerReq / n[i]!.cpuUsPerReq));
  process.stdout.write(`HTTPS_RESULT mode=${m.name.replaceAll(' ', '_')} ratio_rps=${ratio.toFixed(3)} ratio_p99=${p99.toFixed(2)} ratio_cpu=${cpu.toFixed(2)} bellhop_rps=${median(b.map((r) => r.rps)).toFixed(0)} nginx_rps=${median(n.map((r) => r.rps)).toFixed(0)} bellhop_p99_ms=${median(b.map((r) => r.p99Ms)).toFixed(2)} nginx_p99_ms=${median(n.map((r) => r.p99Ms)).toFixed(2)} bellhop_cpu_us=${median(b.map((r) => r.cpuUsPerReq)).toFixed(1)} nginx_cpu_us=${median(n.map((r) => r.cpuUsPerReq)).toFixed(1)} errors=${String([...b, ...n].reduce((a, r) => a + r.errors, 0))}\n`);
}
cleanup();
process.exit(0);
