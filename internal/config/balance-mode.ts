// Mode names: GoDoxy documents `round_robin` but its parser only knew `roundrobin` and silently
// fell back. Here every documented spelling maps to one canonical name, and anything else fails.
import type { BalanceModeName } from '../routes/route-spec.ts';

export const BALANCE_MODES: readonly BalanceModeName[] = ['roundrobin', 'leastconn', 'iphash'];

/** `round_robin`, `RoundRobin`, `LEAST_CONN`, `ip_hash`… → canonical name; undefined if unknown. */
export function parseBalanceMode(text: string): BalanceModeName | undefined {
  const n = text.trim().toLowerCase().replaceAll('_', '');
  return (BALANCE_MODES as readonly string[]).includes(n) ? (n as BalanceModeName) : undefined;
}
