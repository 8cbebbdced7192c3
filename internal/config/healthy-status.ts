// `healthcheck.status`: which HTTP statuses an active check accepts (docs/health.md: 200–399 unless
// configured otherwise). One grammar for labels, static routes and defaults.healthcheck, so
// `proxy.app.healthcheck.status: 200-499` and `routes.app.healthcheck.status: 200-499` agree.

/** Inclusive [low, high] ranges, sorted and merged: the shape HealthcheckSpec.status stores. */
export type StatusRanges = ReadonlyArray<readonly [number, number]>;

/** What an absent `healthcheck.status` means. */
export const DEFAULT_HEALTHY_STATUS_TEXT = '200-399';

export type StatusParseResult = { ok: true; ranges: Array<[number, number]> } | { ok: false; message: string };

const CODE = /^\d+$/;
const RANGE = /^(\d+)\s*-\s*(\d+)$/;
const CLASS = /^([1-5])xx$/i;
const EXAMPLE = 'write e.g. 200-399, 200-499 or 200,204,301-302';

function show(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

function code(digits: string, whole: string): number | string {
  const n = Number(digits);
  // Status codes are three digits (RFC 9110 §15); 600+ is nothing an upstream should send.
  if (n < 100 || n > 599) return `status code ${digits} in ${show(whole)} is outside 100-599`;
  return n;
}

/**
 * Parses a comma list of status codes and inclusive ranges: `200-399`, `200, 204, 301-302`.
 * Whitespace around items and dashes is ignored; every code must be 100–599 and a range's low
 * end must not exceed its high end. Overlapping and adjacent items are merged, so equal sets
 * compare equal. Never throws: a problem is one message (without the key name).
 */
export function parseHealthyStatus(text: string): StatusParseResult {
  const whole = text.trim();
  if (whole === '') return { ok: false, message: `no status codes given; ${EXAMPLE}` };
  const ranges: Array<[number, number]> = [];
  for (const raw of whole.split(',')) {
    const item = raw.trim();
    if (item === '') return { ok: false, message: `${show(whole)} has an empty item between commas; ${EXAMPLE}` };
    const cls = CLASS.exec(item);
    if (cls) return { ok: false, message: `${show(item)} is not supported; write ${cls[1] ?? ''}00-${cls[1] ?? ''}99` };
    if (CODE.test(item)) {
      const n = code(item, whole);
      if (typeof n === 'string') return { ok: false, message: n };
      ranges.push([n, n]);
      continue;
    }
    const r = RANGE.exec(item);
    if (!r) return { ok: false, message: `${show(item)} is not a status code or range; ${EXAMPLE}` };
    const low = code(r[1] ?? '', whole);
    if (typeof low === 'string') return { ok: false, message: low };
    const high = code(r[2] ?? '', whole);
    if (typeof high === 'string') return { ok: false, message: high };
    if (low > high) return { ok: false, message: `range ${show(item)} runs backwards; write ${String(high)}-${String(low)}` };
    ranges.push([low, high]);
  }
  ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged: Array<[number, number]> = [];
  for (const [low, high] of ranges) {
    const last = merged[merged.length - 1];
    if (last !== undefined && low <= last[1] + 1) last[1] = Math.max(last[1], high);
    else merged.push([low, high]);
  }
  return { ok: true, ranges: merged };
}

/** Ranges back to text: `200-399`, `200,204,301-302`; undefined → the default `200-399`. */
export function formatHealthyStatus(ranges: StatusRanges | undefined): string {
  if (ranges === undefined) return DEFAULT_HEALTHY_STATUS_TEXT;
  return ranges.map(([low, high]) => (low === high ? String(low) : `${String(low)}-${String(high)}`)).join(',');
}
