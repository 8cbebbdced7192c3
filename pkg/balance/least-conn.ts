// Least connections relative to weight: the member with the lowest inFlight / weight. Ties
// follow the round-robin cycle, so with no overlap (every request released before the next
// pick) least-conn gives exactly the round-robin shares.
import type { MemberEntry, MemberUsability, SelectionState } from './selection-state.ts';

export function pickLeastConn<M>(
  state: SelectionState<M>,
  usability: MemberUsability,
  exclude: ReadonlySet<string> | undefined,
): MemberEntry<M> | undefined {
  const epoch = ++state.epoch;
  let best: MemberEntry<M> | undefined;
  let ties = 0;
  for (const entry of state.entries) {
    if (exclude !== undefined && exclude.has(entry.id)) continue;
    if (!usability.isUsable(entry.id)) continue;
    entry.mark = epoch;
    if (best === undefined) {
      best = entry;
      ties = 1;
      continue;
    }
    // Compare inFlight/weight without division: a/wa < b/wb  ⇔  a·wb < b·wa.
    const lhs = entry.inFlight.count * best.selectionWeight;
    const rhs = best.inFlight.count * entry.selectionWeight;
    if (lhs < rhs) {
      best = entry;
      ties = 1;
    } else if (lhs === rhs) {
      ties++;
    }
  }
  // A clear winner does not move the cycle; ties pick up where the cycle left off.
  if (best === undefined || ties === 1) return best;
  // Several members share the lowest load: the first of them in round-robin order wins.
  const schedule = state.schedule;
  const length = schedule.length;
  const bestLoad = best.inFlight.count;
  const bestWeight = best.selectionWeight;
  let pos = state.cursor;
  for (let step = 0; step < length; step++) {
    const entry = schedule[pos]!;
    pos = pos + 1 === length ? 0 : pos + 1;
    if (entry.mark === epoch && entry.inFlight.count * bestWeight === bestLoad * entry.selectionWeight) {
      state.cursor = pos;
      return entry;
    }
  }
  return best; // unreachable: every entry has a slot in the cycle
}
