// ssh:// Docker hosts against a real OpenSSH sshd on 127.0.0.1 (test/support/openssh-server.ts:
// extracted from the distribution's package, never installed as a service) in front of this
// machine's own engine: `docker system dial-stdio` runs in the SSH session. A DockerWatcher on
// ssh://root@127.0.0.1:<port> syncs and lists a container over one SSH connection, and makes a
// new one when that connection drops; a wrong host key, an unknown host and a missing identity
// are refused with DOCKER_SSH_HOST_KEY / DOCKER_SSH_AUTH, and the ssh-keyscan line the
// unknown-host error suggests really fixes it without a restart.
//
// Deadlines are generous (SYNC_MS): what is asserted is what happens, not how fast.
//
// In CI (CI set) a missing prerequisite fails the test; elsewhere it skips, loudly.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerWatcher, closeDockerClient, dockerClientFor, parseDockerHost } from '../../internal/docker/index.ts';
import type { DockerLogger } from '../../internal/docker/index.ts';
import { dockerClient, dockerSkip, removeQuietly, runHttpd, uniqueName, waitFor } from '../support/docker-test.ts';
import { openSshTools, startSshServer, type OpenSshTools, type SshServer } from '../support/openssh-server.ts';

const ci = Boolean(process.env['CI']);
/** Deadline for anything that waits on sshd, Docker and the watcher. */
const SYNC_MS = 60_000;

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

/** Client ports of the SSH connections sshd accepted. */
function acceptedPorts(srv: SshServer): string[] {
  return [...srv.log().matchAll(/Accepted publickey for root from 127\.0\.0\.1 port (\d+)/g)].map((m) => m[1] ?? '');
}

/** Ports of connections the test itself killed (dropConnections): they log no disconnect. */
const killed = new WeakMap<SshServer, Set<string>>();

/** Client ports of sessions sshd accepted and has not seen end. */
function openSessions(srv: SshServer): string[] {
  const log = srv.log();
  const dropped = killed.get(srv) ?? new Set<string>();
  return acceptedPorts(srv).filter((port) => !dropped.has(port) && !new RegExp(`(Disconnected from user root |Connection (closed|reset) by (authenticating )?(user root )?)127\\.0\\.0\\.1 port ${port}\\b`).test(log));
}

async function server(defer: ReturnType<typeof cleanups>, config: readonly string[] = []): Promise<SshServer> {
  if (problem !== undefined || !tools) assert.fail(`CI is set, so the ssh:// tests must run: ${problem ?? 'no sshd'}`);
  // The session's docker CLI must reach the engine this suite uses.
  const env: Record<string, string> = process.env['DOCKER_HOST'] ? { DOCKER_HOST: process.env['DOCKER_HOST'] } : {};
  const srv = await startSshServer(tools, env, config);
  defer(async () => {
    // Runs after the watchers stopped: every SSH connection Bellhop opened must be closed by
    // then (a leaked one is a leaked session, and a `docker system dial-stdio`, on the host).
    const leaked = await waitFor(() => openSessions(srv).length === 0 || undefined, 30_000, 'every SSH session to close').then(() => undefined, () => openSessions(srv));
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
  const docker = dockerClientFor(parseDockerHost(host, env));
  const watcher = new DockerWatcher({
    host,
    docker,
    callTimeoutMs: 15_000,
    backoffInitialMs: 200,
    backoffMaxMs: 1000,
    ...(logger ? { logger } : {}),
  });
  defer(async () => {
    await watcher.stop();
    // The client was handed in, so the watcher leaves it open: close its SSH connection here.
    closeDockerClient(docker);
  });
  watcher.start();
  return watcher;
}

test('ssh://root@127.0.0.1: a DockerWatcher through a real sshd syncs and lists a labelled container, with remoteAddress, over one SSH connection', { skip, timeout: 180_000 }, async (t) => {
  const defer = cleanups(t);
  const srv = await server(defer);
  const docker = dockerClient();
  const container = await runHttpd(docker, { name: uniqueName('bellhop-ssh'), labels: { 'proxy.aliases': 'over-ssh', 'proxy.port': '80' } });
  t.after(() => removeQuietly(container));
  const host = `ssh://root@127.0.0.1:${String(srv.port)}`;
  const h = home(t, { id_ed25519: srv.clientPrivateKey, known_hosts: knownHostsLine(srv) });
  const started = Date.now();
  const watcher = watch(defer, host, { HOME: h });
  const rec = await waitFor(() => watcher.records().find((r) => r.id === container.id), SYNC_MS, 'the container in the watcher over ssh://');
  t.diagnostic(`synced over SSH in ${String(Date.now() - started)} ms`);
  assert.equal(watcher.state, 'synced');
  assert.equal(rec.dockerHost, host);
  assert.equal(rec.remoteAddress, '127.0.0.1', 'docs/discovery.md: a remote host routes to its own address');
  assert.equal(rec.labels['proxy.aliases'], 'over-ssh');
  assert.equal(rec.state, 'running');
  assert.match(srv.log(), /Accepted publickey for root from 127\.0\.0\.1/, 'it really went through sshd');

  // Events flow over the SSH channel too: a stop shows up without a resync.
  const syncs = watcher.stats.fullSyncs;
  await container.stop({ t: 1 });
  await waitFor(() => watcher.records().find((r) => r.id === container.id)?.state === 'exited' || undefined, SYNC_MS, 'state exited via the events stream');
  assert.equal(watcher.stats.fullSyncs, syncs);
  // The list, every inspect (of every container on this engine), the events stream and the
  // inspect after the stop all went over one SSH connection: one login on the host.
  assert.equal(acceptedPorts(srv).length, 1, `one SSH connection for the whole sync and its events:\n${srv.log()}`);
});

test('ssh://: when the SSH connection drops, the watcher connects again and resyncs', { skip, timeout: 180_000 }, async (t) => {
  const defer = cleanups(t);
  const srv = await server(defer);
  const docker = dockerClient();
  const host = `ssh://root@127.0.0.1:${String(srv.port)}`;
  const h = home(t, { id_ed25519: srv.clientPrivateKey, known_hosts: knownHostsLine(srv) });
  const watcher = watch(defer, host, { HOME: h });
  await waitFor(() => watcher.state === 'synced' || undefined, SYNC_MS, 'the first sync');
  const before = watcher.status().reconnects;

  const dropped = acceptedPorts(srv);
  killed.set(srv, new Set(dropped));
  assert.ok(srv.dropConnections() >= 1, 'an SSH connection to drop');
  // Something changes while the watcher is cut off: the resync must pick it up.
  const container = await runHttpd(docker, { name: uniqueName('bellhop-ssh-after'), labels: { 'proxy.aliases': 'after-drop', 'proxy.port': '80' } });
  t.after(() => removeQuietly(container));
  await waitFor(() => watcher.records().find((r) => r.id === container.id && r.state === 'running'), SYNC_MS, 'the container started after the drop, over the new connection');
  assert.equal(watcher.state, 'synced');
  assert.ok(watcher.status().reconnects > before, 'the watcher noticed the loss and reconnected');
  const now = acceptedPorts(srv).filter((p) => !dropped.includes(p));
  assert.ok(now.length >= 1, 'a new SSH connection was made');
});

test('ssh://: a host that allows only 2 sessions per connection (MaxSessions 2) still syncs, over one connection', { skip, timeout: 180_000 }, async (t) => {
  const defer = cleanups(t);
  const srv = await server(defer, ['MaxSessions 2']);
  const docker = dockerClient();
  // Several containers, so the sync wants several inspects at once next to the events stream.
  const made = await Promise.all([0, 1, 2, 3].map((i) => runHttpd(docker, { name: uniqueName(`bellhop-ssh-few-${String(i)}`), start: false })));
  t.after(() => Promise.all(made.map((c) => removeQuietly(c))));
  const host = `ssh://root@127.0.0.1:${String(srv.port)}`;
  const h = home(t, { id_ed25519: srv.clientPrivateKey, known_hosts: knownHostsLine(srv) });
  const { logger, lines } = recorder();
  const watcher = watch(defer, host, { HOME: h }, logger);
  await waitFor(() => (made.every((c) => watcher.records().some((r) => r.id === c.id)) ? true : undefined), SYNC_MS, 'every container listed');
  assert.equal(watcher.state, 'synced');
  // A call that waited past its timeout on a busy machine (DOCKER_TIMEOUT, retried) is not a
  // refused channel; a deadlock would still fail the sync above. Codes are shown for the rest.
  const surfaced = lines.filter((l) => (l.level === 'warn' || l.level === 'error') && l.obj['code'] !== 'DOCKER_TIMEOUT');
  assert.deepEqual(surfaced.map((l) => `${l.msg} (${String(l.obj['code'])}: ${String((l.obj['err'] as Error | undefined)?.message)})`), [], 'no refused channel surfaced as an error');
  assert.equal(acceptedPorts(srv).length, 1, 'the refused channels waited for a free one; no second connection');
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
  await waitFor(() => watcher.status().lastError, SYNC_MS, 'a connection error');
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
  await waitFor(() => watcher.status().lastError, SYNC_MS, 'a connection error');
  const message = watcher.status().lastError?.message ?? '';
  assert.equal(watcher.status().lastError?.code, 'DOCKER_SSH_HOST_KEY');
  assert.match(message, /host \[127\.0\.0\.1\]:\d+ is not a known host \(.*known_hosts does not exist; server sent ssh-ed25519 SHA256:/);
  const command = /(ssh-keyscan -p \d+ 127\.0\.0\.1 >> \S+)/.exec(message)?.[1];
  assert.ok(command, message);
  const scan = spawnSync('sh', ['-c', command.replace(/^ssh-keyscan/, `"${tools?.sshKeyscan ?? 'ssh-keyscan'}"`)], { encoding: 'utf8', env: { ...process.env, LD_LIBRARY_PATH: tools?.libraryPath ?? '' } });
  assert.equal(scan.status, 0, scan.stderr);
  await waitFor(() => watcher.state === 'synced' || undefined, SYNC_MS, 'the watcher to sync after ssh-keyscan');
});

test('ssh://: no identity → DOCKER_SSH_AUTH naming the key to mount; no connection is made', { skip, timeout: 60_000 }, async (t) => {
  const defer = cleanups(t);
  const srv = await server(defer);
  const host = `ssh://root@127.0.0.1:${String(srv.port)}`;
  const h = home(t, { known_hosts: knownHostsLine(srv) });
  const { logger, lines } = recorder();
  const watcher = watch(defer, host, { HOME: h }, logger);
  await waitFor(() => watcher.status().lastError, SYNC_MS, 'a connection error');
  const err = watcher.status().lastError;
  assert.equal(err?.code, 'DOCKER_SSH_AUTH');
  assert.match(err?.message ?? '', new RegExp(`no SSH identity: mount a private key at ${h}/\\.ssh/id_ed25519 \\(or id_ecdsa, id_rsa\\), or set SSH_AUTH_SOCK`));
  assert.deepEqual(watcher.records(), []);
  assert.equal(lines.find((l) => l.level === 'error')?.obj['code'], 'DOCKER_SSH_AUTH');
  assert.doesNotMatch(srv.log(), /Connection from|Accepted/, 'fails before dialling');
});
