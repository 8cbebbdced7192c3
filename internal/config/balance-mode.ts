// Mode names: GoDoxy documents `round_robin` but its parser only knew `roundrobin` and silently
// fell back. Here every documented spelling maps to one canonical name, and anything else fails.
// The canonical names are pkg/balance's, the balancer that runs them.
import { BALANCE_MODES, type BalanceMode } from '../../pkg/balance/index.ts';

/** `round_robin`, `RoundRobin`, `LEAST_CONN`, `ip_hash`… → canonical name; undefined if unknown. */
export function parseBalanceMode(text: string): BalanceMode | undefined {
  const n = text.trim().toLowerCase().replaceAll('_', '');
  return (BALANCE_MODES as readonly string[]).includes(n) ? (n as BalanceMode) : undefined;
}
