// Provides a real Docker engine to the test suite, the way CI on this kind of machine needs it:
// use DOCKER_HOST or the default socket if it answers; otherwise, as root on a Debian-like
// machine, install docker.io + busybox-static, start dockerd in the background and wait for it.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, openSync, rmSync, symlinkSync, copyFileSync, chmodSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';

export const TEST_IMAGE = 'bellhop-test/busybox:1';

export type EngineResult = { ok: true; docker: Docker; how: string } | { ok: false; reason: string };

function clientFromEnv(): Docker {
  return new Docker();
}

async function ping(docker: Docker, timeoutMs = 2000): Promise<boolean> {
  const timer = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref());
  const attempt = docker.ping().then(() => true, () => false);
  return Promise.race([attempt, timer]);
}

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function log(msg: string): void {
  process.stderr.write(`[docker-engine] ${msg}\n`);
}

export async function ensureDockerEngine(): Promise<EngineResult> {
  const docker = clientFromEnv();
  if (await ping(docker)) return { ok: true, docker, how: process.env['DOCKER_HOST'] ?? 'default socket' };
  if (process.env['DOCKER_HOST']) return { ok: false, reason: `DOCKER_HOST=${process.env['DOCKER_HOST']} does not answer /_ping` };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'no Docker engine answers and not root, so none can be started' };
  if (!has('dockerd') || !existsSync('/bin/busybox')) {
    if (!has('apt-get')) return { ok: false, reason: 'no Docker engine, and no apt-get to install docker.io' };
    log('installing docker.io and busybox-static with apt-get');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    let r = spawnSync('apt-get', ['install', '-y', '-q', 'docker.io', 'busybox-static'], { stdio: 'inherit', env });
    if (r.status !== 0) {
      spawnSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
      r = spawnSync('apt-get', ['install', '-y', '-q', 'docker.io', 'busybox-static'], { stdio: 'inherit', env });
    }
    if (r.status !== 0) return { ok: false, reason: 'apt-get install docker.io busybox-static failed' };
  }
  log('starting dockerd in the background (log: /tmp/bellhop-dockerd.log)');
  const out = openSync('/tmp/bellhop-dockerd.log', 'a');
  const child = spawn('dockerd', [], { detached: true, stdio: ['ignore', out, out] });
  child.on('error', (err) => log(`dockerd failed to start: ${err.message}`));
  child.unref();
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (await ping(docker)) return { ok: true, docker, how: 'dockerd started by the test harness' };
    await new Promise((r) => setTimeout(r, 250));
  }
  return { ok: false, reason: 'dockerd did not answer /_ping within 60 s (see /tmp/bellhop-dockerd.log)' };
}

/** Builds the tiny local test image from the host's static busybox: nothing can be pulled here. */
export async function ensureTestImage(docker: Docker): Promise<void> {
  try {
    await docker.getImage(TEST_IMAGE).inspect();
    return;
  } catch {
    // missing: build it below
  }
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
  if (!busybox) throw new Error('busybox-static is not installed (apt-get install -y busybox-static)');
  const root = mkdtempSync(join(tmpdir(), 'bellhop-rootfs-'));
  try {
    for (const d of ['bin', 'www', 'tmp', 'etc']) mkdirSync(join(root, d));
    copyFileSync(busybox, join(root, 'bin/busybox'));
    chmodSync(join(root, 'bin/busybox'), 0o755);
    const list = spawnSync(busybox, ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    for (const applet of list) if (applet !== 'busybox') symlinkSync('busybox', join(root, 'bin', applet));
    writeFileSync(join(root, 'www/index.html'), 'hello from busybox\n');
    writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
    writeFileSync(join(root, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
    const tar = spawn('tar', ['-C', root, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const stream = await docker.importImage(tar.stdout, {
      repo: TEST_IMAGE.split(':')[0],
      tag: TEST_IMAGE.split(':')[1],
      changes: ['CMD ["/bin/sh"]', 'ENV PATH=/bin'],
    } as unknown as Parameters<Docker['importImage']>[1]);
    await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (err) => (err ? reject(err) : resolve())));
    await docker.getImage(TEST_IMAGE).inspect();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
