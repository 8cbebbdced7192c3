// Duration-valued labels use internal/config's grammar (docs/configuration.md: ms, s, m, h, d, combinations,
// `0` alone is zero, a bare number is an error suggesting a unit), so `proxy.idle_timeout: 15m`
// and `defaults.healthcheck.interval: 15m` mean the same. Wrapped as a result: labels never throw.

import { parseDuration as parseConfigDuration } from '../config/index.ts';

export type DurationResult = { ok: true; ms: number } | { ok: false; message: string };

/** Parses `30s`, `1h30m`, `1.5s`, `0`; never throws. */
export function parseDuration(text: string): DurationResult {
  try {
    return { ok: true, ms: parseConfigDuration(text) };
  } catch (err) {
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
}
