// Picks per second of each balancing mode for 2, 10 and 100 members. Not a test: it prints
// figures and never fails on a number. Run: npx node test/bench/balance-bench.ts [ms per case]
import { Pool } from '../../pkg/balance/index.ts';
import type { BalanceMember, BalanceMode, MemberUsability, StickyPickContext } from '../../pkg/balance/index.ts';

const CASE_MS = Number(process.argv[2] ?? 400);
const SIZES = [2, 10, 100];
const NOW = Date.UTC(2026, 0, 1);

// Shaped like the health module's view: a set of ids that are not usable (empty here).
const down = new Set<string>();
const usability: MemberUsability = { isUsable: (id) => !down.has(id) };

// Every third member sets weight 20, so weights are unequal (the slower iphash path).
function members(n: number, weighted = true): BalanceMember[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `c0ffee${i.toString(16).padStart(58, '0')}`,
    identity: `shop/web/${i + 1}`,
    name: `shop-web-${i + 1}`,
    ...(weighted && i % 3 === 0 ? { weight: 20 } : {}),
  }));
}

const ips = Array.from({ length: 4096 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.${(i * 7) & 255}`);
let sink = 0;

function measure(label: string, n: number, run: (iterations: number) => void): void {
  run(20_000); // warm up and let the JIT settle
  let iterations = 0;
  let batch = 10_000;
  const start = process.hrtime.bigint();
  let elapsedNs = 0n;
  while (elapsedNs < BigInt(CASE_MS) * 1_000_000n) {
    run(batch);
    iterations += batch;
    elapsedNs = process.hrtime.bigint() - start;
    if (batch < 1_000_000) batch *= 2;
  }
  const perSecond = (iterations / Number(elapsedNs)) * 1e9;
  console.log(`${label.padEnd(30)} ${String(n).padStart(4)} members  ${(perSecond / 1e6).toFixed(2).padStart(7)} M picks/s`);
}

function pool(mode: BalanceMode, n: number, sticky: boolean, weighted = true): Pool {
  return new Pool({
    name: 'shop',
    mode,
    usability,
    members: members(n, weighted),
    ...(sticky ? { sticky: { secret: Buffer.alloc(32, 7), maxAgeMs: 3_600_000 } } : {}),
  });
}

console.log(`node ${process.version}, ${CASE_MS} ms per case`);
for (const n of SIZES) {
  const rr = pool('roundrobin', n, false);
  const ctx = {};
  measure('roundrobin pick', n, (k) => {
    for (let i = 0; i < k; i++) sink += rr.pick(ctx)!.name.length;
  });

  const lc = pool('leastconn', n, false);
  const open: (() => void)[] = [];
  measure('leastconn pick+acquire (8 open)', n, (k) => {
    for (let i = 0; i < k; i++) {
      const m = lc.pick(ctx)!;
      open.push(lc.acquire(m.id));
      if (open.length > 8) open.shift()!();
    }
  });

  const ih = pool('iphash', n, false);
  const ipContexts = ips.map((clientIp) => ({ clientIp }));
  measure('iphash pick', n, (k) => {
    for (let i = 0; i < k; i++) sink += ih.pick(ipContexts[i & 4095])!.name.length;
  });
  const ihEqual = pool('iphash', n, false, false);
  measure('iphash pick (equal weights)', n, (k) => {
    for (let i = 0; i < k; i++) sink += ihEqual.pick(ipContexts[i & 4095])!.name.length;
  });

  // Returning visitors: each carries a valid cookie among others, as browsers send them.
  const st = pool('roundrobin', n, true);
  const returning: StickyPickContext[] = ips.slice(0, 1024).map((clientIp) => {
    const first = st.pickSticky({ clientIp, secure: true, now: NOW });
    const pair = first.setCookie!.split(';')[0]!;
    return { clientIp, secure: true, now: NOW + 1000, cookieHeader: `session=3f9a0c; ${pair}; theme=dark` };
  });
  measure('sticky pick (returning)', n, (k) => {
    for (let i = 0; i < k; i++) sink += st.pickSticky(returning[i & 1023]!).member!.name.length;
  });
  // Every new visitor a new second: the worst case, one HMAC signature per pick.
  measure('sticky pick (new visitor, signs)', n, (k) => {
    for (let i = 0; i < k; i++) sink += st.pickSticky({ secure: true, now: NOW + i * 1000, cookieHeader: 'session=3f9a0c; theme=dark' }).setCookie!.length;
  });
  // 1,000 new visitors per second: the member's cookie of this second is reused.
  measure('sticky pick (new visitor, 1k/s)', n, (k) => {
    for (let i = 0; i < k; i++) sink += st.pickSticky({ secure: true, now: NOW + i, cookieHeader: 'session=3f9a0c; theme=dark' }).setCookie!.length;
  });
}
if (sink === 42) console.log('');
