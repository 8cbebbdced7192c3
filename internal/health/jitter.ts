// Deterministic schedule offset per member. A hash of the member id, not Math.random, so a
// member keeps its slot across restarts and tests can reason about the spread; container IDs
// are random hex, so the slots of many members fall evenly across the interval.

/** FNV-1a of `id`, scaled to [0, 1). */
export function jitterFraction(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // A final avalanche so ids differing only in the last character spread over the whole range.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 0x1_0000_0000;
}
