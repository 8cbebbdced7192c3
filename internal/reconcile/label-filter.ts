// docker.label_filter (docs/configuration.md): only containers carrying every filter label are
// seen at all, for routes, health, sleep and wake, so several Bellhops can share one engine
// without managing each other's containers. An entry is `key` (the label is present, any value)
// or `key=value` (exactly that value; the value may itself contain `=`).

/** True when `labels` satisfy every entry of `filter` (an empty filter lets everything through). */
export function matchesLabelFilter(labels: Readonly<Record<string, string>>, filter: readonly string[]): boolean {
  return filter.every((f) => {
    const eq = f.indexOf('=');
    return eq < 0 ? Object.hasOwn(labels, f) : labels[f.slice(0, eq)] === f.slice(eq + 1);
  });
}
