// Duration text ⇄ milliseconds. One grammar for the config file and (through index.ts) for
// labels, so `proxy.idle_timeout: 15m` and `defaults.healthcheck.interval: 15m` mean the same.

/** Stable codes of {@link DurationError}. */
export type DurationErrorCode = 'DURATION_INVALID' | 'DURATION_NO_UNIT' | 'DURATION_NEGATIVE' | 'DURATION_TOO_LARGE' | 'DURATION_SUB_MS';

/** The only error parseDuration/formatDuration throw. */
export class DurationError extends Error {
  readonly code: DurationErrorCode;
  /** The offending text (or number, as text). */
  readonly input: string;
  constructor(code: DurationErrorCode, input: string, message: string) {
    super(message);
    this.name = 'DurationError';
    this.code = code;
    this.input = input;
  }
}

/** Milliseconds per unit. Largest first: formatDuration walks this order. */
export const DURATION_UNITS: ReadonlyArray<readonly [unit: string, ms: number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
];
// GoDoxy's extra units, read but never written: `w` = 7d, `M` = 30d (a "month"; `m` stays minutes).
const UNIT_MS = new Map<string, bigint>([...DURATION_UNITS.map(([u, ms]): [string, bigint] => [u, BigInt(ms)]), ['w', 604_800_000n], ['M', 2_592_000_000n]]);

/** Largest delay Node's timers honour; longer ones fire at once (with a warning). */
export const MAX_TIMER_MS = 2_147_483_647;

const COMPONENT = /(\d+)(?:\.(\d+))?(ms|[a-zA-Zµ]+)/y;
const BARE_NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

function show(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

/**
 * Parses `500ms`, `30s`, `5m`, `1h30m`, `1.5s`, `2d` into whole milliseconds.
 * Components are `<digits>[.<digits>]<unit>` with unit ms, s, m, h, d, w (7d) or M (30d), written without spaces
 * and summed (any order, so `1h30m` = `30m1h`). `0` alone means zero; any other bare number is
 * an error suggesting a unit. Fractions are allowed when the total is a whole number of
 * milliseconds (`1.5s` = 1500, `0.5ms` is an error). Throws only {@link DurationError}.
 */
export function parseDuration(text: string): number {
  if (typeof text !== 'string') throw new DurationError('DURATION_INVALID', String(text), `expected a duration like "30s", got ${typeof text}`);
  const s = text.trim();
  if (s === '') throw new DurationError('DURATION_INVALID', text, 'empty duration; write e.g. "30s", "5m" or "1h30m"');
  if (s === '0') return 0;
  if (s.startsWith('-')) throw new DurationError('DURATION_NEGATIVE', text, `negative duration ${show(s)}; durations are 0 or more`);
  if (BARE_NUMBER.test(s)) {
    const n = s.replace(/^\+/, '');
    throw new DurationError('DURATION_NO_UNIT', text, `duration ${show(s)} has no unit; did you mean ${n}s? (units: ms, s, m, h, d)`);
  }
  let total = 0n;
  let pos = 0;
  while (pos < s.length) {
    COMPONENT.lastIndex = pos;
    const m = COMPONENT.exec(s);
    if (m === null) throw new DurationError('DURATION_INVALID', text, `invalid duration ${show(s)}; write e.g. "30s", "5m", "1h30m" (units: ms, s, m, h, d)`);
    const [, whole = '', frac = '', unit = ''] = m;
    const unitMs = UNIT_MS.get(unit);
    if (unitMs === undefined) throw new DurationError('DURATION_INVALID', text, `unknown unit ${show(unit)} in duration ${show(s)}; units are ms, s, m, h, d, w (7d), M (30d)`);
    total += BigInt(whole) * unitMs;
    if (frac !== '') {
      const scale = 10n ** BigInt(frac.length);
      const part = BigInt(frac) * unitMs;
      if (part % scale !== 0n) throw new DurationError('DURATION_SUB_MS', text, `duration ${show(s)} is not a whole number of milliseconds`);
      total += part / scale;
    }
    if (total > BigInt(Number.MAX_SAFE_INTEGER)) throw new DurationError('DURATION_TOO_LARGE', text, `duration ${show(s)} is too large`);
    pos = COMPONENT.lastIndex;
  }
  return Number(total);
}

/**
 * Formats whole milliseconds canonically, largest unit first: 5400000 → `1h30m`, 1500 → `1s500ms`,
 * 0 → `0s`. `parseDuration(formatDuration(ms)) === ms` for every safe non-negative integer.
 */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new DurationError('DURATION_INVALID', String(ms), `cannot format ${String(ms)} as a duration: need a whole number of milliseconds >= 0`);
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const [unit, size] of DURATION_UNITS) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${String(n)}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
