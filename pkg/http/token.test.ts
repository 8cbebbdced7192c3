import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isToken } from './token.ts';

test('isToken: RFC 9110 tchar only, at least one', () => {
  for (const ok of ['X-Forwarded-For', 'a', "!#$%&'*+-.^_`|~", 'GET', 'x1']) assert.equal(isToken(ok), true, ok);
  for (const bad of ['', 'a b', 'a:b', 'a\r\nb', 'é', '(x)', 'a"b', 'a/b', 'a@b', '[x]']) assert.equal(isToken(bad), false, JSON.stringify(bad));
});
