// nginx-style smooth weighted round robin. With fixed weights the sequence is periodic with
// period = sum of weights (every `current` is back to 0 after a full cycle), so it is computed
// once per membership change and a pick is a cursor step: O(1), no allocation.
import type { MemberEntry, MemberUsability, SelectionState } from './selection-state.ts';

/** The SWRR cycle for `entries` (length = sum of selection weights). */
export function buildSchedule<M>(entries: readonly MemberEntry<M>[]): MemberEntry<M>[] {
  const n = entries.length;
  let total = 0;
  for (const e of entries) total += e.selectionWeight;
  const current = new Array<number>(n).fill(0);
  const schedule: MemberEntry<M>[] = [];
  for (let slot = 0; slot < total; slot++) {
    let best = 0;
    for (let i = 0; i < n; i++) {
      current[i]! += entries[i]!.selectionWeight;
      if (current[i]! > current[best]!) best = i;
    }
    current[best]! -= total;
    schedule.push(entries[best]!);
  }
  return schedule;
}

/**
 * Next usable, not excluded member in the cycle. Unusable members' slots are skipped, so the
 * others keep their proportions to each other.
 */
export function pickRoundRobin<M>(
  state: SelectionState<M>,
  usability: MemberUsability,
  exclude: ReadonlySet<string> | undefined,
): MemberEntry<M> | undefined {
  const schedule = state.schedule;
  const length = schedule.length;
  let pos = state.cursor;
  for (let step = 0; step < length; step++) {
    const entry = schedule[pos]!;
    pos = pos + 1 === length ? 0 : pos + 1;
    if (exclude !== undefined && exclude.has(entry.id)) continue;
    if (!usability.isUsable(entry.id)) continue;
    state.cursor = pos;
    return entry;
  }
  return undefined;
}
