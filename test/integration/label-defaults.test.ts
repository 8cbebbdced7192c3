// defaults.load_balance from the config file reaches routes made from Docker labels ("applied to
// every route, labels and static routes", docs/configuration.md), and an explicit label still
// wins: once through config → labels as pure functions, once through a running Bellhop with real
// containers and the admin API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { defaultHealthcheck, defaultLoadBalance, formatConfigErrors, loadConfig } from '../../internal/config/index.ts';
import { parseContainers } from '../../internal/labels/index.ts';
import { container } from '../fixtures/labels/containers.ts';
import { startBellhop } from '../support/bellhop-harness.ts';
import { dockerClient, dockerSkip, removeQuietly, runHttpd, uniqueName, waitFor } from '../support/docker-test.ts';

const DEFAULTS = 'defaults:\n  load_balance: { mode: least_conn, sticky: true, sticky_max_age: 2h }\n';

test('config file defaults.load_balance → label routes: sticky, mode and max age by default; an explicit label wins', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bellhop-lbdefaults-'));
  try {
    writeFileSync(join(dir, 'config.yml'), DEFAULTS);
    const loaded = loadConfig({ env: {}, cwd: dir });
    assert.ok(loaded.ok, loaded.ok ? '' : formatConfigErrors(loaded.errors));
    const r = parseContainers(
      [
        container({ name: 'plain', labels: { 'proxy.aliases': 'plain' } }),
        container({ name: 'opted-out', labels: { 'proxy.aliases': 'opted-out', 'proxy.opted-out.load_balance.sticky': 'false', 'proxy.opted-out.load_balance.mode': 'iphash' } }),
      ],
      { exposeAll: false, self: { networks: [] }, defaults: { healthcheck: defaultHealthcheck(loaded.config), loadBalance: defaultLoadBalance(loaded.config) } },
    );
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.routes.map((x) => [x.name, x.loadBalance]), [
      ['opted-out', { mode: 'iphash', sticky: false, stickyMaxAgeMs: 7_200_000 }],
      ['plain', { mode: 'leastconn', sticky: true, stickyMaxAgeMs: 7_200_000 }],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a running Bellhop applies defaults.load_balance.sticky to label routes; sticky "false" on a container wins', { skip: dockerSkip }, async (t) => {
  const docker = dockerClient();
  const plain = uniqueName('lbdef-plain');
  const optedOut = uniqueName('lbdef-off');
  const containers: Docker.Container[] = [];
  const bh = await startBellhop({ mode: 'in-process', yaml: DEFAULTS });
  t.after(async () => {
    await bh.stop();
    for (const c of containers) await removeQuietly(c);
  });
  containers.push(await runHttpd(docker, { name: plain, labels: { 'proxy.aliases': plain } }));
  containers.push(await runHttpd(docker, { name: optedOut, labels: { 'proxy.aliases': optedOut, [`proxy.${optedOut}.load_balance.sticky`]: 'false' } }));
  const view = await waitFor(async () => {
    const v = await bh.routes();
    return v.routes.some((r) => r.alias === plain) && v.routes.some((r) => r.alias === optedOut) ? v : undefined;
  }, 20_000, 'both label routes in /api/routes');
  assert.deepEqual(view.errors, []);
  const lb = (alias: string) => view.routes.find((r) => r.alias === alias)?.load_balance;
  assert.deepEqual(lb(plain), { mode: 'leastconn', sticky: true, sticky_max_age_ms: 7_200_000, options: null });
  assert.deepEqual(lb(optedOut), { mode: 'leastconn', sticky: false, sticky_max_age_ms: 7_200_000, options: null });
  // And the proxy acts on it: the default-sticky route sets the cookie.
  const r = await waitFor(async () => {
    const x = await bh.get(plain);
    return x.status === 200 ? x : undefined;
  }, 20_000, `${plain} to answer`);
  assert.match(String(r.headers['set-cookie']), /bellhop_lb_sticky=/);
});
