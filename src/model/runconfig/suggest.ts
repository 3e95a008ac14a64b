/** "did you mean" for misspelt keys. */

/** A key the user might have meant, with the mapping it belongs under ('' for the top level). */
export interface KnownKey {
  name: string;
  parent: string;
}

/**
 * The reason for refusing an unknown key under `parent` ('' for the top level), also catching a key put at the
 * wrong level (`memory:` at the top instead of under `resources:`), the most likely mistake in a two-level file.
 */
export function unknownKeyReason(key: string, parent: string, known: readonly KnownKey[]): string {
  const here = known.filter((k) => k.parent === parent).map((k) => k.name);
  const elsewhere = known.filter((k) => k.parent !== parent);
  const near = closest(key, here);
  if (near) return `unknown key; did you mean "${near}"?`;
  const there = closest(key, elsewhere.map((k) => k.name));
  if (there) {
    const under = elsewhere.find((k) => k.name === there)!.parent;
    if (under) return `unknown key; "${there}" goes under "${under}:"`;
    return `unknown key; "${there}" is a top-level key, not under "${parent}:"`;
  }
  return `unknown key; known keys are ${here.join(', ')}`;
}

function closest(key: string, candidates: string[]): string | undefined {
  const k = key.toLowerCase();
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    // Prefixes catch abbreviations and longer spellings (mem, environment, timeout_seconds) edit distance misses.
    const prefix = Math.min(k.length, candidate.length) >= 3 && (k.startsWith(candidate) || candidate.startsWith(k));
    const distance = prefix ? 0 : editDistance(k, candidate);
    if (distance <= Math.max(1, Math.floor(candidate.length / 3)) && (!best || distance < best.distance)) {
      best = { candidate, distance };
    }
  }
  return best?.candidate;
}

/** Levenshtein distance, counting a transposition of neighbours as one edit. */
function editDistance(a: string, b: string): number {
  let beforePrevious: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      // A swapped pair of letters (imgae) is one typo, not two.
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) current[j] = Math.min(current[j], beforePrevious[j - 2] + 1);
    }
    beforePrevious = previous;
    previous = current;
  }
  return previous[b.length];
}
