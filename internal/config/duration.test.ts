import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DURATION_UNITS, DurationError, formatDuration, parseDuration } from './duration.ts';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof DurationError, `expected DurationError, got ${String(err)}`);
    return err.code;
  }
  assert.fail('expected a throw');
}

describe('parseDuration', () => {
  it('parses each unit', () => {
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('5m'), 300_000);
    assert.equal(parseDuration('2h'), 7_200_000);
    assert.equal(parseDuration('1d'), 86_400_000);
  });
  it('sums combinations in any order', () => {
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('30m1h'), 5_400_000);
    assert.equal(parseDuration('1d2h3m4s5ms'), 86_400_000 + 7_200_000 + 180_000 + 4000 + 5);
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration('1m500ms'), 60_500);
  });
  it('accepts fractions that land on whole milliseconds', () => {
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('0.25h'), 900_000);
    assert.equal(parseDuration('1.001s'), 1001);
    assert.equal(codeOf(() => parseDuration('0.5ms')), 'DURATION_SUB_MS');
    assert.equal(codeOf(() => parseDuration('1.0001s')), 'DURATION_SUB_MS');
  });
  it('takes 0 alone, and 0 with a unit, as zero; trims surrounding space', () => {
    assert.equal(parseDuration('0'), 0);
    assert.equal(parseDuration('0s'), 0);
    assert.equal(parseDuration(' 5s '), 5000);
  });
  it('rejects a bare number with a unit suggestion', () => {
    const err = (() => {
      try {
        parseDuration('30');
      } catch (e) {
        return e as DurationError;
      }
      return undefined;
    })();
    assert.equal(err?.code, 'DURATION_NO_UNIT');
    assert.match(err.message, /did you mean 30s\?/);
    assert.equal(codeOf(() => parseDuration('1.5')), 'DURATION_NO_UNIT');
    assert.equal(codeOf(() => parseDuration('00')), 'DURATION_NO_UNIT');
  });
  it('rejects negatives, garbage, unknown units, spaces and empties', () => {
    assert.equal(codeOf(() => parseDuration('-5s')), 'DURATION_NEGATIVE');
    assert.equal(codeOf(() => parseDuration('-1')), 'DURATION_NEGATIVE');
    for (const bad of ['', '   ', 's', '5x', '5 s', '1h 30m', '5sec', '1H', '.5s', '1..5s', 'abc', '5s-', '1e3s', '5μs', 'NaN', 'Infinity']) {
      assert.equal(codeOf(() => parseDuration(bad)), bad.startsWith('-') ? 'DURATION_NEGATIVE' : 'DURATION_INVALID', bad);
    }
    assert.match((() => { try { parseDuration('5sec'); } catch (e) { return (e as Error).message; } return ''; })(), /unknown unit "sec"/);
  });
  it("reads GoDoxy's w (7 days) and M (30 days); m stays minutes", () => {
    assert.equal(parseDuration('1w'), 7 * 86_400_000);
    assert.equal(parseDuration('1M'), 30 * 86_400_000);
    assert.equal(parseDuration('1M2w1m'), (30 + 14) * 86_400_000 + 60_000);
    assert.equal(formatDuration(7 * 86_400_000), '7d');
    assert.equal(codeOf(() => parseDuration('1W')), 'DURATION_INVALID');
  });
  it('rejects totals beyond safe integers', () => {
    assert.equal(codeOf(() => parseDuration('99999999999999999d')), 'DURATION_TOO_LARGE');
  });
  it('rejects non-strings without a TypeError', () => {
    assert.equal(codeOf(() => parseDuration(5 as unknown as string)), 'DURATION_INVALID');
  });

  it('property: never throws anything but DurationError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[0-9.smhd\- ]{0,12}$/)), (s) => {
        try {
          const ms = parseDuration(s);
          assert.ok(Number.isSafeInteger(ms) && ms >= 0);
        } catch (err) {
          assert.ok(err instanceof DurationError);
        }
      }),
      { numRuns: 2000 },
    );
  });
  it('property: a sum of components parses to the sum', () => {
    const component = fc.tuple(fc.integer({ min: 0, max: 10_000 }), fc.constantFrom(...DURATION_UNITS));
    fc.assert(
      fc.property(fc.array(component, { minLength: 1, maxLength: 6 }), (parts) => {
        const text = parts.map(([n, [u]]) => `${String(n)}${u}`).join('');
        const sum = parts.reduce((acc, [n, [, ms]]) => acc + n * ms, 0);
        assert.equal(parseDuration(text), sum);
      }),
    );
  });
  it('property: parse(format(ms)) round-trips, and format is canonical', () => {
    fc.assert(
      fc.property(fc.oneof(fc.nat(), fc.maxSafeNat(), fc.integer({ min: 0, max: 100 * 86_400_000 })), (ms) => {
        const text = formatDuration(ms);
        assert.equal(parseDuration(text), ms);
        assert.equal(formatDuration(parseDuration(text)), text);
      }),
    );
  });
});

describe('formatDuration', () => {
  it('writes largest units first', () => {
    assert.equal(formatDuration(0), '0s');
    assert.equal(formatDuration(5_400_000), '1h30m');
    assert.equal(formatDuration(1500), '1s500ms');
    assert.equal(formatDuration(86_400_000), '1d');
    assert.equal(formatDuration(7), '7ms');
  });
  it('rejects negative and fractional input with DurationError', () => {
    assert.equal(codeOf(() => formatDuration(-1)), 'DURATION_INVALID');
    assert.equal(codeOf(() => formatDuration(1.5)), 'DURATION_INVALID');
    assert.equal(codeOf(() => formatDuration(Number.NaN)), 'DURATION_INVALID');
  });
});
