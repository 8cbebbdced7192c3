// The host names a route table answers by name, for automatic HTTPS (docs/https.md): each
// alias with a dot is a host as written; a bare alias answers under every match domain.
// Wildcard aliases are returned too — the certificate side decides what it can certify.
import type { RouteTable } from './route-table.ts';

export function hostNamesOf(table: RouteTable): string[] {
  const out = new Set<string>();
  for (const r of table.routes()) {
    for (const alias of r.aliases) {
      const a = alias.toLowerCase();
      if (a.includes('.')) out.add(a);
      else for (const d of table.matchDomains) out.add(`${a}.${d}`);
    }
  }
  return [...out].sort();
}
