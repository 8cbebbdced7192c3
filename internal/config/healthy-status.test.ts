import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatHealthyStatus, parseHealthyStatus } from './healthy-status.ts';

function ranges(text: string): Array<[number, number]> {
  const r = parseHealthyStatus(text);
  if (!r.ok) assert.fail(`${JSON.stringify(text)}: ${r.message}`);
  return r.ranges;
}

function problem(text: string): string {
  const r = parseHealthyStatus(text);
  assert.equal(r.ok, false, `${JSON.stringify(text)} should be rejected`);
  return r.ok ? '' : r.message;
}

test('codes and inclusive ranges, whitespace tolerated', () => {
  assert.deepEqual(ranges('200-399'), [[200, 399]]);
  assert.deepEqual(ranges('200-499'), [[200, 499]]);
  assert.deepEqual(ranges('200,204,301-302'), [[200, 200], [204, 204], [301, 302]]);
  assert.deepEqual(ranges('  200 , 204,\t301 - 302 '), [[200, 200], [204, 204], [301, 302]]);
  assert.deepEqual(ranges('418'), [[418, 418]]);
  assert.deepEqual(ranges('100-599'), [[100, 599]]);
  assert.deepEqual(ranges('404-404'), [[404, 404]]);
});

test('sorted and merged, so equal sets are equal data', () => {
  assert.deepEqual(ranges('301-302,200'), [[200, 200], [301, 302]]);
  assert.deepEqual(ranges('200-299,300-399'), [[200, 399]]);
  assert.deepEqual(ranges('200-300,250-399,204'), [[200, 399]]);
  assert.deepEqual(ranges('204,204'), [[204, 204]]);
  assert.deepEqual(ranges('200,201,202'), [[200, 202]]);
});

test('anything else is one clear message', () => {
  assert.match(problem(''), /no status codes given; write e\.g\. 200-399/);
  assert.match(problem('   '), /no status codes given/);
  assert.match(problem('abc'), /^"abc" is not a status code or range; write e\.g\. 200-399, 200-499 or 200,204,301-302$/);
  assert.match(problem('200-'), /"200-" is not a status code or range/);
  assert.match(problem('-200'), /"-200" is not a status code or range/);
  assert.match(problem('200-300-400'), /"200-300-400" is not a status code or range/);
  assert.match(problem('200.5'), /"200\.5" is not a status code or range/);
  assert.match(problem('200;204'), /"200;204" is not a status code or range/);
  assert.match(problem('200,,204'), /empty item between commas/);
  assert.match(problem('200,'), /empty item between commas/);
  assert.equal(problem('600'), 'status code 600 in "600" is outside 100-599');
  assert.equal(problem('200,99'), 'status code 99 in "200,99" is outside 100-599');
  assert.equal(problem('200-700'), 'status code 700 in "200-700" is outside 100-599');
  assert.equal(problem('0-399'), 'status code 0 in "0-399" is outside 100-599');
  assert.equal(problem('399-200'), 'range "399-200" runs backwards; write 200-399');
  assert.equal(problem('2xx'), '"2xx" is not supported; write 200-299');
});

test('formatHealthyStatus writes what the parser reads; undefined is the default', () => {
  assert.equal(formatHealthyStatus(undefined), '200-399');
  assert.equal(formatHealthyStatus(ranges(' 301 - 302, 200 ,204')), '200,204,301-302');
  assert.equal(formatHealthyStatus(ranges('200-499')), '200-499');
});

test('property: never throws; accepted text round-trips through format', () => {
  const item = fc.oneof(
    fc.integer({ min: 0, max: 700 }).map(String),
    fc.tuple(fc.integer({ min: 0, max: 700 }), fc.integer({ min: 0, max: 700 }), fc.constantFrom('-', ' - ', '- ')).map(([a, b, d]) => `${String(a)}${d}${String(b)}`),
    fc.string({ maxLength: 6 }),
  );
  fc.assert(
    fc.property(fc.array(item, { maxLength: 6 }), fc.constantFrom(',', ', ', ' ,'), (items, sep) => {
      const r = parseHealthyStatus(items.join(sep));
      if (!r.ok) return;
      for (const [low, high] of r.ranges) assert.ok(low >= 100 && low <= high && high <= 599);
      r.ranges.forEach(([low], i) => {
        const prev = r.ranges[i - 1];
        if (prev !== undefined) assert.ok(low > prev[1] + 1, 'sorted, merged, not adjacent');
      });
      const again = parseHealthyStatus(formatHealthyStatus(r.ranges));
      assert.deepEqual(again, r);
    }),
  );
});
