import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Metrics } from './metrics.ts';

function metrics(): Metrics {
  return new Metrics({ inFlight: () => 0, memberHealth: () => [], dockerSyncLag: () => [] }, { defaultMetrics: false });
}

test('requestDone counts every request but observes latency only when a member was reached', async () => {
  const m = metrics();
  m.requestDone('web', 'web-1', 200, 0.02);
  m.requestDone('web', '-', 503, undefined);
  m.requestDone('-', '-', 404, undefined);
  const text = await m.text();
  assert.match(text, /bellhop_requests_total\{route="web",status="200",member="web-1"\} 1/);
  assert.match(text, /bellhop_requests_total\{route="web",status="503",member="-"\} 1/);
  assert.match(text, /bellhop_requests_total\{route="-",status="404",member="-"\} 1/);
  assert.match(text, /bellhop_upstream_latency_seconds_count\{route="web"\} 1\n/);
  assert.match(text, /bellhop_upstream_latency_seconds_sum\{route="web"\} 0.02\n/);
  assert.doesNotMatch(text, /bellhop_upstream_latency_seconds_count\{route="-"\}/);
});

test('a sleeping member has no healthy series (no false alert) and shows in bellhop_member_asleep', async () => {
  let members = [
    { route: 'wiki', member: 'wiki-1', healthy: false, asleep: true },
    { route: 'web', member: 'web-1', healthy: false },
  ];
  const m = new Metrics({ inFlight: () => 0, memberHealth: () => members, dockerSyncLag: () => [] }, { defaultMetrics: false });
  let text = await m.text();
  assert.doesNotMatch(text, /bellhop_member_healthy\{route="wiki"/);
  assert.match(text, /bellhop_member_asleep\{route="wiki",member="wiki-1"\} 1/);
  assert.match(text, /bellhop_member_healthy\{route="web",member="web-1"\} 0/);
  assert.match(text, /bellhop_member_asleep\{route="web",member="web-1"\} 0/);
  members = [{ route: 'wiki', member: 'wiki-1', healthy: true, asleep: false }];
  text = await m.text();
  assert.match(text, /bellhop_member_healthy\{route="wiki",member="wiki-1"\} 1/);
  assert.match(text, /bellhop_member_asleep\{route="wiki",member="wiki-1"\} 0/, 'the same scrape, not one behind');
  assert.doesNotMatch(text, /route="web"/);
});

test('stream routes: connections, open and bytes by route and protocol', async () => {
  const m = new Metrics({
    inFlight: () => 0, memberHealth: () => [], dockerSyncLag: () => [],
    streams: () => [{ name: 'ssh', protocol: 'tcp', open: 2, connections_total: 7, bytes_in: 100, bytes_out: 250 }],
  }, { defaultMetrics: false });
  const text = await m.text();
  assert.match(text, /bellhop_stream_connections_total\{route="ssh",protocol="tcp"\} 7/);
  assert.match(text, /bellhop_stream_open\{route="ssh",protocol="tcp"\} 2/);
  assert.match(text, /bellhop_stream_bytes_total\{route="ssh",protocol="tcp",direction="in"\} 100/);
  assert.match(text, /bellhop_stream_bytes_total\{route="ssh",protocol="tcp",direction="out"\} 250/);
});

test('request counts and latency buckets carry over scrapes: counted once, buckets cumulative', async () => {
  const m = metrics();
  m.requestDone('web', 'web-1', 200, 0.0004);
  m.requestDone('web', 'web-1', 200, 0.003);
  let text = await m.text();
  assert.match(text, /bellhop_requests_total\{route="web",status="200",member="web-1"\} 2\n/);
  text = await m.text();
  assert.match(text, /bellhop_requests_total\{route="web",status="200",member="web-1"\} 2\n/, 'a scrape alone adds nothing');
  m.requestDone('web', 'web-1', 200, 45);
  m.requestDone('web', 'web-2', 502, 0.001);
  text = await m.text();
  assert.match(text, /bellhop_requests_total\{route="web",status="200",member="web-1"\} 3\n/);
  assert.match(text, /bellhop_requests_total\{route="web",status="502",member="web-2"\} 1\n/);
  // le is inclusive (0.001 falls in le="0.001"); 45 s is above every bound: only +Inf
  assert.match(text, /bellhop_upstream_latency_seconds_bucket\{le="0.001",route="web"\} 2\n/);
  assert.match(text, /bellhop_upstream_latency_seconds_bucket\{le="0.0025",route="web"\} 2\n/);
  assert.match(text, /bellhop_upstream_latency_seconds_bucket\{le="0.005",route="web"\} 3\n/);
  assert.match(text, /bellhop_upstream_latency_seconds_bucket\{le="30",route="web"\} 3\n/);
  assert.match(text, /bellhop_upstream_latency_seconds_bucket\{le="\+Inf",route="web"\} 4\n/);
  assert.match(text, /bellhop_upstream_latency_seconds_sum\{route="web"\} 45.0044\n/);
  assert.match(text, /bellhop_upstream_latency_seconds_count\{route="web"\} 4\n/);
  const json = await m.registry.getMetricsAsJSON();
  assert.equal(json.find((x) => x.name === 'bellhop_upstream_latency_seconds')?.type, 'histogram');
});
