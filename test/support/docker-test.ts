// Helpers for tests that need the real engine. test/run.ts decides whether Docker tests run:
// in CI they must (it fails before we get here otherwise); elsewhere they may skip loudly.
import { spawnSync } from 'node:child_process';
import Docker from 'dockerode';
import { TEST_IMAGE } from './docker-engine.ts';

export { TEST_IMAGE };

const flag = process.env['BELLHOP_TEST_DOCKER'] ?? 'skip:run through `npm test` (test/run.ts) to get a Docker engine';

/**
 * Labels every test container carries. `bellhop.test.owner` is this test process: a Bellhop
 * started by the harness in the same process only sees containers with it (docker.label_filter),
 * so test files running at once never sleep, wake or route each other's containers.
 */
export const TEST_LABELS: Readonly<Record<string, string>> = Object.freeze({ 'bellhop.test': 'true', 'bellhop.test.owner': String(process.pid) });
export const TEST_LABEL_FILTER = `bellhop.test.owner=${String(process.pid)}`;

/** `false` when Docker tests run; otherwise the skip reason for `test(name, { skip }, fn)`. */
export const dockerSkip: string | false = flag === '1' ? false : flag.replace(/^skip:/, 'docker: ');

export function dockerClient(): Docker {
  return new Docker();
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

export interface HttpdOptions {
  name?: string;
  labels?: Record<string, string>;
  body?: string;
  port?: number;
  networkMode?: string;
  start?: boolean;
  extraShell?: string;
  healthcheck?: { test: string[]; intervalMs: number };
}

/** Creates (and by default starts) a busybox httpd container that serves `body` on `port`. */
export async function runHttpd(docker: Docker, opts: HttpdOptions = {}): Promise<Docker.Container> {
  const port = opts.port ?? 80;
  const body = (opts.body ?? 'hello').replace(/'/g, '');
  const script = `${opts.extraShell ?? ''} mkdir -p /www && printf '%s' '${body}' > /www/index.html && exec httpd -f -p ${port} -h /www`;
  const create: Docker.ContainerCreateOptions = {
    Image: TEST_IMAGE,
    name: opts.name ?? uniqueName('bellhop-test'),
    Cmd: ['/bin/sh', '-c', script],
    Labels: { ...TEST_LABELS, ...(opts.labels ?? {}) },
    ExposedPorts: { [`${port}/tcp`]: {} },
    HostConfig: { NetworkMode: opts.networkMode ?? 'bridge', AutoRemove: false },
  };
  if (opts.healthcheck) {
    create.Healthcheck = { Test: opts.healthcheck.test, Interval: opts.healthcheck.intervalMs * 1e6, Retries: 1, StartPeriod: 0, Timeout: 2e9 };
  }
  const container = await docker.createContainer(create);
  if (opts.start !== false) await container.start();
  return container;
}

export async function removeQuietly(container: Docker.Container | undefined): Promise<void> {
  if (!container) return;
  await container.remove({ force: true }).catch(() => undefined);
}

/** The container's IP on the default bridge (or the first network it has). */
export async function containerIp(container: Docker.Container): Promise<string> {
  const info = await container.inspect();
  const nets = Object.values(info.NetworkSettings.Networks ?? {});
  const ip = nets.find((n) => n.IPAddress)?.IPAddress;
  if (!ip) throw new Error(`container ${info.Name} has no IP address`);
  return ip;
}

/** Removes every container this suite ever labelled, e.g. after a crashed run. */
export function removeAllTestContainers(): void {
  const ids = spawnSync('docker', ['ps', '-aq', '--filter', 'label=bellhop.test=true'], { encoding: 'utf8' }).stdout.trim();
  if (ids) spawnSync('docker', ['rm', '-f', ...ids.split('\n')], { stdio: 'ignore' });
}

export async function waitFor<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastErr });
}
