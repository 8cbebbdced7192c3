import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_HEADER_LINES, checkRequest, originFormPath } from './index.ts';
import type { RequestHead, RequestVerdict } from './index.ts';

function req(url: string, rawHeaders: string[] = ['Host', 'app.example'], method = 'GET', httpVersion = '1.1'): RequestHead {
  return { method, url, httpVersion, rawHeaders };
}

function code(v: RequestVerdict): string {
  return v.ok ? 'ok' : `${v.status} ${v.code}`;
}

test('a normal request is accepted with its path and routing host', () => {
  assert.deepEqual(checkRequest(req('/x?y=1', ['Host', 'App.Example:8080'])), { ok: true, path: '/x?y=1', host: 'app.example' });
  assert.deepEqual(checkRequest(req('/', ['Host', ''])), { ok: true, path: '/', host: undefined }, 'empty Host: no route, not an error');
  assert.deepEqual(checkRequest(req('/', [], 'GET', '1.0')), { ok: true, path: '/', host: undefined }, 'HTTP/1.0 may omit Host');
});

test('header line cap counts rawHeaders (431), the padding-smuggling defence (reliability A5)', () => {
  const padding = (n: number) => Array.from({ length: n }, (_, i) => [`X-Pad-${i}`, 'a']).flat();
  assert.equal(code(checkRequest(req('/', ['Host', 'a', ...padding(MAX_HEADER_LINES - 1)]))), 'ok');
  assert.equal(code(checkRequest(req('/', ['Host', 'a', ...padding(MAX_HEADER_LINES)]))), '431 HTTP_TOO_MANY_HEADERS');
  assert.equal(code(checkRequest(req('/', ['Host', 'a', ...padding(1100), 'Content-Length', '5']))), '431 HTTP_TOO_MANY_HEADERS');
  assert.equal(code(checkRequest(req('/', ['Host', 'a', ...padding(10)]), 5)), '431 HTTP_TOO_MANY_HEADERS');
});

test('CONNECT is 405; versions other than 1.0/1.1 are 505', () => {
  assert.equal(code(checkRequest(req('a.example:443', ['Host', 'a.example:443'], 'CONNECT'))), '405 HTTP_CONNECT_NOT_ALLOWED');
  assert.equal(code(checkRequest(req('/', ['Host', 'a'], 'GET', '2.0'))), '505 HTTP_VERSION_NOT_SUPPORTED');
  assert.equal(code(checkRequest(req('/', ['Host', 'a'], 'GET', '0.9'))), '505 HTTP_VERSION_NOT_SUPPORTED');
});

test('Host: duplicates, missing on 1.1, invalid (reliability B1, B2)', () => {
  assert.equal(code(checkRequest(req('/', ['Host', 'a', 'Host', 'a']))), '400 HTTP_DUPLICATE_HOST');
  assert.equal(code(checkRequest(req('/', ['Host', 'a', 'host', 'b']))), '400 HTTP_DUPLICATE_HOST');
  assert.equal(code(checkRequest(req('/', ['Accept', '*/*']))), '400 HTTP_MISSING_HOST');
  for (const h of ['a/b', 'u@a', 'a b', 'a:99999', 'a..b']) assert.equal(code(checkRequest(req('/', ['Host', h]))), '400 HTTP_BAD_HOST', h);
});

test('request targets that are not origin-form are refused (reliability B4)', () => {
  for (const url of ['//evil.example/x', '/\\evil.example/x', 'evil.example', 'x', '', 'a.example:443', '/x#frag', '/a b', '/a\u007f', '/ä', 'ftp://a/x', 'http:/a', 'http://', 'http://@/x']) {
    assert.equal(code(checkRequest(req(url))), '400 HTTP_BAD_TARGET', JSON.stringify(url));
  }
  assert.equal(code(checkRequest(req('*'))), '400 HTTP_BAD_TARGET');
  assert.deepEqual(checkRequest(req('*', ['Host', 'a'], 'OPTIONS')), { ok: true, path: '*', host: 'a' });
  assert.equal(code(checkRequest({ httpVersion: '1.1', rawHeaders: ['Host', 'a'] })), '400 HTTP_BAD_TARGET', 'no url at all');
});

test('absolute-form: agreeing authority becomes origin-form, disagreeing is 400 (reliability B3)', () => {
  assert.deepEqual(checkRequest(req('http://App.Example/x?q=1', ['Host', 'app.example'])), { ok: true, path: '/x?q=1', host: 'app.example' });
  assert.deepEqual(checkRequest(req('HTTP://app.example', ['Host', 'app.example:80'])), { ok: true, path: '/', host: 'app.example' });
  assert.deepEqual(checkRequest(req('https://app.example:443?q', ['Host', 'app.example'])), { ok: true, path: '/?q', host: 'app.example' });
  assert.deepEqual(checkRequest(req('http://app.example/x', [], 'GET', '1.0')), { ok: true, path: '/x', host: 'app.example' }, 'authority routes without Host');
  assert.equal(code(checkRequest(req('http://other.example/x', ['Host', 'app.example']))), '400 HTTP_HOST_MISMATCH');
  assert.equal(code(checkRequest(req('http://app.example:8080/x', ['Host', 'app.example']))), '400 HTTP_HOST_MISMATCH');
  assert.equal(code(checkRequest(req('https://app.example/x', ['Host', 'app.example:80']))), '400 HTTP_HOST_MISMATCH');
  assert.equal(code(checkRequest(req('http://app.example/x', ['Host', '']))), '400 HTTP_HOST_MISMATCH');
  assert.equal(code(checkRequest(req('http://app.example//evil/x', ['Host', 'app.example']))), '400 HTTP_BAD_TARGET');
  assert.equal(code(checkRequest(req('http://user@app.example/x', ['Host', 'app.example']))), '400 HTTP_BAD_TARGET');
});

test('framing: CL+TE, duplicate or odd Content-Length, odd Transfer-Encoding (reliability A1, A3, A4)', () => {
  const h = (...more: string[]) => ['Host', 'a', ...more];
  assert.equal(code(checkRequest(req('/', h('Content-Length', '0', 'Transfer-Encoding', 'chunked'), 'POST'))), '400 HTTP_CONFLICTING_FRAMING');
  assert.equal(code(checkRequest(req('/', h('Transfer-Encoding', 'chunked', 'content-length', '5'), 'POST'))), '400 HTTP_CONFLICTING_FRAMING');
  assert.equal(code(checkRequest(req('/', h('Content-Length', '5', 'Content-Length', '6'), 'POST'))), '400 HTTP_DUPLICATE_CONTENT_LENGTH');
  assert.equal(code(checkRequest(req('/', h('Content-Length', '5', 'Content-Length', '5'), 'POST'))), '400 HTTP_DUPLICATE_CONTENT_LENGTH');
  for (const cl of ['2, 2', '+2', '-1', '0x2', '', '1'.repeat(23), 'abc']) {
    assert.equal(code(checkRequest(req('/', h('Content-Length', cl), 'POST'))), '400 HTTP_BAD_CONTENT_LENGTH', cl);
  }
  for (const te of ['gzip, chunked', 'chunked, gzip', 'identity', 'xchunked', '']) {
    assert.equal(code(checkRequest(req('/', h('Transfer-Encoding', te), 'POST'))), '400 HTTP_BAD_TRANSFER_ENCODING', te);
  }
  assert.equal(code(checkRequest(req('/', h('Transfer-Encoding', 'chunked', 'Transfer-Encoding', 'chunked'), 'POST'))), '400 HTTP_BAD_TRANSFER_ENCODING');
  assert.equal(code(checkRequest(req('/', h('Transfer-Encoding', 'chunked'), 'POST', '1.0'))), '400 HTTP_BAD_TRANSFER_ENCODING');
  assert.equal(code(checkRequest(req('/', h('Transfer-Encoding', ' CHUNKED '), 'POST'))), 'ok');
  assert.equal(code(checkRequest(req('/', h('Content-Length', ' 12 '), 'POST'))), 'ok');
});

test('originFormPath', () => {
  assert.equal(originFormPath('/a/b?c=d'), '/a/b?c=d');
  assert.equal(originFormPath('/'), '/');
  assert.equal(originFormPath('http://h/p?q'), '/p?q');
  assert.equal(originFormPath('https://h'), '/');
  assert.equal(originFormPath('*'), '*');
  for (const bad of [undefined, '', '//h/p', '/\\h', 'h/p', 'http://h//x', '/p#f', 'http://h/p#f']) assert.equal(originFormPath(bad), undefined, String(bad));
});

test('property: checkRequest never throws, and accepted paths never name another host', () => {
  const target = fc.oneof(
    fc.string(),
    fc.string({ unit: fc.constantFrom(...'/\\:@.#?*ahtp '.split('')), maxLength: 20 }),
    fc.webUrl({ withQueryParameters: true }),
    fc.webPath(),
  );
  const headers = fc.array(fc.tuple(fc.constantFrom('Host', 'host', 'Content-Length', 'Transfer-Encoding', 'Accept'), fc.oneof(fc.string({ maxLength: 8 }), fc.domain())), { maxLength: 5 });
  fc.assert(
    fc.property(target, headers, fc.constantFrom('GET', 'POST', 'OPTIONS', 'CONNECT'), fc.constantFrom('1.0', '1.1', '2.0'), (url, pairs, method, version) => {
      const v = checkRequest({ method, url, httpVersion: version, rawHeaders: pairs.flat() });
      if (!v.ok) return;
      assert.ok(v.path === '*' || (v.path.startsWith('/') && !v.path.startsWith('//') && !v.path.startsWith('/\\') && !v.path.includes('#')), v.path);
      // Resolved against an upstream, the path must stay on that upstream.
      if (v.path !== '*') assert.equal(new URL(v.path, 'http://upstream.invalid').host, 'upstream.invalid');
      assert.equal(originFormPath(v.path), v.path);
    }),
    { numRuns: 5000 },
  );
});
