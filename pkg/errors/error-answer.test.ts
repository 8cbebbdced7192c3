import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defineErrors, ErrorWriter, mergeCatalogues, renderError, type ErrorSendOptions } from './index.ts';

const CAT = defineErrors({
  DEMO_GONE: { status: 404, message: 'Nothing here', docs: 'demo.md#gone' },
  DEMO_BUSY: { status: 503, message: 'Busy <now>', docs: 'demo.md#busy' },
});

test('defineErrors refuses codes, statuses, messages and links that would not read the same everywhere', () => {
  const ok = { status: 400, message: 'Bad', docs: 'a.md#b' };
  assert.throws(() => defineErrors({ lower_case: ok }), /UPPER_SNAKE/);
  assert.throws(() => defineErrors({ NOPREFIX: ok }), /UPPER_SNAKE/);
  assert.throws(() => defineErrors({ DEMO_X: { ...ok, status: 200 } }), /400-599/);
  assert.throws(() => defineErrors({ DEMO_X: { ...ok, message: 'Bad.' } }), /final period/);
  assert.throws(() => defineErrors({ DEMO_X: { ...ok, docs: 'https://x/y' } }), /page\.md#anchor/);
  assert.ok(Object.isFrozen(CAT) && Object.isFrozen(CAT.DEMO_GONE));
});

test('mergeCatalogues keeps every code once and refuses a code defined twice', () => {
  const other = defineErrors({ OTHER_X: { status: 500, message: 'X', docs: 'o.md#x' } });
  assert.deepEqual(Object.keys(mergeCatalogues(CAT, other)).sort(), ['DEMO_BUSY', 'DEMO_GONE', 'OTHER_X']);
  assert.throws(() => mergeCatalogues(CAT, defineErrors({ DEMO_GONE: { status: 410, message: 'X', docs: 'o.md#x' } })), /DEMO_GONE is defined twice/);
});

test('one shape: code, status and message first, extra facts beside them under error', () => {
  const w = new ErrorWriter(CAT);
  const a = w.answer('DEMO_BUSY', { message: 'app exited', fields: { exitCode: 3, code: 'NOT_ME' }, retryAfterSec: 5 });
  assert.equal(renderError(a, 'json'), '{"error":{"code":"DEMO_BUSY","status":503,"message":"app exited","exitCode":3,"retryAfter":5}}\n');
  assert.equal(renderError(a, 'text'), 'Service Unavailable: app exited\n');
  const html = renderError(w.answer('DEMO_BUSY'), 'html');
  assert.match(html, /<h1>503<\/h1><p>Busy &#60;now&#62;\.<\/p>/);
  assert.match(html, /DEMO_BUSY · Bellhop/);
});

test('bodies with the catalogue sentence are built once; any option renders afresh', () => {
  const w = new ErrorWriter(CAT);
  assert.equal(w.body('DEMO_GONE', { format: 'json' }), w.body('DEMO_GONE', { format: 'json' }));
  assert.notEqual(w.body('DEMO_GONE', { format: 'json', message: 'x' }), w.body('DEMO_GONE', { format: 'json', message: 'x' }));
  assert.notEqual(w.body('DEMO_GONE', { format: 'json' }).toString(), w.body('DEMO_GONE', { format: 'text' }).toString());
});

test('raw: status line, Retry-After and extra headers first, then the JSON body with its length', () => {
  const raw = new ErrorWriter(CAT).raw('DEMO_BUSY', { retryAfterSec: 60, headers: ['X-Bellhop-State', 'asleep'] });
  assert.match(raw, /^HTTP\/1\.1 503 Service Unavailable\r\nRetry-After: 60\r\nX-Bellhop-State: asleep\r\n/);
  const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  assert.deepEqual(JSON.parse(body), { error: { code: 'DEMO_BUSY', status: 503, message: 'Busy <now>', retryAfter: 60 } });
  assert.match(raw, new RegExp(`Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`));
});

test('send: status, type, no-store, Retry-After, extra headers, close; no body for HEAD; a started answer is cut', async (t) => {
  const w = new ErrorWriter(CAT);
  let next: (res: ServerResponse) => void = () => {};
  const server = createServer((_req, res) => next(res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const opts: ErrorSendOptions = { format: 'json', retryAfterSec: 7, close: true, headers: ['x-bellhop-state', 'asleep'] };
  next = (res) => w.send(res, 'DEMO_BUSY', opts);
  let r = await fetch(url);
  assert.equal(r.status, 503);
  assert.equal(r.headers.get('content-type'), 'application/json');
  assert.equal(r.headers.get('cache-control'), 'no-store');
  assert.equal(r.headers.get('retry-after'), '7');
  assert.equal(r.headers.get('x-bellhop-state'), 'asleep');
  assert.equal(r.headers.get('connection'), 'close');
  assert.deepEqual(await r.json(), { error: { code: 'DEMO_BUSY', status: 503, message: 'Busy <now>', retryAfter: 7 } });
  next = (res) => w.send(res, 'DEMO_GONE', { format: 'text' });
  r = await fetch(url, { method: 'HEAD' });
  assert.equal(r.status, 404);
  assert.equal(await r.text(), '');
  next = (res) => {
    res.writeHead(200, { 'content-length': '10' });
    res.write('abc');
    w.send(res, 'DEMO_GONE', { format: 'json' });
  };
  await assert.rejects(fetch(url).then((x) => x.text()));
});
