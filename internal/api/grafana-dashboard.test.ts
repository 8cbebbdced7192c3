// deploy/grafana/bellhop.json and /metrics never drift: every bellhop_* series a panel queries
// is one Metrics registers (histograms through their _bucket series).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Metrics } from './metrics.ts';

test('every metric the Grafana dashboard queries exists', async () => {
  const dash = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../deploy/grafana/bellhop.json'), 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
  const metrics = new Metrics({ inFlight: () => 0, memberHealth: () => [], dockerSyncLag: () => [] }, { defaultMetrics: false });
  const known = new Set((await metrics.registry.getMetricsAsJSON()).map((m) => m.name));
  const used = new Set<string>();
  for (const p of dash.panels) {
    assert.ok(p.targets.length > 0, `${p.title} has no query`);
    for (const t of p.targets) for (const m of t.expr.matchAll(/\bbellhop_[a-z_]+/g)) used.add(m[0].replace(/_(bucket|sum|count)$/, ''));
  }
  for (const name of used) assert.ok(known.has(name), `${name} is not a Bellhop metric`);
  for (const name of ['bellhop_requests_total', 'bellhop_upstream_latency_seconds', 'bellhop_member_healthy', 'bellhop_member_asleep', 'bellhop_wakes_total', 'bellhop_docker_sync_lag_seconds', 'bellhop_certificate_expiry_seconds']) {
    assert.ok(used.has(name), `the dashboard does not show ${name}`);
  }
});
