// How the file's host names are compared and stored: aliases and match domains are written in
// any case, with or without a leading or trailing dot (docs/configuration.md).

/** Lower-case, no leading or trailing dot. */
export function normaliseDomain(s: string): string {
  return s.trim().toLowerCase().replace(/^\.+/, '').replace(/\.+$/, '');
}
