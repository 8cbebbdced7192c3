// Headless Chromium for browser tests, driven over the Chrome DevTools Protocol with Node's
// built-in WebSocket (no puppeteer/playwright dependency). One browser per test, its own
// throw-away profile, DevTools on a port Chromium picks (read from DevToolsActivePort).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The Chromium binary: $BELLHOP_CHROMIUM, else the first of chromium, chromium-browser, google-chrome on PATH. */
export function findChromium(): string | undefined {
  const env = process.env['BELLHOP_CHROMIUM'];
  if (env) return env;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    const path = r.stdout.trim();
    if (r.status === 0 && path) return path;
  }
  return undefined;
}

type Listener = (params: Record<string, unknown>, sessionId: string | undefined) => void;

/** A DevTools connection to the browser; page commands go through a flattened session id. */
export class Cdp {
  private readonly ws: WebSocket;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void; method: string }>();
  private readonly listeners = new Map<string, Set<Listener>>();

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.addEventListener('message', (ev: MessageEvent) => this.onMessage(String(ev.data)));
    ws.addEventListener('close', () => {
      for (const p of this.pending.values()) p.reject(new Error(`DevTools connection closed during ${p.method}`));
      this.pending.clear();
    });
  }

  static connect(url: string): Promise<Cdp> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.addEventListener('open', () => resolve(new Cdp(ws)), { once: true });
      ws.addEventListener('error', () => reject(new Error(`cannot connect to DevTools at ${url}`)), { once: true });
    });
  }

  private onMessage(text: string): void {
    const msg = JSON.parse(text) as { id?: number; result?: Record<string, unknown>; error?: { message: string }; method?: string; params?: Record<string, unknown>; sessionId?: string };
    if (msg.id !== undefined) {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}`));
      else p.resolve(msg.result ?? {});
      return;
    }
    if (msg.method) for (const l of this.listeners.get(msg.method) ?? []) l(msg.params ?? {}, msg.sessionId);
  }

  send<T = Record<string, unknown>>(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: Record<string, unknown>) => void, reject, method });
      this.ws.send(JSON.stringify(sessionId === undefined ? { id, method, params } : { id, method, params, sessionId }));
    });
  }

  on(method: string, listener: Listener): () => void {
    let set = this.listeners.get(method);
    if (!set) this.listeners.set(method, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  close(): void {
    this.ws.close();
  }
}

/** A page (tab) in the browser. */
export interface ChromiumPage {
  readonly sessionId: string;
  send<T = Record<string, unknown>>(method: string, params?: Record<string, unknown>): Promise<T>;
  /** Evaluates an expression in the page and returns its value (by value, JSON-able). */
  evaluate<T>(expression: string): Promise<T>;
  navigate(url: string): Promise<void>;
  /** PNG bytes of the viewport. */
  screenshot(): Promise<Buffer>;
}

export interface Chromium {
  readonly cdp: Cdp;
  newPage(): Promise<ChromiumPage>;
  /** Everything Chromium wrote to stderr (for failure messages). */
  stderr(): string;
  close(): Promise<void>;
}

export interface LaunchOptions {
  /** `--host-resolver-rules`, e.g. `MAP *.test 127.0.0.1`. */
  hostResolverRules?: string;
  timeoutMs?: number;
}

/** Starts headless Chromium; throws with a clear message when it is not installed. */
export async function launchChromium(opts: LaunchOptions = {}): Promise<Chromium> {
  const bin = findChromium();
  if (!bin) throw new Error('Chromium is not installed: `apt-get install -y chromium` (.ci/run installs it), or set BELLHOP_CHROMIUM');
  const dir = mkdtempSync(join(tmpdir(), 'bellhop-chromium-'));
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-dev-shm-usage',
    '--window-size=1000,700',
    `--user-data-dir=${dir}`,
    '--remote-debugging-port=0',
  ];
  if (opts.hostResolverRules) args.push(`--host-resolver-rules=${opts.hostResolverRules}`);
  args.push('about:blank');
  const child: ChildProcess = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    if (err.length < 100_000) err += d;
  });
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  child.on('error', (e) => {
    err += `spawn error: ${e.message}\n`;
    exited = true;
  });
  const cleanup = async (): Promise<void> => {
    if (!exited) {
      const done = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await done;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  // DevToolsActivePort: line 1 the port, line 2 the browser target path.
  const file = join(dir, 'DevToolsActivePort');
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  let wsUrl: string | undefined;
  while (wsUrl === undefined) {
    if (exited) {
      await cleanup();
      throw new Error(`Chromium exited before DevTools was up:\n${err}`);
    }
    if (Date.now() > deadline) {
      await cleanup();
      throw new Error(`Chromium did not open DevTools within ${opts.timeoutMs ?? 20_000} ms:\n${err}`);
    }
    if (existsSync(file)) {
      const [port, path] = readFileSync(file, 'utf8').split('\n');
      if (port && path) wsUrl = `ws://127.0.0.1:${port.trim()}${path.trim()}`;
    }
    if (wsUrl === undefined) await new Promise((r) => setTimeout(r, 50));
  }
  let cdp: Cdp;
  try {
    cdp = await Cdp.connect(wsUrl);
  } catch (e) {
    await cleanup();
    throw e;
  }

  return {
    cdp,
    stderr: () => err,
    async newPage() {
      const { targetId } = await cdp.send<{ targetId: string }>('Target.createTarget', { url: 'about:blank' });
      const { sessionId } = await cdp.send<{ sessionId: string }>('Target.attachToTarget', { targetId, flatten: true });
      const send = <T>(method: string, params: Record<string, unknown> = {}): Promise<T> => cdp.send<T>(method, params, sessionId);
      await send('Page.enable');
      await send('Runtime.enable');
      return {
        sessionId,
        send,
        async evaluate<T>(expression: string): Promise<T> {
          const r = await send<{ result: { value?: unknown }; exceptionDetails?: { text: string } }>('Runtime.evaluate', { expression, returnByValue: true });
          if (r.exceptionDetails) throw new Error(`page script failed: ${r.exceptionDetails.text}`);
          return r.result.value as T;
        },
        async navigate(url) {
          const r = await send<{ errorText?: string }>('Page.navigate', { url });
          if (r.errorText) throw new Error(`navigation to ${url} failed: ${r.errorText}`);
        },
        async screenshot() {
          const r = await send<{ data: string }>('Page.captureScreenshot', { format: 'png' });
          return Buffer.from(r.data, 'base64');
        },
      };
    },
    async close() {
      try {
        await Promise.race([cdp.send('Browser.close'), new Promise((r) => setTimeout(r, 2000))]);
      } catch {
        // the browser closing its own connection is the expected way this ends
      }
      cdp.close();
      await cleanup();
    },
  };
}
