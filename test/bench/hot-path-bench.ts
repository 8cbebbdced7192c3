// Per-request costs of the pieces the real app puts on the proxy's hot path, in ns per call,
// measured in a tight loop (no sockets): the metrics hook, the live pool's
// pick/begin/release with the real health monitor, the access log line, and the shared
// request checks and header building. Run: `npx node test/bench/hot-path-bench.ts`.
// Never part of the gate; the figures guide where the proxy's CPU per request goes.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Metrics } from '../../internal/api/index.ts';
import { HealthMonitor } from '../../internal/health/index.ts';
import { LiveRoutes } from '../../internal/pools/index.ts';
import { buildRouteTable, type MemberSpec, type RouteSpec } from '../../internal/routes/index.ts';
import { buildUpstreamHeaders, checkRequest, stripHopByHop } from '../../pkg/http/index.ts';
import { parseTrustedProxies, resolveClient } from '../../pkg/realip/index.ts';

function bench(name: string, fn: () => void, n = 400_000): number {
  for (let i = 0; i < 20_000; i++) fn();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  const ns = Number(process.hrtime.bigint() - t0) / n;
  console.log(`${name.padEnd(58)} ${ns.toFixed(0).padStart(6)} ns/call`);
  return ns;
}

// ---- metrics hook (as cmd/bellhop/app.ts wires it) ----
const sources = { inFlight: () => 0, memberHealth: () => [], dockerSyncLag: () => [] };
const metrics = new Metrics(sources, { defaultMetrics: false });
const statuses = [200, 200, 200, 404];
let k = 0;
bench('Metrics.requestDone (plain counters, prom-client at scrape)', () => {
  metrics.requestDone('bench', k & 1 ? 'b1' : 'b2', statuses[k++ & 3]!, 0.0012);
});

// ---- live pool pick + begin + release (real HealthMonitor) ----
function member(id: string, url: string): MemberSpec {
  return {
    id, identity: id, name: id, url, noTlsVerify: false,
    healthcheck: { useGet: false, intervalMs: 5000, timeoutMs: 5000, rise: 2, fall: 3, disable: true },
  };
}
const spec: RouteSpec = {
  name: 'bench', aliases: ['127.0.0.1'], source: 'file',
  loadBalance: { mode: 'roundrobin', sticky: false, stickyMaxAgeMs: 0 },
  members: [member('b1', 'http://127.0.0.1:19001'), member('b2', 'http://127.0.0.1:19002')],
};
const health = new HealthMonitor({});
health.sync([{ name: 'bench', members: spec.members }]);
for (const m of spec.members) health.markReady(m.id);
const live = new LiveRoutes({ health, stickySecret: new Uint8Array(32) });
live.update(buildRouteTable([spec], { matchDomains: [] }).table);
const resolver = live.resolver;
const ctx = { clientIp: '127.0.0.1', cookieHeader: undefined, secure: false };
const tried: ReadonlySet<string> = new Set();
bench('resolve + pick + begin + release (LiveRoute, HealthMonitor)', () => {
  const r = resolver.resolve('127.0.0.1')!;
  const p = r.pick(ctx, tried)!;
  r.begin(p.member.id)({ ok: true, status: 200 });
});
health.sync([]);

// ---- access log line ----
const sink = new Writable({ write(_c, _e, cb) { cb(); } });
for (const level of ['warn', 'info'] as const) {
  const access = pino({ level }, sink).child({ module: 'access' });
  bench(`access log line, logger level ${level}`, () => {
    access.info({ route: 'bench', member: 'b1', method: 'GET', path: '/', status: 200, duration_ms: 1.234, bytes: 2, client: '127.0.0.1', err: undefined }, 'request');
  }, level === 'info' ? 100_000 : 400_000);
}

// ---- shared request rules (pkg/http, pkg/realip) ----
const head = { method: 'GET', url: '/', httpVersion: '1.1', rawHeaders: ['Host', '127.0.0.1:19090'] };
bench('checkRequest (wrk request: Host only)', () => { checkRequest(head); });
const trusted = parseTrustedProxies([]);
const fctx = { peerIp: '127.0.0.1', peerTrusted: false, clientIp: '127.0.0.1', tls: false };
bench('buildUpstreamHeaders (Host only)', () => { buildUpstreamHeaders(head.rawHeaders, fctx); });
bench('resolveClient (untrusted peer; cached per connection in the proxy)', () => { resolveClient('127.0.0.1', undefined, trusted); });
const resp = [Buffer.from('Server'), Buffer.from('nginx'), Buffer.from('Date'), Buffer.from('Sun, 22 Nov 2026 03:20:24 GMT'),
  Buffer.from('Content-Type'), Buffer.from('text/plain'), Buffer.from('Content-Length'), Buffer.from('2'), Buffer.from('Connection'), Buffer.from('keep-alive')];
bench('response headers: latin1 strings + stripHopByHop (nginx answer)', () => {
  const s: string[] = [];
  for (const b of resp) s.push(b.toString('latin1'));
  stripHopByHop(s);
});
