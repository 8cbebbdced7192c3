// Starts Bellhop the way proxy-bench.sh expects a proxy under test: listen on $HOST:$PORT and
// round-robin over $BACKENDS. It writes a config.yml with one static two-member pool answering
// the host 127.0.0.1 and runs the real Bellhop with it (no Docker) the way the container image
// does: the JavaScript from tools/build-js.ts (dist-js/, built by test/bench/run.ts) with the
// node flags of the Dockerfile's CMD; BENCH_TS=1 runs cmd/bellhop/main.ts directly instead (npm start).
// BENCH_ACCESS_LOG=1 keeps the per-request access log (nginx's reference runs with it off).
// BENCH_NO_PIPELINING=1 turns upstream pipelining off for the pool (no_pipelining: true).
// BENCH_MIDDLEWARES=1 puts cidr_whitelist + request header edits + rate_limit (never reached)
// on the route (middleware-bench.ts compares it with the bare route).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { imageNodeFlags } from './image-node-flags.ts';

const backends = (process.env['BACKENDS'] ?? '127.0.0.1:19001,127.0.0.1:19002').split(',');
const dir = process.env['WORKDIR'] ?? mkdtempSync(join(tmpdir(), 'bellhop-bench-'));
const accessLog = process.env['BENCH_ACCESS_LOG'] === '1';
const MIDDLEWARES = `    middlewares:
      cidr_whitelist: { allow: [127.0.0.0/8, 10.0.0.0/8] }
      request: { set_headers: { X-Bench: "1" }, hide_headers: [X-Secret] }
      rate_limit: { average: 1000000, burst: 1000000 }
`;
const config = `
entrypoint:
  http: "${process.env['HOST'] ?? '127.0.0.1'}:${process.env['PORT'] ?? '19090'}"
api:
  listen: ""
docker:
  hosts: []
log_level: ${accessLog ? 'info' : 'warn'}
sticky:
  secret_file: ${join(dir, `sticky-${process.env['PORT'] ?? '19090'}.key`)}
routes:
  bench:
    aliases: ["127.0.0.1", localhost]
    members:
${backends.map((b, i) => `      - { name: b${String(i + 1)}, url: "http://${b}" }`).join('\n')}
    healthcheck: { interval: 5s }
${process.env['BENCH_NO_PIPELINING'] === '1' ? '    no_pipelining: true\n' : ''}${process.env['BENCH_MIDDLEWARES'] === '1' ? MIDDLEWARES : ''}`;
const file = join(dir, `bellhop-bench-${process.env['PORT'] ?? '19090'}.yml`);
writeFileSync(file, config);
const ts = process.env['BENCH_TS'] === '1';
const main = fileURLToPath(new URL(ts ? '../../cmd/bellhop/main.ts' : '../../dist-js/cmd/bellhop/main.js', import.meta.url));
const extra = [...(ts ? [] : imageNodeFlags()), ...(process.env['BELLHOP_NODE_ARGS'] ?? '').split(' ').filter(Boolean)];
const child = spawn(process.execPath, [...extra, main], {
  stdio: ['ignore', accessLog ? 'ignore' : 'inherit', 'inherit'],
  env: { ...process.env, BELLHOP_CONFIG: file },
});
// Peak RSS of Bellhop over the whole run (VmHWM), printed when the bench stops it.
const peakRss = (): string => {
  try {
    return /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${String(child.pid)}/status`, 'utf8'))?.[1] ?? '?';
  } catch {
    return '?';
  }
};
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    const kib = peakRss();
    process.stderr.write(`bellhop peak RSS (VmHWM): ${kib === '?' ? '?' : (Number(kib) / 1024).toFixed(1)} MiB\n`);
    child.kill(sig);
  });
}
child.on('exit', (code) => process.exit(code ?? 0));
