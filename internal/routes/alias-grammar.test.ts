import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isDomainName, isHostAlias } from './index.ts';

const label63 = 'a'.repeat(63);

test('aliases: host labels, host names and one leftmost wildcard label', () => {
  for (const ok of ['nas', 'app.example.com', '*.example.com', '*.apps', 'my_app', 'a-b', '0', label63, `${label63}.${label63}`]) {
    assert.ok(isHostAlias(ok), ok);
  }
  for (const bad of ['', 'app-', '-app', 'a-.b', 'a.-b', 'a..b', '.a', 'a.', 'x.*.com', '*', '*.', '**.a', 'a b', 'App', 'a/b', 'a:80', `${label63}a`]) {
    assert.ok(!isHostAlias(bad), bad);
  }
});

test('names are at most 253 characters, a wildcard alias with its "*." counted', () => {
  const name253 = [label63, label63, label63, 'a'.repeat(61)].join('.');
  assert.equal(name253.length, 253);
  assert.ok(isDomainName(name253));
  assert.ok(isHostAlias(name253));
  assert.ok(!isDomainName(`a${name253}`));
  assert.ok(!isHostAlias(`*.${name253}`));
  assert.ok(isHostAlias(`*.${name253.slice(2)}`));
});

test('match domains: host names, never wildcards', () => {
  assert.ok(isDomainName('home.example.com'));
  assert.ok(!isDomainName('*.example.com'));
  assert.ok(!isDomainName('example-.com'));
});

test('property: a wildcard alias is "*." and a domain name; never throws', () => {
  fc.assert(fc.property(fc.string({ maxLength: 300 }), (s) => {
    assert.equal(isHostAlias(`*.${s}`), s.length <= 251 && isDomainName(s));
    if (isDomainName(s)) assert.ok(isHostAlias(s));
  }));
});
