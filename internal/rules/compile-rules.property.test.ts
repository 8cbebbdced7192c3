// Property tests (DESIGN.md): the rules parser never throws on any text or list, and a compiled
// rule list never throws on any request; unsupported pieces always fail closed (no rules).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compileRules, runRules, type RuleRequest } from './index.ts';

const pieces = ['path', 'header', 'method', 'remote', 'query', 'cookie', 'host', 'proto', 'route', 'basic_auth', 'default', 'glob(', 'regex(', ')', '(', '{', '}', '|', '&', '!', '\n', ' ', '"', "'", '`', '\\', '$', '${X}', '#', '//', '/*', '*/', 'pass', 'error', '403', 'redirect', 'rewrite', 'set', 'header', 'resp_header', '/a/*', '10.0.0.0/8', 'x'];

const text = fc.array(fc.oneof(fc.constantFrom(...pieces), fc.string({ maxLength: 4 })), { maxLength: 40 }).map((a) => a.join(''));

function req(path: string): RuleRequest {
  const headers: string[] = ['Cookie', 'a=b; c="d"', 'X-A', 'y'];
  return {
    method: 'GET', host: 'h', secure: false, httpVersionMajor: 1, clientIp: '10.1.2.3', route: 'r', path,
    headerValues: (n) => headers.filter((_, i) => i % 2 === 1 && headers[i - 1]!.toLowerCase() === n),
    editHeader: (op, n, v) => { if (op !== 'remove') headers.push(n, v); },
    basicAuth: () => false,
  };
}

test('compileRules never throws, and what compiles never throws on a request', () => {
  fc.assert(fc.property(text, fc.string({ maxLength: 30 }).map((s) => `/${s}`), (src, path) => {
    const r = compileRules(src);
    if (r.ok) runRules(r.rules, req(path.replace(/[^\x21-\x7e]/g, '')));
  }), { numRuns: 2000 });
});

test('a YAML list of anything never throws', () => {
  fc.assert(fc.property(fc.array(fc.oneof(fc.anything(), fc.record({ name: fc.string(), on: text, do: text }))), (items) => {
    compileRules(items);
  }), { numRuns: 500 });
});

test('an unsupported command anywhere fails the whole rule list (no partial rules)', () => {
  fc.assert(fc.property(fc.constantFrom('serve /x', 'proxy http://a', 'require_auth', 'log info /dev/stdout x', 'set query a b', 'notify info n t b'), fc.nat(3), (cmd, at) => {
    const rules = ['path /a {\n  pass\n}', 'default {\n  error 403 no\n}', 'header X {\n  set header Y z\n}'];
    rules.splice(at % (rules.length + 1), 0, `path /b {\n  ${cmd}\n}`);
    const r = compileRules(rules.join('\n'));
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.problems[0]!.unsupported, true);
  }));
});
