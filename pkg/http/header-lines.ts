// Edits of a flat [name, value, name, value, …] header list in place (the form node:http and
// undici take, pkg/http/index.ts): the `set`/`add`/`remove` header commands of rules and the
// middlewares that drop credentials before a request goes upstream.

/** Removes every line whose name is `lower` (a lower-case name; the list's names may be any case). */
export function removeHeaderLines(headers: string[], lower: string): void {
  let w = 0;
  for (let r = 0; r + 1 < headers.length; r += 2) {
    const name = headers[r]!;
    if (name.length === lower.length && name.toLowerCase() === lower) continue;
    headers[w++] = name;
    headers[w++] = headers[r + 1]!;
  }
  headers.length = w;
}

/** `set` replaces every line of that name with one, `add` appends one, `remove` drops them all. */
export function editHeaderLines(headers: string[], op: 'set' | 'add' | 'remove', name: string, value: string): void {
  if (op !== 'add') removeHeaderLines(headers, name.toLowerCase());
  if (op !== 'remove') headers.push(name, value);
}
