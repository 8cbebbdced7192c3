// The rules stage's rule_file (docs/rules.md): read when the route starts, block syntax or
// GoDoxy's YAML list; a missing or broken file is a problem (the route answers 503), never
// a route served without its rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { buildRulesSpec, compileChain, type MiddlewareDeps } from './index.ts';

const files: Record<string, string> = {
  '/r/block.rules': 'path /admin {\n  error 403 no\n}\n',
  '/r/list.yml': '- name: admin\n  on: path /admin\n  do: error 403 no\n',
  '/r/serve.yml': '- on: path /s\n  do: serve /srv\n',
};
const deps: MiddlewareDeps = {
  now: () => 0,
  readFile: (p) => {
    const t = files[p];
    if (t === undefined) throw new Error(`ENOENT: ${p}`);
    return t;
  },
  parseYaml: (t) => parse(t) as unknown,
};

function spec(path: string) {
  const r = buildRulesSpec(path, 'proxy.app.rule_file', 'rule_file');
  assert.equal(r.kind, 'spec', 'checked at parse without reading the file');
  return r.kind === 'spec' ? r.spec : assert.fail();
}

test('rule_file in block syntax or as a YAML list compiles when the route starts', () => {
  for (const f of ['/r/block.rules', '/r/list.yml']) {
    const c = compileChain([spec(f)], deps);
    assert.deepEqual(c.problems, [], f);
    assert.deepEqual(c.chain?.names, ['rules']);
    c.chain?.close();
  }
});

test('a missing rule_file, or one Bellhop cannot run, is a problem: the route refuses (never served without it)', () => {
  const missing = compileChain([spec('/r/none.yml')], deps);
  assert.equal(missing.chain, undefined);
  assert.match(missing.problems[0]!.message, /rule_file \/r\/none\.yml cannot be read/);
  const serve = compileChain([spec('/r/serve.yml')], deps);
  assert.equal(serve.chain, undefined);
  assert.equal(serve.problems[0]!.code, 'MIDDLEWARE_RULES_UNSUPPORTED');
  assert.match(serve.problems[0]!.message, /\/r\/serve\.yml: rules: .*serve/);
});
