// Duration text → milliseconds for duration-valued labels. Same grammar as the config file
// (SPEC 2): ms, s, m, h, d and combinations (`1h30m`), fractions allowed when the total is whole
// milliseconds, `0` alone means zero, any other bare number is an error that suggests a unit.
// Local because internal/config had no public index yet when this was written; swap for its
// exported parseDuration once it has one (the grammar is identical by design).

export type DurationResult = { ok: true; ms: number } | { ok: false; message: string };

const UNIT_MS: ReadonlyMap<string, number> = new Map([
  ['ms', 1],
  ['s', 1000],
  ['m', 60_000],
  ['h', 3_600_000],
  ['d', 86_400_000],
]);
const COMPONENT = /(\d+)(?:\.(\d+))?(ms|[a-zA-Z]+)/y;
const BARE_NUMBER = /^\+?(\d+(\.\d*)?|\.\d+)$/;

/** Parses `30s`, `1h30m`, `1.5s`, `0`; never throws. */
export function parseDuration(text: string): DurationResult {
  const s = text.trim();
  if (s === '') return { ok: false, message: 'empty duration; write e.g. "30s", "5m" or "1h30m"' };
  if (s === '0') return { ok: true, ms: 0 };
  if (s.startsWith('-')) return { ok: false, message: `negative duration "${s}"` };
  if (BARE_NUMBER.test(s)) return { ok: false, message: `duration "${s}" has no unit; did you mean "${s.replace(/^\+/, '')}s"? (units: ms, s, m, h, d)` };
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    COMPONENT.lastIndex = pos;
    const m = COMPONENT.exec(s);
    if (m === null) return { ok: false, message: `invalid duration "${s}"; write e.g. "30s", "5m", "1h30m" (units: ms, s, m, h, d)` };
    const [, whole = '', frac = '', unit = ''] = m;
    const unitMs = UNIT_MS.get(unit);
    if (unitMs === undefined) return { ok: false, message: `unknown unit "${unit}" in duration "${s}"; units are ms, s, m, h, d` };
    let part = Number(whole) * unitMs;
    if (frac !== '') {
      const f = Number(`0.${frac}`) * unitMs;
      if (Math.abs(f - Math.round(f)) > 1e-6) return { ok: false, message: `duration "${s}" is not a whole number of milliseconds` };
      part += Math.round(f);
    }
    total += part;
    if (!Number.isSafeInteger(total)) return { ok: false, message: `duration "${s}" is too large` };
    pos = COMPONENT.lastIndex;
  }
  return { ok: true, ms: total };
}
