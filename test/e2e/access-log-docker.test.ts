// A per-route access log from container labels on the real engine (docs/access-log.md): a
// labelled busybox httpd gets its own JSON log, written by a Bellhop child process, while the
// entrypoint's combined log (config file) sees the same request; a bad access_log label costs
// only that alias.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { dockerSkip, dockerClient, runHttpd, removeQuietly, uniqueName, waitFor } from '../support/docker-test.ts';
import { startBellhop, type BellhopUnderTest } from '../support/bellhop-harness.ts';

const docker = dockerClient();
const containers: Docker.Container[] = [];
const dir = mkdtempSync(join(tmpdir(), 'bellhop-alog-docker-'));
const entryLog = join(dir, 'entry.log');
let bellhop: BellhopUnderTest;
const ROUTED_MS = 30_000;

function lines(path: string): string[] {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((l) => l !== '') : [];
}

before(async () => {
  if (dockerSkip) return;
  bellhop = await startBellhop({ mode: 'child', yaml: `entrypoint:\n  access_log: { format: combined, path: ${entryLog} }` });
});

after(async () => {
  await Promise.all(containers.map((c) => removeQuietly(c)));
  if (bellhop) await bellhop.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('proxy.<alias>.access_log.* labels give the route its own log; a bad one costs that alias only', { skip: dockerSkip }, async () => {
  const a = uniqueName('alog').toLowerCase();
  const routeLog = join(dir, `${a}.json`);
  const c = await runHttpd(docker, {
    name: a,
    body: `logged-${a}`,
    labels: {
      'proxy.aliases': `${a}, ${a}-bad`,
      [`proxy.${a}.access_log.format`]: 'json',
      [`proxy.${a}.access_log.path`]: routeLog,
      [`proxy.${a}.access_log.filters.status_codes.values`]: '200-299',
      [`proxy.${a}.access_log.fields.headers`]: 'default: drop\nconfig: { x-trace: keep }',
      [`proxy.${a}-bad.access_log.retention`]: '30 lines',
      [`proxy.${a}-bad.access_log.path`]: join(dir, 'bad.log'),
    },
  });
  containers.push(c);
  await waitFor(async () => {
    const r = await bellhop.get(a, '/', { timeoutMs: 2000 });
    return r.status === 200 && r.body === `logged-${a}` ? true : undefined;
  }, ROUTED_MS, `${a} to answer through Bellhop`);
  const r = await bellhop.get(a, '/index.html?q=1', { headers: { 'x-trace': 't-1', 'user-agent': 'e2e/1' } });
  assert.equal(r.status, 200);
  assert.equal((await bellhop.get(a, '/missing')).status, 404, 'busybox: no such file');
  // lines are written within a second; the 404 is filtered out of the route's log
  const entry = await waitFor(() => {
    const j = lines(routeLog).map((l) => JSON.parse(l) as Record<string, unknown>).find((o) => o['path'] === '/index.html');
    return j;
  }, 20_000, 'the route log line');
  assert.equal(entry['status'], 200);
  assert.equal(entry['host'], a);
  assert.equal(entry['useragent'], 'e2e/1');
  assert.deepEqual(entry['query'], { q: ['1'] });
  assert.deepEqual(entry['headers'], { 'X-Trace': ['t-1'] });
  assert.equal(entry['size'], `logged-${a}`.length);
  await waitFor(() => lines(routeLog).length >= 1 && lines(entryLog).some((l) => l.includes('"GET /missing HTTP/1.1" 404')), 20_000, 'the entrypoint log');
  assert.equal(lines(routeLog).filter((l) => l.includes('/missing')).length, 0, 'status filter');
  assert.ok(lines(entryLog).some((l) => /^127\.0\.0\.1 - - \[[^\]]+\] "GET \/index\.html\?q=1 HTTP\/1\.1" 200 \d+ "-" "e2e\/1"$/.test(l)), lines(entryLog).join('\n'));
  // the bad alias: an error naming its label, not served; the good one is
  const view = await bellhop.routes();
  assert.ok(view.errors.some((e) => e.code === 'LABEL_BAD_ACCESS_LOG' && e.key === `proxy.${a}-bad.access_log.retention`), JSON.stringify(view.errors));
  assert.equal((await bellhop.get(`${a}-bad`, '/')).status, 404);
});
