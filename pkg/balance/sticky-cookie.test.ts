import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseSetCookie } from 'cookie';
import { STICKY_COOKIE_NAME, readStickyCookie, stickySetCookie, stripStickyCookie } from './sticky-cookie.ts';

const TOKEN = 'AWsCWljDB5TnYKl2jAIuyzBU-6AAxLEtinJxVnBD';

test('readStickyCookie finds our cookie among others and ignores look-alikes', () => {
  assert.equal(readStickyCookie(undefined), undefined);
  assert.equal(readStickyCookie(''), undefined);
  assert.equal(readStickyCookie('a=1; b=2'), undefined);
  assert.equal(readStickyCookie(`${STICKY_COOKIE_NAME}=${TOKEN}`), TOKEN);
  assert.equal(readStickyCookie(`a=1; ${STICKY_COOKIE_NAME}=${TOKEN}; b=2`), TOKEN);
  assert.equal(readStickyCookie(`x${STICKY_COOKIE_NAME}=nope; a=1`), undefined);
  assert.equal(readStickyCookie(`${STICKY_COOKIE_NAME}x=nope`), undefined);
  assert.equal(readStickyCookie(`${STICKY_COOKIE_NAME}=${TOKEN}; ${STICKY_COOKIE_NAME}=other`), TOKEN, 'first wins');
  assert.equal(readStickyCookie(`${STICKY_COOKIE_NAME}=%zz`), '%zz', 'no URI decoding, no throw');
});

test('stripStickyCookie removes only our cookie, keeping the rest byte for byte', () => {
  assert.equal(stripStickyCookie(undefined), undefined);
  assert.equal(stripStickyCookie(''), undefined);
  assert.equal(stripStickyCookie('a=1;b=%20x'), 'a=1;b=%20x', 'untouched without our cookie');
  assert.equal(stripStickyCookie(`${STICKY_COOKIE_NAME}=${TOKEN}`), undefined);
  assert.equal(stripStickyCookie(`a=1; ${STICKY_COOKIE_NAME}=${TOKEN}; b="q v"`), 'a=1; b="q v"');
  assert.equal(stripStickyCookie(`${STICKY_COOKIE_NAME}=x;${STICKY_COOKIE_NAME}=y; keep=${STICKY_COOKIE_NAME}`), `keep=${STICKY_COOKIE_NAME}`);
  assert.equal(stripStickyCookie(`x${STICKY_COOKIE_NAME}=1; ${STICKY_COOKIE_NAME} =2`), `x${STICKY_COOKIE_NAME}=1`);
});

test('property: stripping never throws and never leaves our cookie behind', () => {
  const part = fc.oneof(fc.string(), fc.constant(`${STICKY_COOKIE_NAME}=${TOKEN}`), fc.constant(STICKY_COOKIE_NAME));
  fc.assert(
    fc.property(fc.array(part, { maxLength: 6 }), fc.constantFrom(';', '; ', ' ;'), (parts, sep) => {
      const header = parts.join(sep);
      const stripped = stripStickyCookie(header);
      assert.ok(readStickyCookie(header) === undefined || readStickyCookie(stripped) === undefined);
      if (stripped !== undefined) assert.ok(stripped.trim() !== '');
    }),
  );
});

test('stickySetCookie: Path=/; HttpOnly; SameSite=Lax, Max-Age in seconds, Secure on request', () => {
  const persistent = stickySetCookie(TOKEN, { maxAgeMs: 3_600_000, secure: false });
  assert.equal(persistent, `${STICKY_COOKIE_NAME}=${TOKEN}; Max-Age=3600; Path=/; HttpOnly; SameSite=Lax`);
  const parsed = parseSetCookie(stickySetCookie(TOKEN, { maxAgeMs: 1500, secure: true }));
  assert.equal(parsed.value, TOKEN);
  assert.equal(parsed.maxAge, 2, 'rounded up, never Max-Age=0');
  assert.equal(parsed.secure, true);
  assert.equal(parsed.httpOnly, true);
  assert.equal(parsed.sameSite, 'lax');
  assert.equal(parsed.path, '/');
  const session = stickySetCookie(TOKEN, { maxAgeMs: 0, secure: true });
  assert.equal(session, `${STICKY_COOKIE_NAME}=${TOKEN}; Path=/; HttpOnly; Secure; SameSite=Lax`);
});
