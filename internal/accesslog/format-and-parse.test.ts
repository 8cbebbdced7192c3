// The access_log grammar (GoDoxy's forms) and the line formats, byte for byte.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseAccessLog, parseRetention } from './parse-access-log.ts';
import { clfTime, combinedLine, commonLine, escapeLogItem, jsonLine, targetWithQuery, type LineFacts } from './format-line.ts';
import { compileFilters } from './request-filter.ts';
import { lineTime } from './retention.ts';
import type { AccessLogSpec } from './access-log-spec.ts';

function spec(raw: unknown): AccessLogSpec {
  const r = parseAccessLog(raw, 'access_log');
  assert.ok(r.ok, JSON.stringify(r));
  return r.spec;
}
function problems(raw: unknown): string[] {
  const r = parseAccessLog(raw, 'access_log');
  assert.ok(!r.ok, 'expected problems');
  return r.problems.map((p) => `${p.key}: ${p.message}`);
}

// GoAccess's COMBINED (`%h %^[%d:%t %^] "%r" %s %b "%R" "%u"`, date %d/%b/%Y, time %H:%M:%S)
// and the common variant, as regular expressions over a whole line.
const QUOTED = '"((?:[^"\\\\]|\\\\.)*)"';
export const COMMON_RE = new RegExp(`^(\\S+) \\S+ \\S+ \\[(\\d{2}/[A-Z][a-z]{2}/\\d{4}):(\\d{2}:\\d{2}:\\d{2}) [+-]\\d{4}\\] ${QUOTED} (\\d{3}) (\\d+|-)$`);
export const COMBINED_RE = new RegExp(`^(\\S+) \\S+ \\S+ \\[(\\d{2}/[A-Z][a-z]{2}/\\d{4}):(\\d{2}:\\d{2}:\\d{2}) [+-]\\d{4}\\] ${QUOTED} (\\d{3}) (\\d+|-) ${QUOTED} ${QUOTED}$`);

const T = Date.UTC(2000, 9, 10, 20, 55, 36); // 10/Oct/2000:13:55:36 -0700 (Apache's example)

function facts(over: Partial<LineFacts> = {}): LineFacts {
  return {
    timeMs: T, clientIp: '127.0.0.1', method: 'GET', target: '/apache_pb.gif', protocol: 'HTTP/1.0', host: 'www.example.com',
    routingHost: 'www.example.com', status: 200, bytes: 2326, secure: false, contentType: 'image/gif',
    rawHeaders: ['Host', 'www.example.com', 'Referer', 'http://www.example.com/start.html', 'User-Agent', 'Mozilla/4.08 [en] (Win98; I ;Nav)'],
    ...over,
  };
}

describe('access_log options (GoDoxy grammar)', () => {
  test('defaults are GoDoxy\'s: combined, 30 days, headers and cookies dropped, query kept', () => {
    const s = spec({ path: '/tmp/a.log' });
    assert.equal(s.format, 'combined');
    assert.deepEqual(s.retention, { kind: 'days', days: 30 });
    assert.deepEqual(s.fields.headers, { default: 'drop', config: {} });
    assert.deepEqual(s.fields.query, { default: 'keep', config: {} });
    assert.deepEqual(s.fields.cookies, { default: 'drop', config: {} });
    assert.equal(s.stdout, false);
  });

  test('GoDoxy\'s own label test, as the tree labels give (text values, comma lists)', () => {
    const s = spec({
      format: 'combined', path: '/tmp/access.log',
      filters: {
        status_codes: { values: '200-299' }, method: { values: 'GET, POST' },
        headers: { values: 'foo=bar, baz', negative: 'true' }, cidr: { values: '192.168.10.0/24' },
      },
      fields: {
        headers: { default: 'keep', config: { foo: 'redact' } },
        query: { default: 'drop', config: { foo: 'keep' } },
        cookies: { default: 'redact', config: { foo: 'keep' } },
      },
    });
    assert.deepEqual(s.filters.statusCodes, { negative: false, values: [[200, 299]] });
    assert.deepEqual(s.filters.method, { negative: false, values: ['GET', 'POST'] });
    assert.deepEqual(s.filters.headers, { negative: true, values: [{ name: 'foo', value: 'bar' }, { name: 'baz', value: undefined }] });
    assert.deepEqual(s.filters.cidr, { negative: false, values: ['192.168.10.0/24'] });
    assert.deepEqual(s.fields.headers, { default: 'keep', config: { foo: 'redact' } });
    assert.deepEqual(s.fields.query, { default: 'drop', config: { foo: 'keep' } });
    assert.deepEqual(s.fields.cookies, { default: 'redact', config: { foo: 'keep' } });
  });

  test('retention: every form of GoDoxy\'s Retention.Parse, plus the mapping form and its old name `keep`', () => {
    assert.deepEqual(parseRetention('30 days'), { kind: 'days', days: 30 });
    assert.deepEqual(parseRetention('1 day'), { kind: 'days', days: 1 });
    assert.deepEqual(parseRetention('2 weeks'), { kind: 'days', days: 14 });
    assert.deepEqual(parseRetention('1 month'), { kind: 'days', days: 30 });
    assert.deepEqual(parseRetention('last 100'), { kind: 'last', lines: 100 });
    assert.deepEqual(parseRetention('10 MB'), { kind: 'size', bytes: 10 * 1024 * 1024 });
    assert.deepEqual(parseRetention('10 mb'), { kind: 'size', bytes: 10_000_000 });
    assert.deepEqual(parseRetention('1 KB'), { kind: 'size', bytes: 1024 });
    assert.deepEqual(parseRetention('2 GB'), { kind: 'size', bytes: 2 * 1024 ** 3 });
    assert.deepEqual(parseRetention({ days: 7 }), { kind: 'days', days: 7 });
    assert.deepEqual(parseRetention({ last: '50' }), { kind: 'last', lines: 50 });
    assert.deepEqual(parseRetention({ keep_size: 4096 }), { kind: 'size', bytes: 4096 });
    for (const bad of ['30', '30 lines', 'last', 'last x', '0 days', '-1 days', 'keep 3 days', '3 days ago', '10 TB']) {
      assert.equal(typeof parseRetention(bad), 'string', bad);
    }
    assert.deepEqual(spec({ path: '/x', keep: '3 days' }).retention, { kind: 'days', days: 3 });
  });

  test('problems name the key: unknown keys with a guess, bad values, path or stdout required', () => {
    assert.deepEqual(problems({}), ['access_log: path or stdout is required (e.g. path: /var/log/bellhop/access.log)']);
    assert.match(problems({ path: '/x', formatt: 'json' })[0]!, /^access_log\.formatt: unknown key "formatt"; did you mean "format"\?/);
    assert.match(problems({ path: '/x', format: 'apache' })[0]!, /^access_log\.format: expected common, combined or json/);
    assert.match(problems({ path: '/x', retention: '30 lines' })[0]!, /^access_log\.retention: .*unknown unit "lines"/);
    assert.match(problems({ path: '/x', filters: { status_codes: { values: ['2xx'] } } })[0]!, /^access_log\.filters\.status_codes\.values: "2xx" is not a status code/);
    assert.match(problems({ path: '/x', filters: { cidr: { values: ['10.0.0.0/33'] } } })[0]!, /not an IP address or CIDR/);
    assert.match(problems({ path: '/x', fields: { headers: { default: 'hide' } } })[0]!, /^access_log\.fields\.headers\.default: expected keep, drop or redact/);
    assert.match(problems({ path: '/x', retention: '1 day', keep: '2 days' })[0]!, /same setting/);
    assert.equal(spec({ stdout: 'yes' }).stdout, true);
    assert.equal(spec({ path: '/x', buffer_size: '64 KB' }).bufferSize, 65536);
    assert.equal(spec({ path: '/x', rotate_interval: '30m' }).rotateIntervalMs, 1_800_000);
  });

  test('never throws, whatever the value (property)', () => {
    fc.assert(fc.property(fc.anything(), (v) => {
      const r = parseAccessLog(v, 'k');
      assert.equal(typeof r.ok, 'boolean');
    }), { numRuns: 300 });
  });
});

describe('line formats', () => {
  test('common and combined are Apache\'s example lines, byte for byte (TZ=UTC or the offset written)', () => {
    const f = facts();
    const time = clfTime(T);
    assert.equal(commonLine(f, spec({ path: '/x' }).fields.query), `127.0.0.1 - - [${time}] "GET /apache_pb.gif HTTP/1.0" 200 2326`);
    assert.equal(combinedLine(f, spec({ path: '/x' }).fields.query),
      `127.0.0.1 - - [${time}] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"`);
    assert.match(combinedLine(f, spec({ path: '/x' }).fields.query), COMBINED_RE);
    assert.match(commonLine(f, spec({ path: '/x' }).fields.query), COMMON_RE);
    // the stamp reads back to the same instant, whatever the local zone
    assert.equal(lineTime(commonLine(f, spec({ path: '/x' }).fields.query)), T);
  });

  test('no body → "-", no referer or user agent → "-"; quotes, backslashes and control bytes escaped as Apache does', () => {
    const q = spec({ path: '/x' }).fields.query;
    const line = combinedLine(facts({ bytes: 0, rawHeaders: [] }), q);
    assert.match(line, / 200 - "-" "-"$/);
    const evil = combinedLine(facts({ target: '/a"b', rawHeaders: ['User-Agent', 'x" "y\\z\n\u00e9\u0001'] }), q);
    assert.match(evil, COMBINED_RE);
    assert.ok(evil.endsWith('"x\\" \\"y\\\\z\\n\\xe9\\x01"'), evil);
    assert.ok(evil.includes('"GET /a\\"b HTTP/1.0"'), evil);
    assert.equal(escapeLogItem('plain'), 'plain');
    assert.equal(escapeLogItem('\u20ac'), '\\xe2\\x82\\xac');
  });

  test('escaped lines always match the GoAccess pattern (property)', () => {
    const q = spec({ path: '/x' }).fields.query;
    fc.assert(fc.property(fc.string(), fc.string(), fc.string(), (target, ref, ua) => {
      const line = combinedLine(facts({ target: `/${target}`, rawHeaders: ['Referer', ref, 'User-Agent', ua] }), q);
      assert.match(line, COMBINED_RE);
      assert.ok(!line.includes('\n'));
    }), { numRuns: 500 });
  });

  test('fields.query: kept as received by default; redact and drop per name, order kept', () => {
    const q = spec({ path: '/x', fields: { query: { default: 'keep', config: { token: 'redact', secret: 'drop' } } } }).fields.query;
    assert.equal(targetWithQuery('/p?a=1&token=abc&secret=s&b=%20', q), '/p?a=1&token=REDACTED&b=%20');
    const drop = spec({ path: '/x', fields: { query: { default: 'drop', config: { page: 'keep' } } } }).fields.query;
    assert.equal(targetWithQuery('/p?a=1&page=2', drop), '/p?page=2');
    assert.equal(targetWithQuery('/p?a=1', drop), '/p');
    assert.equal(targetWithQuery('/p?a=1', spec({ path: '/x' }).fields.query), '/p?a=1');
  });

  test('json: GoDoxy\'s fields in its order; headers, query and cookies by their field settings', () => {
    const s = spec({
      path: '/x', format: 'json',
      fields: { headers: { default: 'keep', config: { Authorization: 'redact', 'x-drop': 'drop' } }, query: { config: { token: 'redact' } }, cookies: { default: 'redact', config: { theme: 'keep' } } },
    });
    const line = jsonLine(facts({
      target: '/a%20b?x=1&x=2&token=t', secure: true,
      rawHeaders: ['Host', 'h', 'authorization', 'Bearer s', 'X-Drop', 'y', 'accept', 'a/b', 'Cookie', 'theme=dark; sid=123'],
    }), s.fields);
    const o = JSON.parse(line) as Record<string, unknown>;
    assert.deepEqual(Object.keys(o), ['level', 'time', 'ip', 'method', 'scheme', 'host', 'path', 'protocol', 'status', 'type', 'size', 'referer', 'useragent', 'query', 'headers', 'cookies']);
    assert.equal(o['scheme'], 'https');
    assert.equal(o['path'], '/a b');
    assert.equal(o['time'], clfTime(T));
    assert.deepEqual(o['query'], { x: ['1', '2'], token: ['REDACTED'] });
    assert.deepEqual(o['headers'], { Authorization: ['REDACTED'], Accept: ['a/b'], Cookie: ['theme=dark; sid=123'] });
    assert.deepEqual(o['cookies'], { theme: 'dark', sid: 'REDACTED' });
    const plain = JSON.parse(jsonLine(facts(), spec({ path: '/x', format: 'json' }).fields)) as Record<string, unknown>;
    assert.deepEqual([plain['headers'], plain['cookies'], plain['size'], plain['referer']], [{}, {}, 2326, 'http://www.example.com/start.html']);
  });
});

describe('filters (GoDoxy semantics)', () => {
  const keep = (raw: unknown, f: Partial<LineFacts>): boolean => {
    const p = compileFilters(spec({ path: '/x', filters: raw }).filters);
    return p === undefined ? true : p(facts(f));
  };
  test('status ranges, methods, hosts, headers and CIDRs, each with negative', () => {
    assert.equal(keep({ status_codes: { values: ['400-599'] } }, { status: 404 }), true);
    assert.equal(keep({ status_codes: { values: ['400-599'] } }, { status: 200 }), false);
    assert.equal(keep({ status_codes: { values: ['200-299'], negative: true } }, { status: 200 }), false);
    assert.equal(keep({ method: { values: 'post' } }, { method: 'POST' }), true);
    assert.equal(keep({ method: { values: ['GET'], negative: true } }, { method: 'GET' }), false);
    assert.equal(keep({ host: { values: ['App.Example.com:443'] } }, { routingHost: 'app.example.com' }), true);
    assert.equal(keep({ host: { values: ['other'] } }, { routingHost: 'app.example.com' }), false);
    assert.equal(keep({ headers: { values: ['X-Debug'] } }, { rawHeaders: ['x-debug', '1'] }), true);
    assert.equal(keep({ headers: { values: ['X-Debug=yes'] } }, { rawHeaders: ['x-debug', '1'] }), false);
    assert.equal(keep({ headers: { values: ['X-Debug=YES'] } }, { rawHeaders: ['X-Debug', 'yes'] }), true);
    assert.equal(keep({ cidr: { values: ['10.0.0.0/8'] } }, { clientIp: '10.1.2.3' }), true);
    assert.equal(keep({ cidr: { values: ['10.0.0.0/8'], negative: true } }, { clientIp: '10.1.2.3' }), false);
    assert.equal(keep({ cidr: { values: ['10.0.0.0/8'], negative: true } }, { clientIp: '192.168.1.1' }), true);
  });
  test('every filter must pass; an empty list passes everything, or nothing when negative (GoDoxy)', () => {
    assert.equal(keep({ status_codes: ['500-599'], method: ['GET'] }, { status: 500, method: 'POST' }), false);
    assert.equal(keep({ status_codes: ['500-599'], method: ['GET'] }, { status: 500, method: 'GET' }), true);
    assert.equal(keep({ method: { values: [] } }, {}), true);
    assert.equal(keep({ method: { negative: true } }, {}), false);
  });
});
