// "did you mean" suggestions for unknown label fields and container-level labels.

function distance(a: string, b: string): number {
  // Levenshtein with one rolling row; label names are short.
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/** The closest candidate within a small edit distance, or undefined. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const w = word.toLowerCase();
  const limit = Math.max(2, Math.floor(w.length / 3));
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(w, c.toLowerCase());
    if (d < bestD || (d === bestD && best !== undefined && c < best)) {
      best = c;
      bestD = d;
    }
  }
  return bestD <= limit ? best : undefined;
}

/** ` (did you mean "x"?)` or ''. */
export function suggestion(word: string, candidates: Iterable<string>, prefix = ''): string {
  const s = didYouMean(word, candidates);
  return s === undefined ? '' : `; did you mean "${prefix}${s}"?`;
}
