// Middleware labels (docs/middlewares.md): GoDoxy's dotted and YAML forms, precedence, name and
// option folding, did-you-mean errors, refusal of access middlewares Bellhop cannot apply yet.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MiddlewareSpec, RouteSpec } from '../routes/index.ts';
import { container, options } from '../../test/fixtures/labels/containers.ts';
import { parseContainers } from './index.ts';
import type { ParseResult } from './index.ts';

function one(labels: Record<string, string>): ParseResult {
  return parseContainers([container({ name: 'app', labels })], options());
}
function route(r: ParseResult, name = 'app'): RouteSpec {
  const found = r.routes.find((x) => x.name === name);
  assert.ok(found, `route ${name} missing; errors ${JSON.stringify(r.errors)}`);
  return found;
}
function mws(r: ParseResult, name = 'app'): Record<string, Omit<MiddlewareSpec, 'name'>> {
  return Object.fromEntries((route(r, name).middlewares ?? []).map(({ name: n, ...rest }) => [n, rest]));
}

describe('middleware labels', () => {
  test('dotted options: names and option keys fold case and underscores; values stay text', () => {
    const r = one({
      'proxy.app.port': '80',
      'proxy.app.middlewares.CIDRWhitelist.Allow': '10.0.0.0/8, 192.168.0.0/16',
      'proxy.app.middlewares.cidr_whitelist.statusCode': '404',
      'proxy.app.middlewares.rate-limit.average': '10',
    });
    assert.deepEqual(r.errors, []);
    const m = mws(r);
    assert.deepEqual(m.cidr_whitelist, { priority: 10, bypass: [], options: { allow: '10.0.0.0/8, 192.168.0.0/16', status_code: '404' }, key: 'proxy.app.middlewares.cidr_whitelist' });
    assert.deepEqual(m.rate_limit?.options, { average: '10' });
  });

  test('a whole middleware as a YAML value, priority and bypass included', () => {
    const r = one({
      'proxy.app.port': '80',
      'proxy.app.middlewares.rate_limit': 'average: 5\nburst: 10\npriority: 1\nbypass:\n  - path /health\n  - remote 10.0.0.0/8\n',
    });
    assert.deepEqual(r.errors, []);
    assert.deepEqual(mws(r).rate_limit, { priority: 1, bypass: ['path /health', 'remote 10.0.0.0/8'], options: { average: 5, burst: 10 }, key: 'proxy.app.middlewares.rate_limit' });
  });

  test('proxy.<alias>.middlewares as a mapping, and middlewares inside the alias YAML value; header maps keep case', () => {
    const r = one({
      'proxy.app': 'port: 80\nmiddlewares:\n  request:\n    set_headers:\n      X-Custom: a\n',
      'proxy.app.middlewares': 'modify_response:\n  hide_headers: [Server]\nredirect_http: {}\n',
    });
    assert.deepEqual(r.errors, []);
    const m = mws(r);
    assert.deepEqual(Object.keys(m), ['redirect_http', 'request', 'response']);
    assert.deepEqual(m.request?.options, { set_headers: { 'X-Custom': 'a' } });
    assert.deepEqual(m.response?.options, { hide_headers: ['Server'] });
  });

  test('a dotted label beats the same option in a YAML value; a named alias beats *', () => {
    const r = one({
      'proxy.app.port': '80',
      'proxy.app.middlewares.rate_limit': 'average: 5\nburst: 5',
      'proxy.app.middlewares.rate_limit.average': '7',
      'proxy.*.middlewares.rate_limit.burst': '1',
      'proxy.app.middlewares.request.set_headers.X-From-Label': 'v',
    });
    assert.deepEqual(r.errors, []);
    assert.deepEqual(mws(r).rate_limit?.options, { average: '7', burst: 5 });
    assert.deepEqual(mws(r).request?.options, { set_headers: { 'X-From-Label': 'v' } });
  });

  test('an empty value turns a middleware on with its defaults', () => {
    const r = one({ 'proxy.app.port': '80', 'proxy.app.middlewares.redirect_http': '' });
    assert.deepEqual(r.errors, []);
    assert.deepEqual(Object.keys(mws(r)), ['redirect_http']);
  });

  test('an unknown middleware is an error with a did-you-mean; the alias refuses service (fails closed)', () => {
    const r = one({ 'proxy.app.port': '80', 'proxy.app.middlewares.cidr_whitelst.allow': '10.0.0.0/8' });
    assert.deepEqual(r.routes.map((x) => [x.members.length, x.refused !== undefined]), [[0, true]]);
    assert.equal(r.errors[0]?.code, 'LABEL_UNKNOWN_MIDDLEWARE');
    assert.match(r.errors[0]?.message ?? '', /unknown middleware "cidr_whitelst" \(did you mean "cidr_whitelist"\?\)/);
  });

  test('an unknown option is an error naming the option, with a did-you-mean', () => {
    const r = one({ 'proxy.app.port': '80', 'proxy.app.middlewares.rate_limit.averge': '10' });
    assert.deepEqual(r.routes.map((x) => [x.members.length, x.refused !== undefined]), [[0, true]]);
    const e = r.errors.find((x) => x.code === 'LABEL_BAD_MIDDLEWARE');
    assert.ok(e, JSON.stringify(r.errors));
    assert.equal(e.key, 'proxy.app.middlewares.rate_limit.averge');
    assert.match(e.message, /rate_limit has no option "averge" \(did you mean "average"\?\)/);
  });

  test('bad values are errors: a CIDR, a missing allow, a bad bypass rule, a bad priority', () => {
    for (const [labels, re] of [
      [{ 'proxy.app.middlewares.cidr_whitelist.allow': '10.0.0.0/33' }, /cidr_whitelist\.allow/],
      [{ 'proxy.app.middlewares.cidr_whitelist.message': 'no' }, /needs "allow"/],
      [{ 'proxy.app.middlewares.redirect_http.bypass': 'host example.com' }, /bypass rule "host example.com"/],
      [{ 'proxy.app.middlewares.redirect_http.priority': 'first' }, /priority/],
      [{ 'proxy.app.middlewares.rate_limit.average': '0' }, /rate_limit\.average/],
      [{ 'proxy.app.middlewares.request': 'set_headers:\n  Bad Name: x' }, /not a valid header name/],
    ] as Array<[Record<string, string>, RegExp]>) {
      const r = one({ 'proxy.app.port': '80', ...labels });
      assert.deepEqual(r.routes.map((x) => [x.members.length, x.refused !== undefined]), [[0, true]], JSON.stringify(labels));
      assert.ok(r.errors.some((e) => e.code === 'LABEL_BAD_MIDDLEWARE' && re.test(e.message)), `${JSON.stringify(labels)} → ${JSON.stringify(r.errors)}`);
    }
  });

  test('access middlewares Bellhop cannot apply yet still refuse service', () => {
    const r = one({ 'proxy.app.port': '80', 'proxy.app.middlewares.crowdsec': 'api_key: x', 'proxy.app.middlewares.rate_limit.average': '1' });
    assert.ok(route(r).refused, 'refused');
    assert.deepEqual(route(r).refused?.keys, ['proxy.app.middlewares.crowdsec']);
    assert.equal(route(r).middlewares, undefined);
  });

  test('harmless GoDoxy middlewares Bellhop does not implement are ignored with a warning', () => {
    const r = one({ 'proxy.app.port': '80', 'proxy.app.middlewares.modify_html.target': 'body' });
    assert.deepEqual(r.errors, []);
    assert.equal(route(r).middlewares, undefined);
    assert.equal(r.warnings[0]?.code, 'LABEL_IGNORED_FIELD');
  });

  test('a pool runs every member\'s middlewares; a disagreement keeps the oldest\'s', () => {
    const a = container({ name: 'a', createdAt: 1, labels: { 'proxy.a.port': '80', 'proxy.a.load_balance.link': 'pool', 'proxy.a.middlewares.cidr_whitelist.allow': '10.0.0.0/8' } });
    const b = container({ name: 'b', createdAt: 2, labels: { 'proxy.b.port': '80', 'proxy.b.load_balance.link': 'pool', 'proxy.b.middlewares.cidr_whitelist.allow': '192.168.0.0/16', 'proxy.b.middlewares.redirect_http': '' } });
    const r = parseContainers([b, a], options());
    const m = mws(r, 'pool');
    assert.deepEqual(Object.keys(m), ['cidr_whitelist', 'redirect_http']);
    assert.deepEqual(m.cidr_whitelist?.options, { allow: '10.0.0.0/8' });
    assert.ok(r.errors.some((e) => e.code === 'POOL_SETTINGS_CONFLICT' && e.source === 'b'));
  });
});
