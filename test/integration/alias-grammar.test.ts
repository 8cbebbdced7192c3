// One alias grammar (internal/routes): a config file route, a Docker label and the route table
// accept exactly the same aliases, so nothing a file or label accepts is dropped by the table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../internal/config/index.ts';
import { parseContainers } from '../../internal/labels/index.ts';
import { buildRouteTable } from '../../internal/routes/index.ts';
import { routeSpec } from '../fixtures/route-specs.ts';
import { container, options } from '../fixtures/labels/containers.ts';

const CANDIDATES = [
  'app', 'app.example.com', '*.example.com', 'my_app', 'a-b', 'x'.repeat(63),
  'app-', '-app', 'a-.example.com', '*.example-', 'x'.repeat(64), 'a..b', 'x.*.com', '*',
];

function configAccepts(alias: string): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'bellhop-alias-'));
  try {
    writeFileSync(join(dir, 'config.yml'), `routes:\n  r:\n    url: http://127.0.0.1:1\n    aliases: [${JSON.stringify(alias)}]\n`);
    const r = loadConfig({ env: {}, cwd: dir });
    if (r.ok) return true;
    assert.deepEqual(r.errors.map((e) => e.code), ['CONFIG_BAD_ALIAS'], alias);
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function labelsAccept(alias: string): boolean {
  const r = parseContainers([container({ name: 'c', labels: { 'proxy.aliases': alias } })], options());
  if (r.errors.length === 0) return true;
  assert.deepEqual(r.errors.map((e) => e.code), ['LABEL_BAD_ALIAS'], alias);
  return false;
}

function tableAccepts(alias: string): boolean {
  const { errors } = buildRouteTable([routeSpec('r', [], { aliases: [alias] })], { matchDomains: [] });
  return errors.length === 0;
}

test('config, labels and the route table accept the same aliases', () => {
  for (const alias of CANDIDATES) {
    const table = tableAccepts(alias);
    assert.equal(configAccepts(alias), table, `config vs table on ${JSON.stringify(alias)}`);
    assert.equal(labelsAccept(alias), table, `labels vs table on ${JSON.stringify(alias)}`);
  }
  assert.equal(CANDIDATES.filter(tableAccepts).length, 6);
});
