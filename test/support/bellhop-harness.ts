// Runs a whole Bellhop for end-to-end tests, either as a child process exactly as a user starts
// it (`node cmd/bellhop/main.ts` with BELLHOP_CONFIG) or in-process through createBellhop().
// Both listen on 127.0.0.1 port 0 for the proxy and the admin API, and read the real Docker
// engine from the default socket (or DOCKER_HOST).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { TEST_LABEL_FILTER } from './docker-test.ts';

const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const MAIN = join(REPO, 'cmd/bellhop/main.ts');

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One member as /api/routes shows it. */
export interface RoutesMember {
  name: string;
  container_id: string | null;
  url: string;
  configured_weight: number | null;
  normalised_weight: number | null;
  health: string;
  usable: boolean;
  state: string;
  reason: string;
}

export interface RoutesRoute {
  alias: string;
  hosts: string[];
  source: string;
  load_balance: { mode: string; sticky: boolean };
  /** e.g. "2/3 members healthy", "0/1 members healthy, 1 asleep" */
  summary: string;
  members: RoutesMember[];
}

export interface RoutesError {
  code: string;
  source: string;
  key: string;
  message: string;
}

export interface RoutesView {
  routes: RoutesRoute[];
  docker: { host: string; state: string; lastError?: unknown; seconds_since_sync: number | null }[];
  errors: RoutesError[];
  warnings: RoutesError[];
}

export interface BellhopUnderTest {
  readonly mode: 'child' | 'in-process';
  readonly httpPort: number;
  /** The HTTPS entrypoint's port, when the config has `autocert`. */
  readonly httpsPort: number | undefined;
  readonly apiPort: number;
  /** The temp directory holding config.yml and the sticky key. */
  readonly dir: string;
  /** Log lines so far (JSON text). */
  logs(): string[];
  /** A GET (or `method`) through the proxy with `Host: host`, on a fresh connection. */
  get(host: string, path?: string, init?: { method?: string; headers?: Record<string, string>; timeoutMs?: number }): Promise<HttpResult>;
  /** GET /api/routes. */
  routes(): Promise<RoutesView>;
  /** The route named `alias`, if present in /api/routes. */
  route(alias: string): Promise<RoutesRoute | undefined>;
  /** For the child process: has it exited (crashed)? */
  exited(): { code: number | null; signal: string | null } | undefined;
  stop(): Promise<void>;
}

export interface StartOptions {
  mode?: 'child' | 'in-process';
  /** Extra config YAML appended to the harness's own (api/entrypoint come from env). */
  yaml?: string;
  /** Extra environment for the child. */
  env?: Record<string, string>;
  logLevel?: string;
  /** Plain-HTTP port (an ACME server's HTTP-01 validation must find Bellhop there); default: any free one. */
  httpPort?: number;
}

/** A plain HTTP request to 127.0.0.1:port on a fresh connection, from 127.0.0.1 or `from`
 *  (another loopback address, for client-IP rules). */
export function httpGet(port: number, host: string, path = '/', init: { method?: string; headers?: Record<string, string>; timeoutMs?: number; from?: string } = {}): Promise<HttpResult> {
  return new Promise((resolveP, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: init.method ?? 'GET', localAddress: init.from ?? '127.0.0.1', agent: false, headers: { host, ...(init.headers ?? {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolveP({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(init.timeoutMs ?? 10_000, () => req.destroy(new Error(`request to ${host}${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** A TCP port that was free a moment ago on 127.0.0.1 (bind port 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolveP, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolveP(port));
    });
  });
}

function writeConfig(dir: string, yaml: string | undefined, logLevel: string): string {
  const file = join(dir, 'config.yml');
  // Only this test process's containers (see TEST_LABELS), unless the test sets docker: itself.
  const docker = /^docker:/m.test(yaml ?? '') ? '' : `docker:\n  label_filter: ["${TEST_LABEL_FILTER}"]`;
  const text = [`log_level: ${logLevel}`, 'sticky:', `  secret_file: ${join(dir, 'sticky.key')}`, docker, yaml ?? ''].join('\n');
  writeFileSync(file, `${text}\n`);
  return file;
}

/**
 * Starts Bellhop and resolves once both listeners are up. A child whose port was taken between
 * freePort() and its own listen (another test file's listener, or any outgoing connection: the
 * ports come from the ephemeral range) is started again on new ports, twice at most.
 */
export async function startBellhop(opts: StartOptions = {}): Promise<BellhopUnderTest> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startBellhopOnce(opts);
    } catch (err) {
      const portsOurs = (opts.mode ?? 'child') === 'child' && opts.httpPort === undefined;
      if (!portsOurs || attempt >= 3 || !String((err as Error).message).includes('EADDRINUSE')) throw err;
    }
  }
}

async function startBellhopOnce(opts: StartOptions): Promise<BellhopUnderTest> {
  const mode = opts.mode ?? 'child';
  const dir = mkdtempSync(join(tmpdir(), 'bellhop-e2e-'));
  const configFile = writeConfig(dir, opts.yaml, opts.logLevel ?? 'info');
  // The config refuses port 0 (a user never means it), so the child gets free ports found by
  // binding port 0 here first; the in-process Bellhop takes 127.0.0.1:0 through start().
  const env: NodeJS.ProcessEnv = { ...process.env, BELLHOP_CONFIG: configFile, ...(opts.env ?? {}) };
  delete env['LOG_LEVEL'];
  delete env['BELLHOP_HTTP_ADDR'];
  delete env['BELLHOP_API_ADDR'];
  if (mode === 'child') {
    env['BELLHOP_HTTP_ADDR'] = `127.0.0.1:${String(opts.httpPort ?? await freePort())}`;
    if (env['BELLHOP_HTTPS_ADDR'] === undefined) env['BELLHOP_HTTPS_ADDR'] = `127.0.0.1:${String(await freePort())}`;
    env['BELLHOP_API_ADDR'] = `127.0.0.1:${String(await freePort())}`;
  }
  const lines: string[] = [];
  let ports: { http: number; https?: number | undefined; api: number };
  let stopImpl: () => Promise<void>;
  let exited: () => { code: number | null; signal: string | null } | undefined = () => undefined;

  if (mode === 'child') {
    const child: ChildProcess = spawn(process.execPath, [MAIN], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let exit: { code: number | null; signal: string | null } | undefined;
    child.on('exit', (code, signal) => {
      exit = { code, signal };
    });
    exited = () => exit;
    let buf = '';
    const serving = new Promise<{ http: number; https: number | undefined; api: number }>((resolveP, reject) => {
      const onLine = (line: string): void => {
        lines.push(line);
        if (!line.includes('bellhop is serving')) return;
        try {
          const o = JSON.parse(line) as { http: string; https?: string; api: string };
          const https = o.https === undefined || o.https === 'disabled' ? undefined : Number(o.https.split(':').pop());
          resolveP({ http: Number(o.http.split(':').pop()), https, api: Number(o.api.split(':').pop()) });
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      };
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (d: string) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          onLine(buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
      });
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (d: string) => lines.push(`stderr: ${d}`));
      child.on('exit', (code) => reject(new Error(`bellhop exited with ${String(code)} before serving:\n${lines.join('\n')}`)));
      setTimeout(() => reject(new Error(`bellhop did not start within 20 s:\n${lines.join('\n')}`)), 20_000).unref();
    });
    try {
      ports = await serving;
    } catch (err) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    stopImpl = async () => {
      if (exit === undefined) {
        const done = new Promise<void>((r) => child.once('exit', () => r()));
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await done;
        clearTimeout(t);
      }
    };
  } else {
    const { loadConfig } = await import('../../internal/config/index.ts');
    const { createBellhop } = await import('../../cmd/bellhop/app.ts');
    const loaded = loadConfig({ env, cwd: dir });
    if (!loaded.ok) throw new Error(`config: ${loaded.errors.map((e) => e.format()).join('\n')}`);
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(l);
        cb();
      },
    });
    const log = pino({ level: loaded.config.logLevel, base: { app: 'bellhop' } }, sink);
    const secret = new Uint8Array(32).fill(7);
    const bellhop = createBellhop(loaded.config, log, secret);
    const s = await bellhop.start({ http: { host: '127.0.0.1', port: opts.httpPort ?? 0 }, https: { host: '127.0.0.1', port: 0 }, api: { host: '127.0.0.1', port: 0 } });
    if (s.apiPort === undefined) throw new Error('admin API disabled');
    ports = { http: s.httpPort, https: s.httpsPort, api: s.apiPort };
    stopImpl = () => bellhop.stop();
  }

  const api = async <T>(path: string): Promise<T> => {
    const r = await httpGet(ports.api, '127.0.0.1', path);
    if (r.status !== 200) throw new Error(`admin ${path}: ${String(r.status)} ${r.body}`);
    return JSON.parse(r.body) as T;
  };
  let stopped = false;
  return {
    mode,
    httpPort: ports.http,
    httpsPort: ports.https,
    apiPort: ports.api,
    dir,
    logs: () => lines,
    get: (host, path = '/', init = {}) => httpGet(ports.http, host, path, init),
    routes: () => api<RoutesView>('/api/routes'),
    route: async (alias) => (await api<RoutesView>('/api/routes')).routes.find((r) => r.alias === alias),
    exited,
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await stopImpl();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
