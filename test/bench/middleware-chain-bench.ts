// The chain's own CPU per request, in ns of CPU time, in a tight loop (no sockets): the route of
// middleware-bench.ts (cidr_whitelist + request header edits + rate_limit) compiled by
// compileChain and run on a request's facts, as the proxy runs it. On a loaded machine this
// says more than requests per second: compare it with Bellhop's ~20 µs of CPU per request
// (README "Performance"). Run: `npx node test/bench/middleware-chain-bench.ts`; middleware-bench.ts
// prints it first. Never part of the gate.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { buildMiddlewareSpec, compileChain, DEFAULT_MIDDLEWARE_DEPS, type MiddlewareSpec, type RequestFacts } from '../../internal/middleware/index.ts';
import { cpuNsPerCall } from './kit/cpu-per-call.ts';

function spec(name: string, options: Record<string, unknown>): MiddlewareSpec {
  const r = buildMiddlewareSpec(name, options, `routes.bench.middlewares.${name}`);
  if (r.kind !== 'spec') throw new Error(JSON.stringify(r));
  return r.spec;
}

const compiled = compileChain([
  spec('cidr_whitelist', { allow: ['127.0.0.0/8', '10.0.0.0/8'] }),
  spec('request', { set_headers: { 'X-Bench': '1' }, hide_headers: ['X-Secret'] }),
  spec('rate_limit', { average: 1_000_000, burst: 1_000_000 }),
], DEFAULT_MIDDLEWARE_DEPS);
const chain = compiled.chain;
if (chain === undefined) throw new Error(JSON.stringify(compiled.problems));
const req = {} as IncomingMessage;
const res = {} as ServerResponse;
// The upstream header block of a small GET as forwarding.ts builds it.
const base = ['Host', '127.0.0.1:19090', 'User-Agent', 'wrk', 'Accept', '*/*', 'X-Forwarded-For', '127.0.0.1', 'X-Real-IP', '127.0.0.1', 'X-Forwarded-Proto', 'http', 'X-Forwarded-Host', '127.0.0.1:19090'];
let refused = 0;
function once(ip: string): void {
  const facts: RequestFacts = { clientIp: ip, secure: false, host: '127.0.0.1', path: '/', upstreamHeaders: [...base], onResponseHead: () => undefined };
  if (chain!.handle(req, res, facts) !== 'continue') refused++;
}
const bench = (name: string, fn: () => void, n = 400_000): number => cpuNsPerCall(name, fn, n);
const copyOnly = bench('facts + header copy alone (what the proxy does anyway)', () => {
  const facts = { clientIp: '127.0.0.1', secure: false, host: '127.0.0.1', path: '/', upstreamHeaders: [...base], onResponseHead: () => undefined };
  if (facts.upstreamHeaders.length === 0) refused++;
});
const one = bench('cidr_whitelist + request + rate_limit, one client', () => once('127.0.0.1'));
const ips = Array.from({ length: 1000 }, (_, i) => `10.0.${String(i >> 8)}.${String(i & 255)}`);
let k = 0;
const many = bench('cidr_whitelist + request + rate_limit, 1,000 clients in turn', () => once(ips[k++ % 1000]!));
if (refused > 0) throw new Error(`${String(refused)} requests refused: the bench measured the wrong path`);
console.log(`middleware_chain_ns=${(one - copyOnly).toFixed(0)} (1,000 clients: ${(many - copyOnly).toFixed(0)}) over the facts alone`);
