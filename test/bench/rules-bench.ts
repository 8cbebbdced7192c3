// The `rules` stage's own CPU per request (docs/rules.md), in ns of CPU time, in a tight loop (no
// sockets): GoDoxy's NetBird rules (three rules, eight glob matchers) plus a LAN-only rule,
// compiled by compileChain and run on a request's facts as the proxy runs it. Compare with
// Bellhop's ~20 µs of CPU per request (README "Performance").
// Run: `npm exec -- node test/bench/rules-bench.ts`; BENCH_ONLY=middleware prints it too. Never part of the gate.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { buildRulesSpec, compileChain, DEFAULT_MIDDLEWARE_DEPS, type RequestFacts } from '../../internal/middleware/index.ts';
import { cpuNsPerCall } from './kit/cpu-per-call.ts';

const RULES = `
path glob(/signalexchange.SignalExchange/*) | path glob(/management.ManagementService/*) | path glob(/management.ProxyService/*) {
  route netbird-grpc
}
header Content-Type glob(application/grpc*) {
  route netbird-grpc
}
path glob(/relay*) | path glob(/ws-proxy/*) | path glob(/api/*) | path glob(/oauth2/*) {
  route netbird-api
}
path glob(/admin/*) & !remote 10.0.0.0/8 {
  error 403 "LAN only"
}
`;
const built = buildRulesSpec(RULES, 'routes.bench.rules');
if (built.kind !== 'spec') throw new Error(JSON.stringify(built));
const compiled = compileChain([built.spec], DEFAULT_MIDDLEWARE_DEPS);
const chain = compiled.chain;
if (chain === undefined) throw new Error(JSON.stringify(compiled.problems));
const req = { method: 'GET', httpVersionMajor: 1, rawHeaders: ['Host', 'netbird'], headers: {} } as unknown as IncomingMessage;
const res = {} as ServerResponse;
const base = ['Host', 'netbird', 'User-Agent', 'wrk', 'Accept', '*/*', 'X-Forwarded-For', '10.0.0.5', 'X-Real-IP', '10.0.0.5', 'X-Forwarded-Proto', 'http', 'X-Forwarded-Host', 'netbird'];
let routed = 0;
function once(path: string): void {
  const facts: RequestFacts = { clientIp: '10.0.0.5', secure: false, host: 'netbird', path, route: 'netbird', upstreamHeaders: [...base], onResponseHead: () => undefined };
  if (chain!.handle(req, res, facts) !== 'continue') throw new Error('answered');
  if (facts.routeTo !== undefined) routed++;
}
const bench = (name: string, fn: () => void, n = 300_000): number => cpuNsPerCall(name, fn, n);
const copyOnly = bench('facts + header copy alone (what the proxy does anyway)', () => {
  const facts = { clientIp: '10.0.0.5', secure: false, host: 'netbird', path: '/peers', upstreamHeaders: [...base], onResponseHead: () => undefined };
  if (facts.upstreamHeaders.length === 0) routed--;
});
const miss = bench('NetBird rules + LAN rule, no rule matches (/peers)', () => once('/peers'));
const grpc = bench('NetBird rules + LAN rule, first rule routes (gRPC path)', () => once('/management.ManagementService/Login'));
const api = bench('NetBird rules + LAN rule, third rule routes (/api/peers)', () => once('/api/peers'));
if (routed === 0) throw new Error('nothing routed: the bench measured the wrong path');
console.log(`rules_ns miss=${(miss - copyOnly).toFixed(0)} grpc=${(grpc - copyOnly).toFixed(0)} api=${(api - copyOnly).toFixed(0)} over the facts alone`);
