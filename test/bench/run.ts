// `npm run bench`: never part of the gate. Prints balancer picks/s, then the health checker's
// probe schedule in real time (health-probe-spread.ts: first probes after sync, probes/s, spread),
// then docker start → first proxied 200 on the local engine (discovery-latency.ts; skipped
// without Docker), then issue 18's proxy table (proxy-table.ts: nginx, a minimal undici
// forwarder, Bellhop with and without pipelining in one interleaved test/bench/kit/proxy-bench.sh
// run, small then 64 KiB answers, then the head-of-line case; needs nginx and wrk:
// apt-get install -y nginx wrk), then Bellhop's HTTPS entrypoint against nginx
// terminating TLS (https-bench.ts: keep-alive HTTPS/1.1, HTTP/2, new TLS connections; also needs
// h2load: apt-get install -y nghttp2-client), then Bellhop's idle memory as the image runs it
// (idle-memory.ts). BENCH_ONLY=balance|health|discovery|proxy|https|memory runs one part;
// BENCH_ONLY=middleware (not in the default run) compares a route with cidr_whitelist + request
// headers + rate_limit against the bare route (middleware-bench.ts). Extra arguments go to
// proxy-table.ts and from there to proxy-bench.sh (e.g. `npm run bench -- -d 10 -r 5`;
// `--no-64k`, `--no-hol` leave those parts out), or with BENCH_ONLY=memory to idle-memory.ts
// (e.g. `BENCH_ONLY=memory npm run bench -- --warm 2000`).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const args = process.argv.slice(2);
const only = process.env['BENCH_ONLY'];
if (only === undefined || only === 'balance') {
  const r = spawnSync(process.execPath, [here('./balance-bench.ts')], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
if (only === undefined || only === 'health') {
  const r = spawnSync(process.execPath, [here('./health-probe-spread.ts')], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
if (only === undefined || only === 'discovery') {
  const r = spawnSync(process.execPath, [here('./discovery-latency.ts')], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
if (only === undefined || only === 'proxy') {
  // issue 18's table: nginx, the undici forwarder, Bellhop with and without pipelining, small
  // and 64 KiB answers, then the head-of-line case (proxy-table.ts; ~5 minutes)
  const r = spawnSync(process.execPath, [here('./proxy-table.ts'), ...args], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
if (only === 'middleware') {
  const r = spawnSync(process.execPath, [here('./middleware-bench.ts'), ...args], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
if (only === undefined || only === 'https') {
  const r = spawnSync(process.execPath, [here('./https-bench.ts')], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
if (only === undefined || only === 'memory') {
  // builds dist-js itself
  const r = spawnSync(process.execPath, [here('./idle-memory.ts'), ...(only === 'memory' ? args : [])], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
