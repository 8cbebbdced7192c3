// access_log labels (docs/access-log.md): GoDoxy's dotted and YAML forms, precedence per option,
// the pool's oldest member, and a bad option costing that alias only.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RouteSpec } from '../routes/index.ts';
import { container, options, replica } from '../../test/fixtures/labels/containers.ts';
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

describe('access_log labels', () => {
  test('GoDoxy\'s own label test (config_test.go) under an alias: every option read', () => {
    const r = one({
      'proxy.aliases': 'app',
      'proxy.app.access_log.format': 'combined',
      'proxy.app.access_log.path': '/tmp/access.log',
      'proxy.app.access_log.filters.status_codes.values': '200-299',
      'proxy.app.access_log.filters.method.values': 'GET, POST',
      'proxy.app.access_log.filters.headers.values': 'foo=bar, baz',
      'proxy.app.access_log.filters.headers.negative': 'true',
      'proxy.app.access_log.filters.cidr.values': '192.168.10.0/24',
      'proxy.app.access_log.fields.headers.default': 'keep',
      'proxy.app.access_log.fields.headers.config.foo': 'redact',
      'proxy.app.access_log.fields.query.default': 'drop',
      'proxy.app.access_log.fields.query.config.foo': 'keep',
      'proxy.app.access_log.fields.cookies.default': 'redact',
      'proxy.app.access_log.fields.cookies.config.foo': 'keep',
    });
    assert.deepEqual(r.errors, []);
    const a = route(r).accessLog;
    assert.equal(a?.format, 'combined');
    assert.equal(a?.path, '/tmp/access.log');
    assert.deepEqual(a?.filters.statusCodes, { negative: false, values: [[200, 299]] });
    assert.deepEqual(a?.filters.method?.values, ['GET', 'POST']);
    assert.deepEqual(a?.filters.headers, { negative: true, values: [{ name: 'foo', value: 'bar' }, { name: 'baz', value: undefined }] });
    assert.deepEqual(a?.fields.query, { default: 'drop', config: { foo: 'keep' } });
    assert.deepEqual(a?.fields.cookies, { default: 'redact', config: { foo: 'keep' } });
  });

  test('the block as YAML (whole, or one part), inside the alias\'s YAML, and a dotted label beating the YAML', () => {
    const whole = one({ 'proxy.aliases': 'app', 'proxy.app.access_log': 'format: json\npath: /l/app.json\nretention: last 100\nfilters:\n  status_codes:\n    values: [404, 500-599]\n' });
    assert.deepEqual(whole.errors, []);
    assert.equal(route(whole).accessLog?.format, 'json');
    assert.deepEqual(route(whole).accessLog?.retention, { kind: 'last', lines: 100 });
    assert.deepEqual(route(whole).accessLog?.filters.statusCodes?.values, [[404, 404], [500, 599]]);
    const part = one({ 'proxy.aliases': 'app', 'proxy.app.access_log.path': '/l/a.log', 'proxy.app.access_log.filters': 'method: { values: [GET], negative: true }' });
    assert.deepEqual(route(part).accessLog?.filters.method, { negative: true, values: ['GET'] });
    const inAlias = one({ 'proxy.aliases': 'app', 'proxy.app': 'port: 80\naccess_log:\n  path: /l/yaml.log\n  format: common\n', 'proxy.app.access_log.format': 'json' });
    assert.deepEqual(inAlias.errors, []);
    assert.equal(route(inAlias).accessLog?.path, '/l/yaml.log');
    assert.equal(route(inAlias).accessLog?.format, 'json', 'the dotted label wins');
  });

  test('precedence per option: a named alias beats `*`; `*` gives every alias a log', () => {
    const r = one({ 'proxy.aliases': 'app, web', 'proxy.*.access_log.path': '/l/all.log', 'proxy.web.access_log.format': 'common', 'proxy.app.access_log.path': '/l/app.log' });
    assert.deepEqual(r.errors, []);
    assert.equal(route(r, 'app').accessLog?.path, '/l/app.log');
    assert.equal(route(r, 'web').accessLog?.path, '/l/all.log');
    assert.equal(route(r, 'web').accessLog?.format, 'common');
  });

  test('a bad option is an error on its label and costs that alias only', () => {
    const r = one({ 'proxy.aliases': 'app, web', 'proxy.app.access_log.path': '/l/a.log', 'proxy.app.access_log.retention': '30 lines', 'proxy.web.port': '80' });
    assert.deepEqual(r.errors.map((e) => [e.code, e.key]), [['LABEL_BAD_ACCESS_LOG', 'proxy.app.access_log.retention']]);
    assert.match(r.errors[0]!.message, /^access_log\.retention: .*unknown unit "lines"/);
    assert.equal(r.routes.some((x) => x.name === 'app'), false);
    assert.equal(route(r, 'web').accessLog, undefined);
    const missing = one({ 'proxy.aliases': 'app', 'proxy.app.access_log.format': 'json' });
    assert.deepEqual(missing.errors.map((e) => [e.code, e.key]), [['LABEL_BAD_ACCESS_LOG', 'proxy.app.access_log.format']]);
    assert.match(missing.errors[0]!.message, /path or stdout is required/);
    const typo = one({ 'proxy.aliases': 'app', 'proxy.app.access_log.pth': '/x' });
    assert.match(typo.errors[0]?.message ?? '', /unknown key "pth"/);
  });

  test('a pool logs with its oldest member\'s access_log', () => {
    const r = parseContainers([
      replica('shop', 'web', 2, { createdAt: 2000, labels: { 'proxy.aliases': 'web', 'proxy.web.access_log.path': '/l/new.log' } }),
      replica('shop', 'web', 1, { createdAt: 1000, labels: { 'proxy.aliases': 'web', 'proxy.web.access_log.path': '/l/old.log' } }),
    ], options());
    assert.equal(route(r, 'web').accessLog?.path, '/l/old.log');
  });
});
