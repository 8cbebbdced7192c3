// A real OpenSSH sshd for tests, without installing the openssh-server package (its postinst
// would start a system sshd on port 22): `apt-get download` the .deb, `dpkg -x` it into a cache
// under os.tmpdir() keyed by version, and add any library package sshd needs that is not
// installed (on Debian 12: libwrap0) the same way, found through LD_LIBRARY_PATH.
//
// sshd refuses to start as root without its privilege separation user `sshd`. Instead of
// adding a user to the system, sshd runs in a private mount namespace (`unshare --mount`) where
// a copy of /etc/passwd with that user is bind-mounted over the real one; nothing outside the
// namespace sees it, and it vanishes with the process. The chroot directory /run/sshd is
// compiled into sshd: it is created if missing and removed again by stop().
//
// In that copy root's login shell is /bin/sh. sshd runs every session command through the
// user's login shell, and bash started by sshd reads ~/.bashrc even for `bash -c`: on this
// machine root's runs `pyenv init`, whose rehash takes a lock file; a session killed while
// holding it (sshd stopped mid-login) left the lock behind and made every later session wait
// 60 s for it, so `docker system dial-stdio` never answered (issue 11). The machine's shell
// set-up is no part of what these tests check; sh -c reads no start-up file.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PRIVSEP_DIR = '/run/sshd';
const ARCH_LIB_DIRS = ['lib/x86_64-linux-gnu', 'usr/lib/x86_64-linux-gnu', 'lib/aarch64-linux-gnu', 'usr/lib/aarch64-linux-gnu', 'lib', 'usr/lib'];

export interface OpenSshTools {
  sshd: string;
  sshKeygen: string;
  sshKeyscan: string;
  /** LD_LIBRARY_PATH for the extracted binaries. */
  libraryPath: string;
  version: string;
  /** How it was had, for the test log. */
  how: string;
}

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: opts.cwd, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', ...opts.env }, timeout: 180_000 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function candidateVersion(pkg: string): string | undefined {
  const m = /Candidate:\s*(\S+)/.exec(run('apt-cache', ['policy', pkg]).out);
  return m?.[1] && m[1] !== '(none)' ? m[1] : undefined;
}

function installed(pkg: string): boolean {
  return run('dpkg-query', ['-W', '-f=${db:Status-Status}', pkg]).out.trim() === 'installed';
}

function libraryPath(root: string): string {
  return ARCH_LIB_DIRS.map((d) => join(root, d)).filter((d) => existsSync(d)).join(':');
}

function missingLibs(binary: string, root: string): string[] {
  const out = run('ldd', [binary], { env: { LD_LIBRARY_PATH: libraryPath(root) } }).out;
  return [...out.matchAll(/^\s*(\S+) => not found/gm)].map((m) => m[1] ?? '');
}

/** `apt-get download` + `dpkg -x`; runs `apt-get update` once, and only when a download failed. */
function downloadInto(pkgs: string[], work: string, root: string, state: { updated: boolean }): void {
  let r = run('apt-get', ['download', ...pkgs], { cwd: work });
  if (!r.ok && !state.updated) {
    state.updated = true;
    const u = run('apt-get', ['update', '-q']);
    if (!u.ok) throw new Error(`apt-get update failed: ${u.out.slice(-800)}`);
    r = run('apt-get', ['download', ...pkgs], { cwd: work });
  }
  if (!r.ok) throw new Error(`apt-get download ${pkgs.join(' ')} failed: ${r.out.slice(-800)}`);
  for (const deb of readdirSync(work).filter((f) => f.endsWith('.deb'))) {
    const x = run('dpkg', ['-x', join(work, deb), root]);
    if (!x.ok) throw new Error(`dpkg -x ${deb} failed: ${x.out}`);
    rmSync(join(work, deb));
  }
}

/** Library packages `pkg` depends on that are not installed here (`apt-cache depends`). */
function uninstalledLibDeps(pkg: string): string[] {
  const out = run('apt-cache', ['depends', '--important', pkg]).out;
  const deps = [...out.matchAll(/^\s*\|?(?:Pre)?Depends:\s*(lib\S+)/gm)].map((m) => m[1] ?? '');
  return [...new Set(deps)].filter((d) => !installed(d));
}

/**
 * sshd, ssh-keygen and ssh-keyscan, extracted from the distribution's packages into
 * `os.tmpdir()/bellhop-openssh-<version>` (reused by later runs). Throws with the reason when
 * they cannot be had (no apt, not root, download failed, a library still missing).
 */
export function openSshTools(): OpenSshTools {
  if (process.platform !== 'linux') throw new Error('sshd tests need Linux');
  if (!which('apt-get') || !which('dpkg')) throw new Error('no apt-get/dpkg to fetch openssh-server with');
  const state = { updated: false };
  let version = candidateVersion('openssh-server');
  if (version === undefined) {
    // No package lists yet (a fresh CI image): the one case where `apt-get update` comes first.
    state.updated = true;
    const u = run('apt-get', ['update', '-q']);
    if (!u.ok) throw new Error(`apt-cache knows no openssh-server and apt-get update failed: ${u.out.slice(-800)}`);
    version = candidateVersion('openssh-server');
    if (version === undefined) throw new Error('apt-cache has no candidate for openssh-server');
  }
  const cache = join(tmpdir(), `bellhop-openssh-${version.replace(/[^A-Za-z0-9.+-]/g, '_')}`);
  let how = `cached in ${cache}`;
  if (!existsSync(join(cache, 'complete'))) {
    const work = mkdtempSync(`${cache}.tmp-`);
    const root = join(work, 'root');
    mkdirSync(root);
    const dl = join(work, 'dl');
    mkdirSync(dl);
    try {
      // openssh-client too: it has ssh-keygen and ssh-keyscan for machines without them.
      downloadInto(['openssh-server', 'openssh-client'], dl, root, state);
      const extra = new Set<string>();
      for (const [pkg, bin] of [['openssh-server', 'usr/sbin/sshd'], ['openssh-client', 'usr/bin/ssh-keygen']] as const) {
        if (missingLibs(join(root, bin), root).length > 0) for (const d of uninstalledLibDeps(pkg)) extra.add(d);
      }
      if (extra.size > 0) downloadInto([...extra], dl, root, state);
      writeFileSync(join(work, 'root', 'complete'), [...extra].join('\n'));
      rmSync(dl, { recursive: true, force: true });
      try {
        renameSync(root, cache);
      } catch {
        // another run finished first: use its copy
      }
      how = `apt-get download openssh-server openssh-client${extra.size > 0 ? ` ${[...extra].join(' ')}` : ''}, dpkg -x into ${cache}`;
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  const extras = readFileSync(join(cache, 'complete'), 'utf8').trim();
  if (extras && how.startsWith('cached')) how += ` (with ${extras.split('\n').join(' ')})`;
  const sshd = join(cache, 'usr/sbin/sshd');
  const missing = missingLibs(sshd, cache);
  if (missing.length > 0) throw new Error(`the extracted sshd still misses ${missing.join(', ')} (ldd ${sshd}); apt-get download the package that has it`);
  const sshKeygen = which('ssh-keygen') ?? join(cache, 'usr/bin/ssh-keygen');
  const sshKeyscan = which('ssh-keyscan') ?? join(cache, 'usr/bin/ssh-keyscan');
  return { sshd, sshKeygen, sshKeyscan, libraryPath: libraryPath(cache), version, how };
}

export interface SshServer {
  port: number;
  dir: string;
  hostPublicKey: string;
  clientPrivateKey: string;
  /** sshd's log (it runs with -e): "Accepted publickey for root ...". */
  log(): string;
  /** Kills the per-connection sshd processes (every open SSH connection drops); the listener stays. */
  dropConnections(): number;
  stop(): Promise<void>;
}

function readChildren(pid: number): number[] {
  try {
    return readFileSync(`/proc/${String(pid)}/task/${String(pid)}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', resolve);
  });
  const addr = srv.address();
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return addr.port;
}

function keygen(tools: OpenSshTools, file: string): void {
  const r = run(tools.sshKeygen, ['-q', '-t', 'ed25519', '-N', '', '-C', 'bellhop-test', '-f', file], { env: { LD_LIBRARY_PATH: tools.libraryPath } });
  if (!r.ok) throw new Error(`ssh-keygen failed: ${r.out}`);
}

/**
 * Starts sshd on 127.0.0.1 (a free port) as root, with a fresh host key and one authorised
 * client key, in a temp dir. `env` is set for sessions (SetEnv), e.g. DOCKER_HOST; `config`
 * lines are added to sshd_config (e.g. 'MaxSessions 2').
 */
export async function startSshServer(tools: OpenSshTools, env: Record<string, string> = {}, config: readonly string[] = []): Promise<SshServer> {
  if (process.getuid?.() !== 0) throw new Error('sshd tests run sshd as root (it must switch to the login user); not root');
  if (!which('unshare') || !which('mount')) throw new Error('unshare/mount (util-linux) missing');
  const dir = mkdtempSync(join(tmpdir(), 'bellhop-sshd-'));
  let createdPrivsep = false;
  let child: ChildProcess | undefined;
  let log = '';
  const stop = async (): Promise<void> => {
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      // Signal sshd (the namespace's init, unshare's only child), not unshare: unshare then
      // reaps it and exits. Killing unshare first would orphan sshd to our pid 1.
      const exited = new Promise<void>((resolve) => child?.once('exit', () => resolve()));
      const inits = readChildren(child.pid);
      for (const pid of inits) signal(pid, 'SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null && child.signalCode === null) {
        for (const pid of inits) signal(pid, 'SIGKILL');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    }
    rmSync(dir, { recursive: true, force: true });
    if (createdPrivsep) {
      try {
        rmdirSync(PRIVSEP_DIR);
      } catch {
        // not empty or already gone: leave it
      }
    }
  };
  try {
    keygen(tools, join(dir, 'ssh_host_ed25519_key'));
    keygen(tools, join(dir, 'client_ed25519'));
    writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_ed25519.pub')));
    const passwd = readFileSync('/etc/passwd', 'utf8').replace(/^(root:[^:\n]*:[^:\n]*:[^:\n]*:[^:\n]*:[^:\n]*:)[^\n]*/m, '$1/bin/sh');
    writeFileSync(join(dir, 'passwd'), `${passwd.replace(/\n?$/, '\n')}sshd:x:65534:65534:sshd privilege separation:${PRIVSEP_DIR}:/usr/sbin/nologin\n`);
    const port = await freePort();
    writeFileSync(join(dir, 'sshd_config'), [
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'ssh_host_ed25519_key')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'StrictModes no',
      `PidFile ${join(dir, 'sshd.pid')}`,
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'X11Forwarding no',
      'AllowTcpForwarding no',
      ...Object.entries(env).map(([k, v]) => `SetEnv ${k}=${v}`),
      ...config,
      '',
    ].join('\n'));
    if (!existsSync(PRIVSEP_DIR)) {
      mkdirSync(PRIVSEP_DIR, { mode: 0o755 });
      createdPrivsep = true;
      process.stderr.write(`[sshd] created ${PRIVSEP_DIR} (sshd's privilege separation directory); removed again at the end\n`);
    }
    // A new PID namespace with sshd as its init: when sshd ends, the kernel kills and reaps every
    // session it forked. Otherwise sessions still open at that moment outlive the listener as
    // orphans (zombies where pid 1 does not reap). --kill-child: sshd dies with unshare.
    const script = 'mount --bind "$1" /etc/passwd && exec "$2" -D -e -f "$3" -p "$4"';
    const proc = spawn('unshare', ['--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child', 'sh', '-c', script, 'sh', join(dir, 'passwd'), tools.sshd, join(dir, 'sshd_config'), String(port)], {
      env: { ...process.env, LD_LIBRARY_PATH: tools.libraryPath },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    proc.on('error', (err) => {
      log += `spawn error: ${err.message}\n`;
    });
    proc.stdout.on('data', (c: Buffer) => (log += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (log += c.toString()));
    const deadline = Date.now() + 10_000;
    while (!log.includes(`Server listening on 127.0.0.1 port ${String(port)}`)) {
      if (proc.exitCode !== null || proc.signalCode !== null || Date.now() > deadline) throw new Error(`sshd did not start: ${log || '(no output)'}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    return {
      port,
      dir,
      hostPublicKey: readFileSync(join(dir, 'ssh_host_ed25519_key.pub'), 'utf8').trim(),
      clientPrivateKey: readFileSync(join(dir, 'client_ed25519'), 'utf8'),
      log: () => log,
      dropConnections: () => {
        // unshare → sshd listener (the namespace's init) → one sshd per connection.
        const sessions = readChildren(proc.pid ?? 0).flatMap((listener) => readChildren(listener));
        for (const pid of sessions) signal(pid, 'SIGKILL');
        return sessions.length;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
