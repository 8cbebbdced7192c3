// Weighted rendezvous (highest random weight) hashing: every member scores each key with
// -weight / ln(u), u uniform in (0,1) from hash(key, identity); the highest score wins. This
// is the weighted HRW of Schindelhauer & Schomaker: member i wins with probability weight_i /
// Σweight, a member leaving moves only the keys it held, and skipping an unusable member
// sends its keys to their second choice until it is back. Fast non-cryptographic hashing is
// enough: the key is a client IP, and the outcome is not a secret.
import type { MemberEntry, MemberUsability, SelectionState } from './selection-state.ts';

const TWO_POW_32 = 4294967296;

/** 32-bit FNV-1a of a string's UTF-16 code units, finished with murmur3's fmix32. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

function fmix32(input: number): number {
  let h = input;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

// murmur3_32 of one 4-byte block `key`, seeded with `seed`: a cheap keyed 2-input mix.
function mix(key: number, seed: number): number {
  let k = Math.imul(key, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  let h = seed ^ k;
  h = (h << 13) | (h >>> 19);
  h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  return fmix32(h ^ 4);
}

/** The plain weighted score of one member for one key (reference for tests). */
export function rendezvousScore(keyHash: number, identityHash: number, weight: number): number {
  return -weight / Math.log((mix(keyHash, identityHash) + 0.5) / TWO_POW_32);
}

/** The usable, not excluded member with the highest weighted score for `keyHash`. */
export function pickRendezvous<M>(
  state: SelectionState<M>,
  keyHash: number,
  usability: MemberUsability,
  exclude: ReadonlySet<string> | undefined,
): MemberEntry<M> | undefined {
  let best: MemberEntry<M> | undefined;
  let bestScore = -1;
  // -w/ln(u) grows with u, so with equal weights the largest hash wins: no log needed.
  const equal = state.equalWeights;
  for (const entry of state.entries) {
    const h = mix(keyHash, entry.identityHash);
    let score: number;
    if (equal) {
      score = h;
    } else {
      // u in (0,1): never 0 (log → -Infinity) nor 1 (log → 0).
      const u = (h + 0.5) / TWO_POW_32;
      // -ln(u) > 1 - u, so w / (1 - u) bounds the score from above: most members are ruled
      // out without the (comparatively slow) log. The gap is far above float rounding.
      if (entry.exactWeight <= bestScore * (1 - u)) continue;
      score = -entry.exactWeight / Math.log(u);
    }
    // Usability is asked only of members that would win so far: a handful per pick (the
    // running maximum changes ~ln(n) times), not one call per member.
    if (score <= bestScore) continue;
    if (exclude !== undefined && exclude.has(entry.id)) continue;
    if (!usability.isUsable(entry.id)) continue;
    best = entry;
    bestScore = score;
  }
  return best;
}
