// Pool settings from defaults.load_balance versus members' labels: a default applies to every
// pool no member sets the value for; any explicit label (also `false`) wins over it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LoadBalanceSpec } from '../routes/index.ts';
import { container, options, replica } from '../../test/fixtures/labels/containers.ts';
import { parseContainers, type LabelledContainer, type ParseResult } from './index.ts';
import type { PoolDefaults } from './pool-assembly.ts';

function parse(list: LabelledContainer[], loadBalance: PoolDefaults): ParseResult {
  const base = options();
  return parseContainers(list, options({ defaults: { healthcheck: base.defaults.healthcheck, loadBalance } }));
}

function lb(r: ParseResult, name: string): LoadBalanceSpec {
  const route = r.routes.find((x) => x.name === name);
  assert.ok(route, `route ${name} missing; errors ${JSON.stringify(r.errors)}`);
  return route.loadBalance;
}

const STICKY: PoolDefaults = { mode: 'leastconn', sticky: true, stickyMaxAgeMs: 7_200_000 };

describe('pool settings: defaults.load_balance and labels', () => {
  test('defaults.load_balance.sticky: true makes a label route sticky, with the default max age and mode', () => {
    const r = parse([container({ name: 'app', labels: { 'proxy.aliases': 'app' } })], STICKY);
    assert.deepEqual(lb(r, 'app'), { mode: 'leastconn', sticky: true, stickyMaxAgeMs: 7_200_000 });
    assert.deepEqual(r.errors, []);
  });

  test('an explicit sticky "false" label beats the default, dotted or inside a YAML value', () => {
    const r = parse([
      container({ name: 'dotted', labels: { 'proxy.aliases': 'dotted', 'proxy.dotted.load_balance.sticky': 'false' } }),
      container({ name: 'yaml', labels: { 'proxy.aliases': 'yaml', 'proxy.yaml.load_balance': 'sticky: false\n' } }),
      container({ name: 'star', labels: { 'proxy.aliases': 'star', 'proxy.*.load_balance.sticky': 'false' } }),
    ], STICKY);
    assert.equal(lb(r, 'dotted').sticky, false);
    assert.equal(lb(r, 'yaml').sticky, false);
    assert.equal(lb(r, 'star').sticky, false);
    assert.deepEqual(r.errors, []);
  });

  test('in a pool, one member saying sticky "false" beats the default for the pool, without a conflict', () => {
    const r = parse([
      replica('p', 'api', 1, { createdAt: 10, labels: { 'proxy.aliases': 'api' } }),
      replica('p', 'api', 2, { createdAt: 20, labels: { 'proxy.aliases': 'api', 'proxy.api.load_balance.sticky': 'false' } }),
    ], STICKY);
    assert.equal(lb(r, 'api').sticky, false);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.conflicts, []);
  });

  test('without a sticky default, pools are not sticky unless a label says so', () => {
    const r = parse([
      container({ name: 'plain', labels: { 'proxy.aliases': 'plain' } }),
      container({ name: 'sticky', labels: { 'proxy.aliases': 'sticky', 'proxy.sticky.load_balance.sticky': 'true' } }),
    ], { mode: 'roundrobin', stickyMaxAgeMs: 3_600_000 });
    assert.equal(lb(r, 'plain').sticky, false);
    assert.equal(lb(r, 'sticky').sticky, true);
    const off = parse([container({ name: 'plain', labels: { 'proxy.aliases': 'plain' } })], { mode: 'roundrobin', sticky: false, stickyMaxAgeMs: 3_600_000 });
    assert.equal(lb(off, 'plain').sticky, false);
  });
});
