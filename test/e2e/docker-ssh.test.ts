// ssh:// Docker hosts against a real OpenSSH sshd on 127.0.0.1 (test/support/openssh-server.ts:
// extracted from the distribution's package, never installed as a service) in front of this
// machine's own engine: `docker system dial-stdio` runs in the SSH session. A DockerWatcher on
// ssh://root@127.0.0.1:<port> syncs and lists a container; a wrong host key, an unknown host
// and a missing identity are refused with DOCKER_SSH_HOST_KEY / DOCKER_SSH_AUTH, and the
// ssh-keyscan line the unknown-host error suggests really fixes it without a restart.
//
// In CI (CI set) a missing prerequisite fails the test; elsewhere it skips, loudly.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerWatcher, dockerClientFor, parseDockerHost } from '../../internal/docker/index.ts';
import type { DockerLogger } from '../../internal/docker/index.ts';
import { dockerClient, dockerSkip, removeQuietly, runHttpd, uniqueName, waitFor } from '../support/docker-test.ts';
import { openSshTools, startSshServer, type OpenSshTools, type SshServer } from '../support/openssh-server.ts';

const ci = Boolean(process.env['CI']);

let tools: OpenSshTools | undefined;
let problem: string | undefined;
if (!dockerSkip) {
  const started = Date.now();
  try {
    tools = openSshTools();
    process.stderr.write(`[docker-ssh] OpenSSH ${tools.version}: ${tools.how} (${String(Date.now() - started)} ms)\n`);
  } catch (err) {
    problem = (err as Error).message;
  }
  if (!tools && problem === undefined) problem = 'no sshd';
  if (problem !== undefined && !ci) process.stderr.write(`\n[docker-ssh] SKIPPING the ssh:// tests: ${problem}\n\n`);
}
const skip = dockerSkip || (problem !== undefined && !ci ? `sshd: ${problem}` : false);

interface LogLine {
  level: string;
  obj: Record<string, unknown>;
  msg: string;
}

function recorder(): { logger: DockerLogger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (obj: object, msg: string) => void lines.push({ level, obj: obj as Record<string, unknown>, msg });
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

/** Teardown in reverse order of setup (t.after hooks run first-registered first). */
function cleanups(t: TestContext): (fn: () => Promise<void> | void) => void {
  const stack: Array<() => Promise<void> | void> = [];
  t.after(async () => {
    for (const fn of stack.reverse()) await fn();
  });
  return (fn) => void stack.push(fn);
}

/** Client ports of sessions sshd accepted and has not seen end. */
function openSessions(srv: SshServer): string[] {
  const log = srv.log();
  const accepted = [...log.matchAll(/Accepted publickey for root from 127\.0\.0\.1 port (\d+)/g)].map((m) => m[1] ?? '');
  return accepted.filter((port) => !new RegExp(`(Disconnected from user root |Connection (closed|reset) by (authenticating )?(user root )?)127\\.0\\.0\\.1 port ${port}\\b`).test(log));
}

async function server(defer: ReturnType<typeof cleanups>): Promise<SshServer> {
  if (problem !== undefined || !tools) assert.fail(`CI is set, so the ssh:// tests must run: ${problem ?? 'no sshd'}`);
  // The session's docker CLI must reach the engine this suite uses.
  const env: Record<string, string> = process.env['DOCKER_HOST'] ? { DOCKER_HOST: process.env['DOCKER_HOST'] } : {};
  const srv = await startSshServer(tools, env);
  defer(async () => {
    // Runs after the watchers stopped: every SSH connection Bellhop opened must be closed by
    // then (a leaked one is a leaked session, and a `docker system dial-stdio`, on the host).
    const leaked = await waitFor(() => openSessions(srv).length === 0 || undefined, 5000, 'every SSH session to close').then(() => undefined, () => openSessions(srv));
    await srv.stop();
    if (leaked) throw new Error(`SSH sessions left open (client ports ${leaked.join(', ')}):\n${srv.log()}`);
  });
  return srv;
}

/** A HOME for Bellhop with .ssh/ holding whatever the case needs. */
function home(t: TestContext, files: { id_ed25519?: string; known_hosts?: string }): string {
  const dir = mkdtempSync(join(tmpdir(), 'bellhop-ssh-client-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, '.ssh'), { mode: 0o700 });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, '.ssh', name), text, { mode: 0o600 });
  return dir;
}

function knownHostsLine(srv: SshServer, publicKey = srv.hostPublicKey): string {
  const [type, key] = publicKey.split(' ');
  return `[127.0.0.1]:${String(srv.port)} ${type ?? ''} ${key ?? ''}\n`;
}

function watch(defer: ReturnType<typeof cleanups>, host: string, env: NodeJS.ProcessEnv, logger?: DockerLogger): DockerWatcher {
  const watcher = new DockerWatcher({
    host,
    docker: dockerClientFor(parseDockerHost(host, env)),
    callTimeoutMs: 15_000,
    backoffInitialMs: 200,
    backoffMaxMs: 1000,
    ...(logger ? { logger } : {}),
  });
  defer(() => watcher.stop());
  watcher.start();
  return watcher;
}

test('ssh://root@127.0.0.1: a DockerWatcher through a real sshd syncs and lists a labelled container, with remoteAddress', { skip, timeout: 120_000 }, async (t) => {
  const defer = cleanups(t);
  const srv = await server(defer);
  const docker = dockerClient();
  const container = await runHttpd(docker, { name: uniqueName('bellhop-ssh'), labels: { 'proxy.aliases': 'over-ssh', 'proxy.port': '80' } });
  t.after(() => removeQuietly(container));
  const host = `ssh://root@127.0.0.1:${String(srv.port)}`;
  const h = home(t, { id_ed25519: srv.clientPrivateKey, known_hosts: knownHostsLine(srv) });
  const started = Date.now();
  const watcher = watch(defer, host, { HOME: h });
  const rec = await waitFor(() => watcher.records().find((r) => r.id === container.id), 30_000, 'the container in the watcher over ssh://');
  t.diagnostic(`synced over SSH in ${String(Date.now() - started)} ms`);
  assert.equal(watcher.state, 'synced');
  assert.equal(rec.dockerHost, host);
  assert.equal(rec.remoteAddress, '127.0.0.1', 'SPEC 4: a remote host routes to its own address');
  assert.equal(rec.labels['proxy.aliases'], 'over-ssh');
  assert.equal(rec.state, 'running');
  assert.match(srv.log(), /Accepted publickey for root from 127\.0\.0\.1/, 'it really went through sshd');

  // Events flow over the SSH channel too: a stop shows up without a resync.
  const syncs = watcher.stats.fullSyncs;
  await container.stop({ t: 1 });
  await waitFor(() => watcher.records().find((r) => r.id === container.id)?.state === 'exited' || undefined, 15_000, 'state exited via the events stream');
  assert.equal(watcher.stats.fullSyncs, syncs);
});

test('ssh://: a known_hosts entry with another key is refused (DOCKER_SSH_HOST_KEY), nothing is listed, and it says so', { skip, timeout: 60_000 }, async (t) => {
  const defer = cleanups(t);
  const srv = await server(defer);
  const other = join(srv.dir, 'impostor');
  const kg = spawnSync(tools?.sshKeygen ?? 'ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other], { encoding: 'utf8', env: { ...process.env, LD_LIBRARY_PATH: tools?.libraryPath ?? '' } });
  assert.equal(kg.status, 0, kg.stderr);
  const wrong = spawnSync('cat', [`${other}.pub`], { encoding: 'utf8' }).stdout.trim();
  const host = `ssh://root@127.0.0.1:${String(srv.port)}`;
  const h = home(t, { id_ed25519: srv.clientPrivateKey, known_hosts: knownHostsLine(srv, wrong) });
  const { logger, lines } = recorder();
  const watcher = watch(defer, host, { HOME: h }, logger);
  await waitFor(() => watcher.status().lastError, 20_000, 'a connection error');
  const err = watcher.status().lastError;
  assert.equal(err?.code, 'DOCKER_SSH_HOST_KEY');
  assert.match(err?.message ?? '', /host key for \[127\.0\.0\.1\]:\d+ does NOT match .*known_hosts/);
  assert.match(err?.message ?? '', new RegExp(`ssh-keyscan -p ${String(srv.port)} 127\\.0\\.0\\.1 >> ${h}/\\.ssh/known_hosts`));
  // between attempts it is 'disconnected', during the next (immediate, then backed-off) one 'connecting'
  assert.ok(['disconnected', 'connecting'].includes(watcher.state), watcher.state);
  assert.deepEqual(watcher.records(), []);
  const logged = lines.find((l) => l.level === 'error' && /Docker is unreachable/.test(l.msg));
  assert.equal(logged?.obj['code'], 'DOCKER_SSH_HOST_KEY', 'logged like any other connection failure, with its code');
  assert.doesNotMatch(srv.log(), /Accepted publickey/, 'refused before authenticating: no key was offered to the impostor');
});

test('ssh://: an unknown host is refused, and the suggested ssh-keyscan line fixes it without a restart', { skip, timeout: 60_000 }, async (t) => {
  const defer = cleanups(t);
  const srv = await server(defer);
  const host = `ssh://root@127.0.0.1:${String(srv.port)}`;
  const h = home(t, { id_ed25519: srv.clientPrivateKey });
  const watcher = watch(defer, host, { HOME: h });
  await waitFor(() => watcher.status().lastError, 20_000, 'a connection error');
  const message = watcher.status().lastError?.message ?? '';
  assert.equal(watcher.status().lastError?.code, 'DOCKER_SSH_HOST_KEY');
  assert.match(message, /host \[127\.0\.0\.1\]:\d+ is not a known host \(.*known_hosts does not exist; server sent ssh-ed25519 SHA256:/);
  const command = /(ssh-keyscan -p \d+ 127\.0\.0\.1 >> \S+)/.exec(message)?.[1];
  assert.ok(command, message);
  const scan = spawnSync('sh', ['-c', command.replace(/^ssh-keyscan/, `"${tools?.sshKeyscan ?? 'ssh-keyscan'}"`)], { encoding: 'utf8', env: { ...process.env, LD_LIBRARY_PATH: tools?.libraryPath ?? '' } });
  assert.equal(scan.status, 0, scan.stderr);
  await waitFor(() => watcher.state === 'synced' || undefined, 20_000, 'the watcher to sync after ssh-keyscan');
});

test('ssh://: no identity → DOCKER_SSH_AUTH naming the key to mount; no connection is made', { skip, timeout: 60_000 }, async (t) => {
  const defer = cleanups(t);
  const srv = await server(defer);
  const host = `ssh://root@127.0.0.1:${String(srv.port)}`;
  const h = home(t, { known_hosts: knownHostsLine(srv) });
  const { logger, lines } = recorder();
  const watcher = watch(defer, host, { HOME: h }, logger);
  await waitFor(() => watcher.status().lastError, 20_000, 'a connection error');
  const err = watcher.status().lastError;
  assert.equal(err?.code, 'DOCKER_SSH_AUTH');
  assert.match(err?.message ?? '', new RegExp(`no SSH identity: mount a private key at ${h}/\\.ssh/id_ed25519 \\(or id_ecdsa, id_rsa\\), or set SSH_AUTH_SOCK`));
  assert.deepEqual(watcher.records(), []);
  assert.equal(lines.find((l) => l.level === 'error')?.obj['code'], 'DOCKER_SSH_AUTH');
  assert.doesNotMatch(srv.log(), /Connection from|Accepted/, 'fails before dialling');
});
