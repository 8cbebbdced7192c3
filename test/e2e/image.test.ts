// The real Dockerfile, built and run the way compose.example.yml runs it: Bellhop as a non-root
// container reaching Docker only through the haproxy socket proxy (deploy/socket-proxy) over a
// shared unix socket, routing a labelled container and waking a stopped one.
//
// No base image can be pulled here, so the Node 24 and haproxy bases are assembled from this
// machine's binaries (Node 24 from node_modules/node, Debian's haproxy) plus the libraries ldd
// lists, and cached by a hash of what went in. A build container cannot use the npm registry
// here either (TLS is intercepted by a CA it does not trust), so the image is built with
// DEPS=context from the production packages of package-lock.json.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dockerSkip, TEST_IMAGE, waitFor } from '../support/docker-test.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const BUSYBOX = '/bin/busybox';
const HAPROXY = '/usr/sbin/haproxy';
const RECIPE = 'bellhop-image-base-v1';

function missingTool(): string | false {
  if (spawnSync('haproxy', ['-v']).status !== 0) return 'haproxy is not installed (apt-get install haproxy)';
  if (!existsSync(BUSYBOX)) return 'busybox-static is not installed';
  return false;
}
const missing = missingTool();
// .ci/run installs both: in CI a missing tool fails the suite (in `before`) instead of skipping it.
const skip = dockerSkip !== false ? dockerSkip : process.env['CI'] ? false : missing;

function run(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${String(r.status)}): ${r.stderr}${r.stdout}`.slice(0, 4000));
  return r.stdout.trim();
}

function docker(...args: string[]): string {
  return run('docker', args);
}

function imageExists(tag: string): boolean {
  return spawnSync('docker', ['image', 'inspect', tag], { stdio: 'ignore' }).status === 0;
}

/** Copies a binary and every shared library ldd names (with the loader) into a rootfs. */
function copyWithLibraries(rootfs: string, binary: string, dest: string): void {
  mkdirSync(join(rootfs, dirname(dest)), { recursive: true });
  copyFileSync(binary, join(rootfs, dest));
  for (const lib of run('ldd', [binary]).match(/\/\S+/g) ?? []) {
    mkdirSync(join(rootfs, dirname(lib)), { recursive: true });
    copyFileSync(realpathSync(lib), join(rootfs, lib));
  }
}

function importRootfs(rootfs: string, tag: string, changes: string[]): void {
  const args = changes.flatMap((c) => ['-c', c]);
  const r = spawnSync('sh', ['-c', `tar -C "$1" -c . | docker import ${args.map((a) => `'${a}'`).join(' ')} - "$2"`, 'sh', rootfs, tag], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`docker import failed: ${r.stderr}`);
}

function baseRootfs(rootfs: string, users: string[]): void {
  for (const d of ['bin', 'etc', 'tmp', 'root', 'usr/bin']) mkdirSync(join(rootfs, d), { recursive: true });
  chmodSync(join(rootfs, 'tmp'), 0o1777);
  writeFileSync(join(rootfs, 'etc/passwd'), ['root:x:0:0:root:/root:/bin/sh', ...users.map((u) => u.split('|')[0] ?? '')].join('\n') + '\n');
  writeFileSync(join(rootfs, 'etc/group'), ['root:x:0:', ...users.map((u) => u.split('|')[1] ?? '')].join('\n') + '\n');
}

/** Node 24 + npm + busybox (sh, tar for the Dockerfile's RUN) + the `node` user, like node:24-slim. */
function nodeBase(): string {
  const node = realpathSync(join(ROOT, 'node_modules/node/bin/node'));
  const npmDir = '/usr/lib/node_modules/npm';
  const version = run(node, ['--version']);
  const npmVersion = existsSync(npmDir) ? (JSON.parse(readFileSync(join(npmDir, 'package.json'), 'utf8')) as { version: string }).version : 'none';
  const tag = `bellhop-test/node24-base:${createHash('sha256').update(`${RECIPE}|${version}|${npmVersion}|${run('ldd', [node])}`).digest('hex').slice(0, 12)}`;
  if (imageExists(tag)) return tag;
  const rootfs = mkdtempSync(join(tmpdir(), 'bellhop-node-rootfs-'));
  try {
    baseRootfs(rootfs, ['node:x:1000:1000::/home/node:/bin/sh|node:x:1000:']);
    mkdirSync(join(rootfs, 'home/node'), { recursive: true });
    chownSync(join(rootfs, 'home/node'), 1000, 1000);
    copyWithLibraries(rootfs, node, '/usr/local/bin/node');
    copyFileSync(BUSYBOX, join(rootfs, 'bin/busybox'));
    for (const applet of ['sh', 'tar', 'ls', 'cat', 'mkdir', 'rm', 'chown', 'id', 'find']) symlinkSync('busybox', join(rootfs, 'bin', applet));
    symlinkSync('/bin/busybox', join(rootfs, 'usr/bin/env'));
    if (existsSync(npmDir)) {
      cpSync(npmDir, join(rootfs, 'usr/local/lib/node_modules/npm'), { recursive: true });
      symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(rootfs, 'usr/local/bin/npm'));
    }
    importRootfs(rootfs, tag, ['ENV PATH=/usr/local/bin:/usr/bin:/bin', 'CMD ["node"]']);
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
  return tag;
}

/** Debian's haproxy where the official image keeps it, with its config path. */
function haproxyBase(): string {
  const tag = `bellhop-test/haproxy-base:${createHash('sha256').update(`${RECIPE}|${run(HAPROXY, ['-v'])}|${run('ldd', [HAPROXY])}`).digest('hex').slice(0, 12)}`;
  if (imageExists(tag)) return tag;
  const rootfs = mkdtempSync(join(tmpdir(), 'bellhop-haproxy-rootfs-'));
  try {
    baseRootfs(rootfs, ['haproxy:x:99:99::/var/lib/haproxy:/bin/false|haproxy:x:99:']);
    mkdirSync(join(rootfs, 'usr/local/etc/haproxy'), { recursive: true });
    mkdirSync(join(rootfs, 'run'), { recursive: true });
    copyWithLibraries(rootfs, HAPROXY, '/usr/local/sbin/haproxy');
    importRootfs(rootfs, tag, ['ENV PATH=/usr/local/sbin', 'CMD ["haproxy","-W","-db","-f","/usr/local/etc/haproxy/haproxy.cfg"]']);
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
  return tag;
}

/** A build context as `docker build .` would send it, plus node_modules.tar for DEPS=context. */
function buildContext(): string {
  const ctx = mkdtempSync(join(tmpdir(), 'bellhop-image-ctx-'));
  for (const f of ['Dockerfile', '.dockerignore', 'package.json', 'package-lock.json', 'cmd', 'internal', 'pkg', 'tools', 'test']) cpSync(join(ROOT, f), join(ctx, f), { recursive: true });
  // What `npm ci --omit=dev` would install: every non-dev package of the lock file.
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; link?: boolean }> };
  const staging = join(ctx, '.deps');
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '' || entry.dev === true || entry.link === true || !existsSync(join(ROOT, path))) continue;
    cpSync(join(ROOT, path), join(staging, path), { recursive: true });
  }
  run('tar', ['-C', staging, '-cf', join(ctx, 'node_modules.tar'), 'node_modules']);
  rmSync(staging, { recursive: true, force: true });
  return ctx;
}

function get(hostPort: string, host: string, path = '/'): Promise<{ status: number; body: string }> {
  const [address, port] = [hostPort.slice(0, hostPort.lastIndexOf(':')), Number(hostPort.slice(hostPort.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const req = request({ host: address, port, path, headers: { host, accept: '*/*' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

describe('the Docker image, run like compose.example.yml', { skip }, () => {
  const id = `${String(process.pid)}-${Math.random().toString(36).slice(2, 7)}`;
  const image = `bellhop-test/bellhop:e2e-${id}`;
  const volume = `bellhop-e2e-proxy-${id}`;
  const network = `bellhop-e2e-web-${id}`;
  const names = { proxy: `bellhop-e2e-sp-${id}`, app: `bellhop-e2e-app-${id}`, web: `bellhop-e2e-web-${id}`, sleepy: `bellhop-e2e-sleepy-${id}` };
  const OWN_LABEL = `bellhop.test.image=${id}`;
  let ctx = '';
  let cfgDir = '';
  let published = '';

  before(() => {
    if (missing !== false) throw new Error(missing);
    const t0 = Date.now();
    const nodeImage = nodeBase();
    const haproxyImage = haproxyBase();
    const t1 = Date.now();
    ctx = buildContext();
    docker('build', '-q', '--build-arg', `BASE=${nodeImage}`, '--build-arg', 'DEPS=context', '-t', image, ctx);
    const t2 = Date.now();
    const size = Number(docker('image', 'inspect', '-f', '{{.Size}}', image));
    console.log(`[image] bases ${String(t1 - t0)} ms, build ${String(t2 - t1)} ms, image ${(size / 1e6).toFixed(0)} MB`);

    docker('volume', 'create', volume);
    docker('network', 'create', network);
    // socket-proxy: as in compose.example.yml (root, no network, read-only, config mounted).
    const cfg = join(ROOT, 'deploy/socket-proxy/haproxy.cfg');
    docker('run', '-d', '--name', names.proxy, '--label', 'bellhop.test=true', '--user', 'root', '--network', 'none', '--read-only',
      '-v', '/var/run/docker.sock:/var/run/docker.sock:ro', '-v', `${cfg}:/usr/local/etc/haproxy/haproxy.cfg:ro`, '-v', `${volume}:/run/docker-proxy`, haproxyImage);
    // The config file as compose.example.yml mounts it. Its label_filter keeps this Bellhop to this
    // test's containers: without it, it managed every labelled container on the shared engine and
    // stopped other tests' containers when their idle_timeout ran out on its side (the "stopped
    // while a tunnel was open" flake of wake-bellhop.test.ts).
    cfgDir = mkdtempSync(join(tmpdir(), 'bellhop-e2e-cfg-'));
    chmodSync(cfgDir, 0o755);
    writeFileSync(join(cfgDir, 'config.yml'), `docker:\n  label_filter: ["${OWN_LABEL}"]\n`, { mode: 0o644 });
    docker('run', '-d', '--name', names.app, '--label', 'bellhop.test=true', '--network', network, '-v', `${volume}:/run/docker-proxy:ro`,
      '-v', `${cfgDir}:/app/config:ro`, '-e', 'BELLHOP_CONFIG=/app/config/config.yml',
      '-e', 'DOCKER_HOST=unix:///run/docker-proxy/docker.sock', '-p', '127.0.0.1::8080', '--health-interval', '1s', image);
    const web = (body: string) => ['sh', '-c', `mkdir -p /www && echo ${body} > /www/index.html && exec httpd -f -p 80 -h /www`];
    docker('run', '-d', '--name', names.web, '--label', 'bellhop.test=true', '--label', OWN_LABEL, '--network', network,
      '--label', `proxy.aliases=hello-${id}`, '--label', `proxy.hello-${id}.port=80`, TEST_IMAGE, ...web(`hello-${id}`));
    // Created but never started: the first request must start it through the socket proxy.
    docker('create', '--name', names.sleepy, '--label', 'bellhop.test=true', '--label', OWN_LABEL, '--network', network,
      '--label', `proxy.aliases=sleepy-${id}`, '--label', `proxy.sleepy-${id}.port=80`, '--label', 'proxy.idle_timeout=10m', '--label', 'proxy.stop_timeout=1s', TEST_IMAGE, ...web(`awake-${id}`));
    published = docker('port', names.app, '8080/tcp').split('\n')[0] ?? '';
  });

  after(() => {
    for (const n of Object.values(names)) spawnSync('docker', ['rm', '-f', n], { stdio: 'ignore' });
    spawnSync('docker', ['network', 'rm', network], { stdio: 'ignore' });
    spawnSync('docker', ['volume', 'rm', volume], { stdio: 'ignore' });
    spawnSync('docker', ['rmi', image], { stdio: 'ignore' });
    if (ctx) rmSync(ctx, { recursive: true, force: true });
    if (cfgDir) rmSync(cfgDir, { recursive: true, force: true });
  });

  test('runs as the non-root node user with only the runtime files, no tests or fixtures', () => {
    assert.equal(docker('inspect', '-f', '{{.Config.User}}', names.app), 'node');
    assert.equal(docker('exec', names.app, 'id', '-u'), '1000');
    const files = docker('run', '--rm', '--entrypoint', 'find', image, '/app', '-path', '/app/node_modules', '-prune', '-o', '-type', 'f', '-print');
    assert.match(files, /\/app\/cmd\/bellhop\/main\.js/);
    assert.doesNotMatch(files, /\/app\/(cmd|internal|pkg)\/.*\.ts$/m, 'plain JavaScript only (tools/build-js.ts)');
    assert.doesNotMatch(files, /\.test\.(ts|js)|fixtures|\/app\/test\/|node_modules\.tar/);
    assert.doesNotMatch(docker('run', '--rm', '--entrypoint', 'ls', image, '/app/node_modules'), /typescript|eslint|fast-check/);
  });

  test('the HEALTHCHECK (node fetch of /healthz) reports healthy', async () => {
    await waitFor(() => (docker('inspect', '-f', '{{.State.Health.Status}}', names.app) === 'healthy' ? true : undefined), 30_000, 'healthy');
  });

  test('a labelled container is reachable from the host through the published port', async () => {
    const r = await waitFor(async () => {
      const x = await get(published, `hello-${id}`);
      return x.status === 200 ? x : undefined;
    }, 30_000, `hello-${id} through ${published}`);
    assert.equal(r.body.trim(), `hello-${id}`);
    assert.equal((await get(published, 'nobody-here')).status, 404);
  });

  test('a request for a never-started container wakes it (POST start through the socket proxy)', async () => {
    await waitFor(async () => ((await get(published, `hello-${id}`)).status === 200 ? true : undefined), 30_000, 'routes synced');
    const r = await get(published, `sleepy-${id}`);
    assert.equal(r.status, 200, r.body);
    assert.equal(r.body.trim(), `awake-${id}`);
    assert.equal(docker('inspect', '-f', '{{.State.Running}}', names.sleepy), 'true');
    assert.doesNotMatch(docker('logs', names.app), /DOCKER_FORBIDDEN|DOCKER_PERMISSION/);
  });
});
