// Bellhop's memory while 1 GiB goes up and 1 GiB comes down through it. The proxy runs in a
// child process (createProxyServer with one static route, as the app wires it); this process is
// the client and the backend. RSS of the child is read from /proc/<pid>/status (VmRSS sampled
// every 50 ms, VmHWM at the end). Run: `npx node test/bench/stream-memory.ts [MiB=1024]`.
// Never part of the gate; prints figures only (exit 1 if a transfer fails).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { createProxyServer, type ProxyRoute } from '../../internal/proxy/index.ts';

const CHUNK = Buffer.alloc(64 * 1024, 0x61);

if (process.argv[2] === '--proxy') {
  // child: the proxy under test, forwarding the host `app` to the backend origin in argv[3]
  const origin = process.argv[3]!;
  const m = { id: 'm1', name: 'm1', origin, noTlsVerify: false };
  const route: ProxyRoute = {
    name: 'app',
    pick: (_ctx, tried) => (tried.has('m1') ? undefined : { member: m }),
    begin: () => () => {},
  };
  const proxy = createProxyServer({
    resolver: () => ({ resolve: (h) => (h === 'app' ? route : undefined) }),
    trustedProxies: [],
    timeouts: { headerMs: 10_000, idleMs: 60_000, upstreamConnectMs: 5_000, upstreamResponseMs: 60_000, drainMs: 1_000 },
    logger: pino({ level: 'warn' }),
    accessLog: true,
  });
  const addr = await proxy.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`PORT ${addr.port}\n`);
  process.on('SIGTERM', () => void proxy.close().then(() => process.exit(0)));
} else {
  await main();
}

function status(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, hwm: kib('VmHWM') / 1024 };
}

async function main(): Promise<void> {
  const mib = Number(process.argv[2] ?? 1024);
  const total = mib * 1024 * 1024;
  let uploaded = 0;
  const backend = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'PUT') {
      uploaded = 0;
      req.on('data', (c: Buffer) => { uploaded += c.length; });
      req.on('end', () => res.end(String(uploaded)));
      return;
    }
    if (req.url === '/big') {
      res.writeHead(200, { 'content-length': String(total) });
      let sent = 0;
      const pump = (): void => {
        while (sent < total) {
          const n = Math.min(CHUNK.length, total - sent);
          sent += n;
          if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
      return;
    }
    res.end('ok');
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
  const child = spawn(process.execPath, [new URL(import.meta.url).pathname, '--proxy', origin], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      const m = /PORT (\d+)/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`proxy exited early (${String(code)})`)));
  });
  const pid = child.pid!;
  const agentless = { host: '127.0.0.1', port, agent: false as const };

  const send = (method: string, path: string, body?: () => void): Promise<{ status: number; bytes: number; text: string }> =>
    new Promise((resolve, reject) => {
      const req = request({ ...agentless, method, path, headers: { host: 'app', ...(method === 'PUT' ? { 'content-length': String(total) } : {}) } }, (res) => {
        let bytes = 0;
        let text = '';
        res.on('data', (c: Buffer) => {
          bytes += c.length;
          if (text.length < 64) text += c.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, text }));
        res.on('error', reject);
      });
      req.on('error', reject);
      if (body === undefined) req.end();
      else {
        let sent = 0;
        const pump = (): void => {
          while (sent < total) {
            sent += CHUNK.length;
            if (!req.write(CHUNK)) {
              req.once('drain', pump);
              return;
            }
          }
          req.end();
        };
        pump();
        body();
      }
    });

  // warm up: a few small requests so pools, JIT and buffers exist before the baseline
  for (let i = 0; i < 200; i++) await send('GET', '/');
  await new Promise((r) => setTimeout(r, 200));
  const base = status(pid);

  const measure = async (what: string, run: () => Promise<{ status: number; bytes: number; text: string }>): Promise<boolean> => {
    let peak = status(pid).rss;
    const timer = setInterval(() => { peak = Math.max(peak, status(pid).rss); }, 50);
    const t0 = performance.now();
    const r = await run();
    const secs = (performance.now() - t0) / 1000;
    clearInterval(timer);
    peak = Math.max(peak, status(pid).rss);
    const ok = r.status === 200 && (what === 'upload' ? r.text === String(total) : r.bytes === total);
    console.log(`${what.padEnd(8)} ${mib} MiB in ${secs.toFixed(1)} s (${(mib / secs).toFixed(0)} MiB/s): status ${r.status}, ` +
      `RSS peak ${peak.toFixed(1)} MiB, growth over baseline ${(peak - base.rss).toFixed(1)} MiB${ok ? '' : '  TRANSFER FAILED'}`);
    return ok;
  };

  console.log(`proxy pid ${pid}: baseline RSS ${base.rss.toFixed(1)} MiB (after 200 small requests)`);
  const upOk = await measure('upload', () => send('PUT', '/up', () => {}));
  const downOk = await measure('download', () => send('GET', '/big'));
  const end = status(pid);
  console.log(`VmHWM (peak RSS of the proxy process over its life) ${end.hwm.toFixed(1)} MiB, ` +
    `${(end.hwm - base.rss).toFixed(1)} MiB above baseline`);
  child.kill('SIGTERM');
  backend.close();
  backend.closeAllConnections();
  process.exitCode = upOk && downOk ? 0 : 1;
}
