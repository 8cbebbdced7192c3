import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { normaliseHost } from './index.ts';

test('normaliseHost: lower case, port and trailing dot removed', () => {
  const cases: [string, string][] = [
    ['app.example.com', 'app.example.com'],
    ['App.Example.COM', 'app.example.com'],
    ['app.example.com:8080', 'app.example.com'],
    ['app.example.com.', 'app.example.com'],
    ['app.example.com.:443', 'app.example.com'],
    ['app:', 'app'],
    ['my_app', 'my_app'],
    ['192.168.1.10:80', '192.168.1.10'],
    ['[::1]', '[::1]'],
    ['[::1]:8080', '[::1]'],
    ['[::1]:', '[::1]'], // RFC 3986 allows an empty port
    ['[2001:DB8::1]:443', '[2001:db8::1]'],
    ['[::ffff:1.2.3.4]', '[::ffff:1.2.3.4]'],
    ['localhost', 'localhost'],
  ];
  for (const [input, want] of cases) assert.equal(normaliseHost(input), want, input);
});

test('normaliseHost: empty, whitespace, control characters and garbage are undefined', () => {
  const bad = [
    '', ' ', 'a b', ' app', 'app ', 'a\tb', 'a\r\nb', 'a\u0000', 'a\u007f', 'u@app', 'app/x', 'a..b', '.app', 'app..', '.', ':80',
    'app:x', 'app:70000', 'app:123456', 'app:-1', 'app:80:80', '[::1', '[::1]x', '[1.2.3.4]', '[]', '[:]', '[zz::1]', '[::1%eth0]',
    'ä.example', 'a'.repeat(300), 'app\\x', 'a,b', 'a;b', '*.example.com',
  ];
  for (const b of bad) assert.equal(normaliseHost(b), undefined, JSON.stringify(b));
  assert.equal(normaliseHost(undefined), undefined);
});

test('property: normaliseHost never throws, is idempotent, and its output is lower case without port', () => {
  const hostish = fc.oneof(
    fc.string(),
    fc.string({ unit: fc.constantFrom(...'aZ09.-_:[]@/ \t%'.split('')), maxLength: 30 }),
    fc.domain(),
    fc.tuple(fc.domain(), fc.nat(70000)).map(([d, p]) => `${d.toUpperCase()}:${p}`),
    fc.ipV6().map((a) => `[${a}]:80`),
  );
  fc.assert(
    fc.property(hostish, (h) => {
      const n = normaliseHost(h);
      if (n === undefined) return;
      assert.equal(normaliseHost(n), n, `${JSON.stringify(h)} -> ${n}`);
      assert.equal(n, n.toLowerCase());
      assert.ok(!n.endsWith('.'));
      assert.ok(n.startsWith('[') || !n.includes(':'));
    }),
    { numRuns: 5000 },
  );
});

test('property: every domain with any port normalises to the lower-case domain', () => {
  fc.assert(
    fc.property(fc.domain(), fc.integer({ min: 0, max: 65535 }), fc.boolean(), (d, port, dot) => {
      assert.equal(normaliseHost(`${d.toUpperCase()}${dot ? '.' : ''}:${port}`), d.toLowerCase());
    }),
  );
});
