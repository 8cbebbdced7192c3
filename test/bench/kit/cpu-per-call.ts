// CPU nanoseconds per call of a function in a tight loop, for the in-process benches
// (middleware-chain-bench.ts, rules-bench.ts): warm up, then the best of 5 rounds, printed as one
// aligned line. CPU time, not wall time: on a loaded machine the loop is preempted, and waiting
// is not cost.

/** Runs `fn` n times per round and prints and returns the best round's ns per call. */
export function cpuNsPerCall(name: string, fn: () => void, n: number): number {
  for (let i = 0; i < 20_000; i++) fn();
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const t0 = process.cpuUsage();
    for (let i = 0; i < n; i++) fn();
    const used = process.cpuUsage(t0);
    best = Math.min(best, ((used.user + used.system) * 1000) / n);
  }
  console.log(`${name.padEnd(64)} ${best.toFixed(0).padStart(6)} ns/request`);
  return best;
}
