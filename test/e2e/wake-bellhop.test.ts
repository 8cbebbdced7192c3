// Sleep and wake through the whole Bellhop (cmd/bellhop/app.ts in-process: real DockerHub,
// label parsing, route table, live pools, proxy, admin API) against the real Docker engine.
// Containers are busybox httpd; starts and stops are counted from Docker's own event stream,
// not from Bellhop, so a second start or a missed stop cannot hide.
//
// Busybox cannot speak websocket, so the "open websocket" case uses a busybox `nc -e` script that
// answers any Upgrade with a real 101 and then echoes: for the proxy that is a tunnel like any
// websocket. The slow download is an httpd CGI that streams one line a second until the client
// goes away.
//
// Each test's Bellhop sees only this process's containers (docker.label_filter in the harness),
// so no other Bellhop on the engine sleeps or wakes them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { request } from 'node:http';
import type Docker from 'dockerode';
import { dockerSkip, dockerClient, runHttpd, removeQuietly, uniqueName, waitFor, TEST_IMAGE, TEST_LABELS } from '../support/docker-test.ts';
import { startBellhop, type BellhopUnderTest, type HttpResult } from '../support/bellhop-harness.ts';
import { watchEvents } from '../support/docker-events.ts';

function alias(prefix: string): string {
  return `${prefix}${Math.random().toString(36).slice(2, 8)}`;
}

async function idOf(c: Docker.Container): Promise<string> {
  return (await c.inspect()).Id;
}

async function dockerState(c: Docker.Container): Promise<string> {
  return (await c.inspect()).State.Status;
}

interface ContainerStatus {
  id: string;
  inFlight: number;
  name: string;
  state: string;
  msUntilSleep: number | null;
  lastWakeMs: number | null;
  lastError: { code: string; exitCode?: number; logs?: string } | null;
}

async function containerStatus(b: BellhopUnderTest, id: string): Promise<ContainerStatus | undefined> {
  const view = (await b.routes()) as unknown as { containers: ContainerStatus[] };
  return view.containers.find((c) => c.id === id);
}

async function routed(b: BellhopUnderTest, name: string): Promise<void> {
  await waitFor(async () => ((await b.route(name)) ? true : undefined), 10_000, `route ${name} in /api/routes`);
}

/** A raw upgrade through Bellhop; resolves with the socket once the 101 head arrived. */
function openTunnel(port: number, host: string): Promise<{ socket: Socket; head: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let head = '';
    socket.setEncoding('utf8');
    const onData = (d: string): void => {
      head += d;
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      resolve({ socket, head });
    };
    socket.on('data', onData);
    socket.on('error', reject);
    socket.write(
      `GET /ws HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
}

/** A GET through Bellhop whose body is read line by line as it streams; `abort` hangs up. */
function streamLines(port: number, host: string, path: string): { lines: string[]; line(n: number): Promise<void>; abort(): void; status: Promise<number> } {
  const lines: string[] = [];
  const waiters: { n: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  let failed: Error | undefined;
  const wake = (): void => {
    for (const w of [...waiters]) {
      if (lines.length >= w.n) w.resolve();
      else if (failed) w.reject(failed);
      else continue;
      waiters.splice(waiters.indexOf(w), 1);
    }
  };
  let rest = '';
  const req = request({ host: '127.0.0.1', port, path, headers: { host, accept: '*/*' }, agent: false });
  const status = new Promise<number>((resolve, reject) => {
    req.on('response', (res) => {
      resolve(res.statusCode ?? 0);
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        rest += d;
        let i;
        while ((i = rest.indexOf('\n')) >= 0) {
          lines.push(rest.slice(0, i));
          rest = rest.slice(i + 1);
        }
        wake();
      });
      res.on('error', () => undefined);
      res.on('end', () => {
        failed = new Error(`the stream ended after ${lines.length} lines`);
        wake();
      });
    });
    req.on('error', (err) => {
      failed ??= err;
      reject(err);
      wake();
    });
  });
  status.catch(() => undefined);
  req.end();
  return {
    lines,
    line: (n) => new Promise<void>((resolve, reject) => {
      waiters.push({ n, resolve, reject });
      wake();
    }),
    abort: () => req.destroy(),
    status,
  };
}

function b64(text: string): string {
  return Buffer.from(text).toString('base64');
}

// Answers one upgrade per connection with a 101, then echoes (nc -ll keeps listening).
const WS_SCRIPT = `#!/bin/sh
while read -r l; do l=$(printf '%s' "$l" | tr -d '\\r'); [ -z "$l" ] && break; done
printf 'HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n\\r\\n'
exec cat
`;
// Streams one line a second until the client goes away (or after 5 minutes): the test, not the
// machine's speed, decides when the download ends.
const SLOW_CGI = `#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
i=0; while [ $i -lt 300 ]; do i=$((i+1)); echo $i || exit 0; sleep 1; done
`;
const EXTRA_SHELL = `mkdir -p /www/cgi-bin && echo ${b64(SLOW_CGI)} | base64 -d > /www/cgi-bin/slow && chmod +x /www/cgi-bin/slow && echo ${b64(WS_SCRIPT)} | base64 -d > /ws.sh && chmod +x /ws.sh && (nc -ll -p 81 -e /ws.sh &) &&`;

test('through Bellhop: 50 concurrent requests to a stopped container start it once; all get the real body', { skip: dockerSkip }, async () => {
  const docker = dockerClient();
  const name = alias('wk');
  const c = await runHttpd(docker, { start: false, body: 'real-body-50', labels: { 'proxy.aliases': name, 'proxy.idle_timeout': '1m' } });
  const id = await idOf(c);
  const ev = await watchEvents(docker, () => [id]);
  const b = await startBellhop({ mode: 'in-process' });
  try {
    await routed(b, name);
    assert.equal((await b.route(name))!.members[0]!.state, 'asleep');
    const all = await Promise.all(Array.from({ length: 50 }, () => b.get(name, '/', { headers: { accept: '*/*' }, timeoutMs: 30_000 })));
    const statuses = all.map((r) => r.status);
    assert.deepEqual(statuses, Array.from({ length: 50 }, () => 200), `statuses: ${statuses.join(',')} first body: ${all.find((r) => r.status !== 200)?.body ?? ''}`);
    for (const r of all) assert.equal(r.body, 'real-body-50');
    // Straight after the wake, discovery re-syncs (Docker's start event) and lists the new
    // address: requests in that window must not meet a member reset to 'starting' (503).
    const until = Date.now() + 1500;
    const after: number[] = [];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (Date.now() < until) after.push((await b.get(name, '/', { headers: { accept: '*/*' } })).status);
      }),
    );
    assert.ok(after.length > 20, `only ${after.length} requests`);
    assert.deepEqual([...new Set(after)], [200], `statuses after the wake: ${after.join(',')}`);
    assert.notEqual((await b.route(name))!.members[0]!.url, '', 'discovery never listed the address');
    assert.equal((await b.route(name))!.members[0]!.health, 'healthy');
    assert.equal(ev.count(id, 'start'), 1);
  } finally {
    ev.close();
    await b.stop();
    await removeQuietly(c);
  }
});

// Every phase overlaps the next (the download is still open when the tunnel opens, the tunnel
// when the download ends), so nothing is ever left with nothing open by a slow step: a gap
// longer than idle_timeout between two phases would make Bellhop stop the container, quite
// rightly, and the next phase's request would then wake it again (a die that looked like
// "stopped while a tunnel was open"; the old version of this test had exactly that gap).
test('through Bellhop: idle_timeout 2s stops after the last activity; an open tunnel and a slow download keep it awake; state in /api/routes', { skip: dockerSkip }, async () => {
  const docker = dockerClient();
  const name = alias('wi');
  const c = await runHttpd(docker, {
    start: false,
    body: 'idle-body',
    extraShell: EXTRA_SHELL,
    labels: { 'proxy.aliases': `${name}, ${name}-ws`, 'proxy.idle_timeout': '2s', 'proxy.stop_timeout': '1s', [`proxy.${name}-ws.port`]: '81' },
  });
  const id = await idOf(c);
  const ev = await watchEvents(docker, () => [id]);
  const b = await startBellhop({ mode: 'in-process' });
  let download: ReturnType<typeof streamLines> | undefined;
  let socket: Socket | undefined;
  try {
    await routed(b, name);
    assert.equal((await containerStatus(b, id))?.state, 'asleep');
    assert.equal((await containerStatus(b, id))?.msUntilSleep, null);

    // A slow download wakes it and keeps it awake: by its 5th line it has been streaming for
    // at least 4 s since the wake, twice idle_timeout, with nothing else open.
    download = streamLines(b.httpPort, name, '/cgi-bin/slow');
    assert.equal(await download.status, 200);
    await download.line(5);
    assert.deepEqual(download.lines.slice(0, 5), ['1', '2', '3', '4', '5']);
    assert.equal(ev.count(id, 'die'), 0, 'stopped during the download');
    const during = await containerStatus(b, id);
    assert.equal(during?.state, 'awake');
    assert.equal(during.inFlight, 1);
    assert.equal(during.msUntilSleep, 2000); // not counting down while a request is open
    assert.ok(during.lastWakeMs !== null && during.lastWakeMs > 0);
    assert.equal((await b.route(name))!.members[0]!.state, 'awake');

    // An upgrade tunnel opens while the download still streams; a plain request comes and goes.
    const tunnel = await openTunnel(b.httpPort, `${name}-ws`);
    socket = tunnel.socket;
    // For the failure message: did the tunnel close under the test, and when?
    const tunnelAt = Date.now();
    let tunnelEnded = 'still open';
    socket.once('end', () => { tunnelEnded = `peer ended it ${String(Date.now() - tunnelAt)} ms after the 101`; });
    socket.once('close', () => { if (tunnelEnded === 'still open') tunnelEnded = `closed ${String(Date.now() - tunnelAt)} ms after the 101`; });
    assert.match(tunnel.head, /^HTTP\/1\.1 101/, `routes: ${JSON.stringify((await b.route(`${name}-ws`))?.members)}\n${b.logs().filter((l) => /error|warn|upstream/i.test(l)).slice(-8).join('\n')}`);
    socket.write('ping\n');
    await waitFor(() => new Promise<true | undefined>((r) => socket!.once('data', (d) => r(String(d).includes('ping') ? true : undefined))), 20_000, 'echo');
    const first = await b.get(name, '/', { headers: { accept: '*/*' } });
    assert.equal(first.status, 200);
    assert.equal(first.body, 'idle-body');
    assert.equal((await containerStatus(b, id))?.inFlight, 2);

    // The download ends (its client goes away); the tunnel alone, without any traffic, keeps it
    // awake for twice idle_timeout.
    download.abort();
    await waitFor(async () => ((await containerStatus(b, id))?.inFlight === 1 ? true : undefined), 20_000, 'the download released');
    await new Promise((r) => setTimeout(r, 4000));
    assert.equal(ev.count(id, 'die'), 0, `stopped while a tunnel was open (tunnel ${tunnelEnded})`);
    const open = await containerStatus(b, id);
    assert.equal(open?.state, 'awake');
    assert.equal(open.msUntilSleep, 2000, `tunnel ${tunnelEnded}, yet the idle clock runs: ${JSON.stringify(open)}\n${b.logs().slice(-15).join("\n")}`);
    const closedAt = Date.now();
    socket.destroy();

    // Then it sleeps: not before 2 s after the last activity, plus Docker's stop (httpd as PID 1
    // ignores SIGTERM, so stop_timeout 1 s elapses before the kill).
    await waitFor(() => (ev.count(id, 'die') > 0 ? true : undefined), 15_000, 'idle stop');
    const diedAfter = ev.events.find((e) => e.action === 'die')!.at - closedAt;
    assert.ok(diedAfter >= 1800, `stopped ${diedAfter} ms after the tunnel closed`);
    await waitFor(async () => ((await containerStatus(b, id))?.state === 'asleep' ? true : undefined), 20_000, 'asleep in /api/routes');
    assert.equal(ev.count(id, 'start'), 1);
    // And the next request wakes it again.
    assert.equal((await b.get(name, '/')).body, 'idle-body');
    assert.equal(ev.count(id, 'start'), 2);
  } finally {
    download?.abort();
    socket?.destroy();
    ev.close();
    await b.stop();
    await removeQuietly(c);
  }
});

test('through Bellhop: stop_method pause pauses when idle and the next request unpauses', { skip: dockerSkip }, async () => {
  const docker = dockerClient();
  const name = alias('wp');
  const c = await runHttpd(docker, { body: 'paused-body', labels: { 'proxy.aliases': name, 'proxy.idle_timeout': '1s', 'proxy.stop_method': 'pause' } });
  const id = await idOf(c);
  const ev = await watchEvents(docker, () => [id]);
  const b = await startBellhop({ mode: 'in-process' });
  try {
    await routed(b, name);
    // Running at startup: awake, and its idle clock runs.
    await waitFor(async () => ((await dockerState(c)) === 'paused' ? true : undefined), 10_000, 'pause');
    await waitFor(async () => ((await containerStatus(b, id))?.state === 'asleep' ? true : undefined), 20_000, 'asleep');
    const r = await b.get(name, '/', { headers: { accept: '*/*' } });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'paused-body');
    assert.equal(await dockerState(c), 'running');
    assert.equal(ev.count(id, 'unpause'), 1);
    assert.equal(ev.count(id, 'start'), 0);
  } finally {
    ev.close();
    await b.stop();
    await removeQuietly(c);
  }
});

async function boomContainer(docker: Docker, name: string): Promise<Docker.Container> {
  return docker.createContainer({
    Image: TEST_IMAGE,
    name: uniqueName('bellhop-wake-boom'),
    Cmd: ['/bin/sh', '-c', 'echo boom; exit 3'],
    Labels: { ...TEST_LABELS, 'proxy.aliases': name, 'proxy.idle_timeout': '1m', [`proxy.${name}.port`]: '80' },
  });
}

test('through Bellhop: a container that exits at once: API 503 + Retry-After; the page and progress show the failure and its log', { skip: dockerSkip }, async () => {
  const docker = dockerClient();
  const name = alias('wx');
  const c = await boomContainer(docker, name);
  const id = await idOf(c);
  const ev = await watchEvents(docker, () => [id]);
  const b = await startBellhop({ mode: 'in-process' });
  try {
    await routed(b, name);
    const api = await b.get(name, '/api/thing', { headers: { accept: 'application/json' } });
    assert.equal(api.status, 503);
    assert.ok(Number(api.headers['retry-after']) >= 1, `Retry-After ${String(api.headers['retry-after'])}`);
    assert.equal((JSON.parse(api.body) as { error: { code: string } }).error.code, 'WAKE_EXITED');

    const page = await b.get(name, '/', { headers: { accept: 'text/html', 'sec-fetch-mode': 'navigate' } });
    assert.equal(page.status, 503); // cooling down: the page shows the failure at once
    assert.ok(Number(page.headers['retry-after']) >= 1);
    assert.equal(page.headers['cache-control'], 'no-store');
    assert.match(page.body, /exited/);
    assert.match(page.body, /boom/);
    const events = await b.get(name, '/.bellhop/wake/events');
    assert.match(events.body, /"type":"failed"/);
    assert.match(events.body, /"code":"WAKE_EXITED"/);
    assert.match(events.body, /boom/);
    const status = JSON.parse((await b.get(name, '/.bellhop/wake/status')).body) as { error?: { code: string; logs?: string } };
    assert.equal(status.error?.code, 'WAKE_EXITED');
    assert.match(status.error.logs ?? '', /boom/);
    assert.equal((await containerStatus(b, id))?.lastError?.code, 'WAKE_EXITED');
    assert.equal(ev.count(id, 'start'), 1); // cool-down: no start storm
  } finally {
    ev.close();
    await b.stop();
    await removeQuietly(c);
  }
});

// The exit code travels ContainerRecord.exitCode (internal/docker) → the wake control → every view.
test('through Bellhop: the exit code (3) reaches the API client, the page and the progress', { skip: dockerSkip }, async () => {
  const docker = dockerClient();
  const name = alias('wy');
  const c = await boomContainer(docker, name);
  const id = await idOf(c);
  const b = await startBellhop({ mode: 'in-process' });
  try {
    await routed(b, name);
    const api = await b.get(name, '/api/thing', { headers: { accept: 'application/json' } });
    assert.equal(api.status, 503);
    assert.equal((JSON.parse(api.body) as { error: { exitCode?: number } }).error.exitCode, 3);
    const page = await b.get(name, '/', { headers: { accept: 'text/html', 'sec-fetch-mode': 'navigate' } });
    assert.match(page.body, /Exit code <b>3<\/b>/);
    assert.match((await b.get(name, '/.bellhop/wake/events')).body, /"exitCode":3/);
    assert.equal((await containerStatus(b, id))?.lastError?.exitCode, 3);
  } finally {
    await b.stop();
    await removeQuietly(c);
  }
});

// Logs often carry secrets: wake.show_logs private (default) shows them to loopback and private
// networks only, with the client IP the proxy works out (here: behind a trusted proxy on loopback).
test('through Bellhop: a failed wake shows its log lines to a loopback client, not to a public one behind a trusted proxy (page, events, status, API JSON); show_logs never hides them from everyone', { skip: dockerSkip }, async () => {
  const docker = dockerClient();
  const name = alias('wl');
  const c = await boomContainer(docker, name);
  let b = await startBellhop({ mode: 'in-process', yaml: 'entrypoint:\n  trusted_proxies: ["127.0.0.1"]' });
  const views = async (headers: Record<string, string>): Promise<string[]> => [
    (await b.get(name, '/api/thing', { headers: { ...headers, accept: 'application/json' } })).body,
    (await b.get(name, '/', { headers: { ...headers, accept: 'text/html', 'sec-fetch-mode': 'navigate' } })).body,
    (await b.get(name, '/.bellhop/wake/events', { headers })).body,
    (await b.get(name, '/.bellhop/wake/status', { headers })).body,
  ];
  try {
    await routed(b, name);
    const [publicApi, publicPage, publicEvents, publicStatus] = await views({ 'x-forwarded-for': '203.0.113.7' });
    // The log is the one line "boom" (the container's name has "boom" in it too, the message names it).
    for (const text of [publicApi, publicPage, publicEvents, publicStatus]) assert.doesNotMatch(text!, /"logs"|<pre>/);
    assert.equal((JSON.parse(publicApi!) as { error: { exitCode: number } }).error.exitCode, 3);
    assert.match(publicPage!, /Exit code <b>3<\/b>/);
    assert.match(publicPage!, /not shown to this address/);
    assert.match(publicEvents!, /"code":"WAKE_EXITED".*"logsHidden":true/);
    assert.deepEqual((JSON.parse(publicStatus!) as { error: { code: string; logsHidden?: boolean } }).error.logsHidden, true);
    const [, localPage, localEvents, localStatus] = await views({});
    assert.match(localPage!, /<pre>boom<\/pre>/);
    assert.match(localEvents!, /"logs":"boom"/);
    assert.equal((JSON.parse(localStatus!) as { error: { logs?: string } }).error.logs, 'boom');
    await b.stop();
    b = await startBellhop({ mode: 'in-process', yaml: 'wake:\n  show_logs: never' });
    await routed(b, name);
    for (const text of await views({})) assert.doesNotMatch(text, /"logs"|<pre>/);
  } finally {
    await b.stop();
    await removeQuietly(c);
  }
});

test('through Bellhop: a browser gets the loading page while API clients are held; progress ends in ready', { skip: dockerSkip }, async () => {
  const docker = dockerClient();
  const name = alias('wb');
  const c = await runHttpd(docker, { start: false, body: 'browser-body', labels: { 'proxy.aliases': name, 'proxy.idle_timeout': '1m' } });
  const b = await startBellhop({ mode: 'in-process' });
  try {
    await routed(b, name);
    const page = await b.get(name, '/', { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8', 'sec-fetch-mode': 'navigate' } });
    assert.equal(page.status, 200);
    assert.equal(page.headers['cache-control'], 'no-store');
    assert.match(page.body, new RegExp(`<title>${name} is starting</title>`));
    const events = await b.get(name, '/.bellhop/wake/events', { timeoutMs: 20_000 });
    assert.match(events.body, /"type":"waking"/);
    assert.match(events.body, /"type":"ready"/);
    assert.equal((await b.get(name, '/', { headers: { accept: 'text/html', 'sec-fetch-mode': 'navigate' } })).body, 'browser-body');
  } finally {
    await b.stop();
    await removeQuietly(c);
  }
});

test('through Bellhop: depends_on wakes the db first and stops it after the app', { skip: dockerSkip }, async () => {
  const docker = dockerClient();
  const name = alias('wd');
  const dbName = uniqueName('bellhop-wake-db');
  const db = await runHttpd(docker, { name: dbName, start: false, body: 'db' }); // no proxy labels
  const app = await runHttpd(docker, {
    start: false,
    body: 'app-body',
    labels: { 'proxy.aliases': name, 'proxy.idle_timeout': '2s', 'proxy.stop_timeout': '1s', 'proxy.depends_on': dbName },
  });
  const dbId = await idOf(db);
  const appId = await idOf(app);
  const ev = await watchEvents(docker, () => [dbId, appId]);
  const b = await startBellhop({ mode: 'in-process' });
  try {
    await routed(b, name);
    const r = await b.get(name, '/', { headers: { accept: '*/*' } });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'app-body');
    const startDb = ev.events.find((e) => e.id === dbId && e.action === 'start');
    const startApp = ev.events.find((e) => e.id === appId && e.action === 'start');
    assert.ok(startDb && startApp, JSON.stringify(ev.events));
    assert.ok(startDb.at <= startApp.at, `db started at ${startDb.at}, app at ${startApp.at}`);
    assert.deepEqual((await containerStatus(b, appId))?.state, 'awake');
    // Sleep: the app after its idle_timeout, then the db (no routes, no sleep labels of its own).
    await waitFor(() => (ev.count(dbId, 'die') > 0 ? true : undefined), 20_000, 'db stopped');
    const dieApp = ev.events.find((e) => e.id === appId && e.action === 'die');
    const dieDb = ev.events.find((e) => e.id === dbId && e.action === 'die');
    assert.ok(dieApp && dieDb, JSON.stringify(ev.events));
    assert.ok(dieApp.at <= dieDb.at, `app died at ${dieApp.at}, db at ${dieDb.at}`);
    assert.equal(await dockerState(app), 'exited');
    assert.equal(await dockerState(db), 'exited');
  } finally {
    ev.close();
    await b.stop();
    await removeQuietly(app);
    await removeQuietly(db);
  }
});

test('through Bellhop: /metrics has wake counters and durations after a wake', { skip: dockerSkip }, async () => {
  const docker = dockerClient();
  const name = alias('wm');
  const c = await runHttpd(docker, { start: false, body: 'm', labels: { 'proxy.aliases': name, 'proxy.idle_timeout': '1m' } });
  const b = await startBellhop({ mode: 'in-process' });
  try {
    await routed(b, name);
    const { httpGet } = await import('../support/bellhop-harness.ts');
    // Asleep: no bellhop_member_healthy 0 to alert on, bellhop_member_asleep 1 instead.
    const before: HttpResult = await httpGet(b.apiPort, '127.0.0.1', '/metrics');
    assert.match(before.body, new RegExp(`bellhop_member_asleep\\{route="${name}",[^}]*\\} 1`));
    assert.doesNotMatch(before.body, new RegExp(`bellhop_member_healthy\\{route="${name}",`));
    // …and the admin API says it sleeps rather than "container exited"
    const asleep = await b.route(name);
    assert.equal(asleep?.summary, '0/1 members healthy, 1 asleep');
    assert.equal(asleep?.members[0]?.state, 'asleep');
    assert.equal(asleep?.members[0]?.reason, 'asleep (idle_timeout): the next request wakes it');
    assert.equal((await b.get(name, '/')).status, 200);
    const m: HttpResult = await httpGet(b.apiPort, '127.0.0.1', '/metrics');
    assert.match(m.body, new RegExp(`bellhop_member_asleep\\{route="${name}",[^}]*\\} 0`));
    assert.match(m.body, new RegExp(`bellhop_member_healthy\\{route="${name}",[^}]*\\} 1`));
    assert.equal((await b.route(name))?.summary, '1/1 members healthy');
    assert.equal(m.status, 200);
    const cname = (await c.inspect()).Name.replace(/^\//, '');
    assert.match(m.body, new RegExp(`bellhop_wakes_total\\{[^}]*container="${cname}"[^}]*result="ok"[^}]*\\} 1`));
    assert.match(m.body, /bellhop_wake_duration_seconds_count(\{[^}]*\})? [1-9]/);
  } finally {
    await b.stop();
    await removeQuietly(c);
  }
});

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function tcpOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/** Time from sending a GET to its first response byte. */
function firstByte(port: number, host: string, hostHeader: string): Promise<{ ms: number; at: number; body: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const s = connect({ host, port });
    let t1 = 0;
    let data = '';
    s.setEncoding('utf8');
    s.on('connect', () => s.write(`GET / HTTP/1.1\r\nHost: ${hostHeader}\r\nAccept: */*\r\nConnection: close\r\n\r\n`));
    s.on('data', (d: string) => {
      if (t1 === 0) t1 = performance.now();
      data += d;
    });
    s.on('end', () => resolve({ ms: t1 - t0, at: t1, body: data.slice(data.indexOf('\r\n\r\n') + 4) }));
    s.on('error', reject);
  });
}

test('wake latency through Bellhop vs bare docker start + readiness (figures only, median of 5)', { skip: dockerSkip }, async (t) => {
  const docker = dockerClient();
  const name = alias('wl');
  const c = await runHttpd(docker, {
    start: false,
    body: 'timed',
    labels: { 'proxy.aliases': name, 'proxy.idle_timeout': '1s', 'proxy.stop_method': 'kill', 'proxy.stop_signal': 'SIGKILL' },
  });
  const id = await idOf(c);
  const b = await startBellhop({ mode: 'in-process' });
  const viaBellhop: number[] = [];
  const bare: number[] = [];
  try {
    await routed(b, name);
    for (let round = 0; round < 5; round++) {
      await waitFor(async () => ((await containerStatus(b, id))?.state === 'asleep' && (await dockerState(c)) !== 'running' ? true : undefined), 15_000, 'asleep');
      const r = await firstByte(b.httpPort, '127.0.0.1', name);
      assert.equal(r.body, 'timed');
      viaBellhop.push(r.ms);
      await waitFor(async () => ((await containerStatus(b, id))?.state === 'asleep' && (await dockerState(c)) !== 'running' ? true : undefined), 15_000, 'asleep again');
      // By hand, polling TCP every 5 ms: what Docker and httpd cost without Bellhop.
      const b0 = performance.now();
      await c.start();
      const info = await c.inspect();
      const ip = Object.values(info.NetworkSettings.Networks ?? {}).find((n) => n.IPAddress)!.IPAddress;
      for (const end = Date.now() + 20_000; !(await tcpOpen(ip, 80)); ) {
        if (Date.now() > end) throw new Error('httpd never listened');
        await new Promise((r) => setTimeout(r, 5));
      }
      const got = await firstByte(80, ip, name);
      assert.equal(got.body, 'timed');
      bare.push(got.at - b0);
      await c.kill();
    }
    const line = `wake latency through the real Bellhop, median of 5: request → first byte ${median(viaBellhop).toFixed(0)} ms; bare docker start + TCP readiness + first byte ${median(bare).toFixed(0)} ms; Bellhop adds ${(median(viaBellhop) - median(bare)).toFixed(0)} ms [bellhop ${viaBellhop.map((x) => x.toFixed(0)).join(',')}; bare ${bare.map((x) => x.toFixed(0)).join(',')}]`;
    t.diagnostic(line);
    process.stderr.write(`[wake-bellhop e2e] ${line}\n`);
  } finally {
    await b.stop();
    await removeQuietly(c);
  }
});
