// Per-request cost of pkg/realip in ns per call (tight loop, no sockets): the socket peer's
// normalisation and trust check, and the X-Forwarded-For walk for a trusted peer.
// IPv6 answers are cached by text inside pkg/realip, so the IPv6 cases run twice: the same
// addresses every call (cache hits, the usual case behind one proxy) and 4096 distinct ones in
// turn (every call a miss: the cost of a new client).
// Run: `npx node test/bench/realip-bench.ts`. Never part of the gate.
import { clientIp, compileRealIpOptions, normaliseIp, parseTrustedProxies, realIpFromOptions, resolveClient } from '../../pkg/realip/index.ts';

let sink = 0;
function bench(name: string, fn: () => string | undefined, n = 1_000_000): number {
  for (let i = 0; i < 50_000; i++) sink += fn()?.length ?? 0;
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) sink += fn()?.length ?? 0;
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / n);
  }
  console.log(`${name.padEnd(64)} ${best.toFixed(0).padStart(6)} ns/call`);
  return best;
}

const trusted = parseTrustedProxies(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fd00::/8']);
const none = parseTrustedProxies([]);
const opts = compileRealIpOptions({ header: 'X-Forwarded-For', from: ['172.16.0.0/12'], recursive: true });
const raw = ['Host', 'app.example.com', 'X-Forwarded-For', '6.6.6.6, 9.9.9.9, 172.18.0.5', 'Accept', '*/*'];

bench('untrusted IPv4 peer, no trusted proxies', () => clientIp('203.0.113.7', undefined, none));
bench('untrusted IPv4 peer (header ignored)', () => resolveClient('203.0.113.7', '6.6.6.6', trusted)?.clientIp);
bench('untrusted mapped peer ::ffff:203.0.113.7', () => resolveClient('::ffff:203.0.113.7', '6.6.6.6', trusted)?.clientIp);
bench('trusted IPv4 peer, XFF 1 entry', () => resolveClient('10.0.0.1', '9.9.9.9', trusted)?.clientIp);
bench('trusted IPv4 peer, XFF 2 entries', () => resolveClient('10.0.0.1', '9.9.9.9, 10.0.0.5', trusted)?.clientIp);
bench('trusted IPv4 peer, XFF 3 entries', () => resolveClient('10.0.0.1', '6.6.6.6, 9.9.9.9, 10.0.0.5', trusted)?.clientIp);
bench('trusted mapped peer, XFF 3 entries', () => resolveClient('::ffff:10.0.0.1', '6.6.6.6, 9.9.9.9, 10.0.0.5', trusted)?.clientIp);
bench('trusted IPv6 peer, XFF 2 IPv6 entries', () => resolveClient('fd00::2', '2001:db8::1, fd00::9', trusted)?.clientIp);
const fresh = Array.from({ length: 4096 }, (_, i) => `2001:db8:${((i * 7919) & 0xffff).toString(16)}::${(i + 1).toString(16)}`);
const freshPeers = Array.from({ length: 4096 }, (_, i) => `fd00::${((i * 31 + 2) & 0xffff).toString(16)}:1`);
// Check the inputs: an invalid address would measure the garbage path instead.
for (const a of [...fresh, ...freshPeers]) if (normaliseIp(a) === undefined) throw new Error(`bench input ${a} is not an address`);
let f = 0;
bench('trusted IPv6 peer, XFF 2 IPv6 entries, all new addresses', () => {
  const i = f++ & 4095;
  return resolveClient(freshPeers[i], `${fresh[i]!}, ${freshPeers[(i + 1) & 4095]!}`, trusted)?.clientIp;
});
bench('untrusted IPv6 peer, new address', () => resolveClient(fresh[f++ & 4095], undefined, trusted)?.clientIp);
bench('realIpFromOptions recursive, XFF 3 entries', () => realIpFromOptions('172.17.0.1', raw, opts));
bench('normaliseIp IPv4', () => normaliseIp('192.168.1.20'));
bench('normaliseIp IPv6', () => normaliseIp('2001:DB8:0:0:0:0:0:1'));
bench('normaliseIp IPv6, new address', () => normaliseIp(fresh[f++ & 4095]));
if (sink === 0) console.log('');
