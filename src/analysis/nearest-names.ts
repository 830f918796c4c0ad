/** The valid names closest to what was asked, for "did you mean" answers. */
export function nearestNames(wanted: string, candidates: readonly string[], max = 5): string[] {
  const w = wanted.toLowerCase();
  return candidates
    .map((name) => ({ name, score: name.toLowerCase().includes(w) ? -1 : editDistance(w, name.toLowerCase()) }))
    .sort((a, b) => a.score - b.score || a.name.localeCompare(b.name))
    .slice(0, max)
    .map((c) => c.name);
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + cost);
    }
    previous = current;
  }
  return previous[b.length] as number;
}
