/** Formats a duration the way users write it in labels: 5s, 1500ms → 1.5s, 2m, 50ms. */
export function formatDuration(ms: number): string {
  const r = Math.max(0, Math.round(ms));
  if (r >= 60_000 && r % 60_000 === 0) return `${r / 60_000}m`;
  if (r >= 1000 && r % 1000 === 0) return `${r / 1000}s`;
  if (r >= 1000) return `${(r / 1000).toFixed(1)}s`;
  return `${r}ms`;
}
