// docs/balancing.md: weights are shares of 100. Normalisation always starts from the configured weights,
// never from the previous normalised result, so repeated add/remove cannot drift (GoDoxy
// rescaled on every add until 10/20/30/20/10 became 51/9/17/14/9).

/** What normalisation needs to know about a member. */
export interface WeightedMember {
  readonly name: string;
  /** Configured weight; absent, non-finite, zero or negative counts as "not set". */
  readonly weight?: number | undefined;
}

/** True when `weight` counts as a configured weight (a finite number above 0). */
export function isConfiguredWeight(weight: number | undefined): weight is number {
  return typeof weight === 'number' && Number.isFinite(weight) && weight > 0;
}

// Above this, or for fractional weights, the integer-exact path could lose precision; such
// weights are rescaled into (0, EXACT_LIMIT] first (proportions kept, exactness not needed).
const EXACT_LIMIT = 1_000_000;

/**
 * Normalises weights to integers summing to exactly 100, in input order.
 *
 * - Members with a configured weight keep it; the others share what is left of 100 equally.
 * - If the configured weights leave nothing (sum >= 100), unset members count as the mean of
 *   the configured weights.
 * - The resulting proportions are rounded by largest remainder; on a tie the name that sorts
 *   first wins. 30 + unset → 30/70; 10/20 → 33/67; a=50, b=50, c unset → 34/33/33.
 * - With at most 100 members, nobody rounds to 0: a member that would is raised to 1, taken
 *   from the member whose share most exceeds its exact quota. With more than 100 members some
 *   must be 0 to sum to 100; the pool still gives those a selection weight of 1.
 *
 * Pure, order-independent (the same name/weight pairs give the same result whatever the input
 * order) and never throws. An empty input gives an empty array.
 */
export function normaliseWeights(members: readonly WeightedMember[]): number[] {
  return weightShares(members).normalised;
}

/** Exact (unrounded) shares of 100 and the normalised integers, both in input order. */
export interface WeightShares {
  readonly exact: number[];
  readonly normalised: number[];
}

/**
 * Both the exact shares and the normalised integers. Rendezvous hashing uses the exact ones:
 * rounding 25/25/25/25 → 34/33/33 after a removal would otherwise move clients between
 * members that stayed.
 */
export function weightShares(members: readonly WeightedMember[]): WeightShares {
  const n = members.length;
  if (n === 0) return { exact: [], normalised: [] };

  // Work in a canonical order so the result does not depend on input order.
  const order = members.map((_, i) => i);
  order.sort((a, b) => compareMembers(members[a]!, members[b]!) || a - b);

  let setCount = 0;
  let allExact = true;
  let maxSet = 0;
  for (const i of order) {
    const w = members[i]!.weight;
    if (!isConfiguredWeight(w)) continue;
    setCount++;
    if (w > maxSet) maxSet = w;
    if (!Number.isInteger(w) || w > EXACT_LIMIT) allExact = false;
  }
  const configured = (i: number): number => {
    const w = members[i]!.weight;
    if (!isConfiguredWeight(w)) return 0;
    return allExact ? w : Math.max((w / maxSet) * EXACT_LIMIT, Number.MIN_VALUE);
  };
  let setSum = 0;
  for (const i of order) setSum += configured(i);
  const unsetCount = n - setCount;

  // Effective weights, scaled by a common factor so they stay integers whenever the configured
  // ones are: unset = (100 - setSum) / unsetCount, or setSum / setCount when nothing is left.
  const eff = new Array<number>(n).fill(0);
  for (const i of order) {
    const isSet = isConfiguredWeight(members[i]!.weight);
    if (setCount === 0) eff[i] = 1;
    else if (unsetCount === 0) eff[i] = configured(i);
    else if (setSum < 100) eff[i] = isSet ? configured(i) * unsetCount : 100 - setSum;
    else eff[i] = isSet ? configured(i) * setCount : setSum;
  }
  let total = 0;
  for (const i of order) total += eff[i]!;

  const quota = new Array<number>(n).fill(0);
  const result = new Array<number>(n).fill(0);
  const remainder = new Array<number>(n).fill(0);
  let assigned = 0;
  for (const i of order) {
    const scaled = 100 * eff[i]!;
    quota[i] = scaled / total;
    const base = Math.floor(quota[i]);
    result[i] = base;
    // Exact integer remainder numerators when possible; otherwise the fractional part.
    remainder[i] = allExact && Number.isSafeInteger(scaled) && Number.isSafeInteger(total) ? scaled % total : (quota[i] - base) * total;
    assigned += base;
  }

  // Largest remainder; ties go to the name that sorts first (order is already by name).
  const rank = new Array<number>(n).fill(0);
  order.forEach((i, r) => (rank[i] = r));
  const byRemainder = order.slice().sort((a, b) => remainder[b]! - remainder[a]! || rank[a]! - rank[b]!);
  let left = 100 - assigned;
  for (let k = 0; left > 0; k = (k + 1) % n, left--) result[byRemainder[k]!]!++;
  // Floating point could, in theory, overshoot by one; take it back from the largest share.
  while (left < 0) {
    let largest = order[0]!;
    for (const i of order) if (result[i]! > result[largest]!) largest = i;
    result[largest]!--;
    left++;
  }

  if (n <= 100) raiseZeroShares(order, quota, result);
  return { exact: quota, normalised: result };
}

function raiseZeroShares(order: number[], quota: number[], result: number[]): void {
  for (const i of order) {
    if (result[i]! > 0) continue;
    // Donor: the member whose share most exceeds its exact quota; tie → name that sorts last.
    let donor = -1;
    for (let k = order.length - 1; k >= 0; k--) {
      const j = order[k]!;
      if (result[j]! < 2) continue;
      if (donor === -1 || result[j]! - quota[j]! > result[donor]! - quota[donor]!) donor = j;
    }
    if (donor === -1) return; // cannot happen with n <= 100, kept for safety
    result[donor]!--;
    result[i] = 1;
  }
}

function compareMembers(a: WeightedMember, b: WeightedMember): number {
  if (a.name < b.name) return -1;
  if (a.name > b.name) return 1;
  const wa = isConfiguredWeight(a.weight) ? a.weight : 0;
  const wb = isConfiguredWeight(b.weight) ? b.weight : 0;
  return wa - wb;
}
