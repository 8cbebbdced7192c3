import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { join } from 'node:path';
import { RuleTester } from 'eslint';
import tseslint from 'typescript-eslint';
import { boundaryProblem, moduleBoundaries } from './module-boundaries.ts';

const problem = (from: string, to: string): string | undefined => boundaryProblem(from, to)?.messageId;

describe('boundaryProblem', () => {
  it('another module only through its index.ts', () => {
    assert.equal(problem('internal/labels/a.ts', 'internal/routes/index.ts'), undefined);
    assert.equal(problem('internal/labels/a.ts', 'internal/routes/route-spec.ts'), 'notThroughIndex');
    assert.equal(problem('internal/labels/a.ts', 'pkg/balance/pool.ts'), 'notThroughIndex');
    assert.equal(problem('cmd/bellhop/app.ts', 'internal/proxy/router.ts'), 'notThroughIndex');
    assert.equal(problem('test/integration/x.test.ts', 'internal/config/read-document.ts'), 'notThroughIndex');
    assert.equal(problem('internal/labels/x.test.ts', 'internal/docker/container-record.ts'), 'notThroughIndex');
  });
  it('own folder, test helpers and the composition root are free', () => {
    assert.equal(problem('internal/config/a.ts', 'internal/config/b.ts'), undefined);
    assert.equal(problem('internal/docker/a.test.ts', 'internal/docker/fixtures/x.json'), undefined);
    assert.equal(problem('internal/docker/a.test.ts', 'test/support/fake-docker-api.ts'), undefined);
    assert.equal(problem('test/integration/a.test.ts', 'test/support/raw-client.ts'), undefined);
    assert.equal(problem('test/integration/a.test.ts', 'cmd/bellhop/app.ts'), undefined);
    assert.equal(problem('cmd/bellhop/main.ts', 'cmd/bellhop/app.ts'), undefined);
  });
  it('dependencies point one way: cmd → internal → pkg; only tests import test/', () => {
    assert.equal(problem('pkg/balance/pool.ts', 'internal/routes/index.ts'), 'pkgImportsInternal');
    assert.equal(problem('internal/api/a.ts', 'cmd/bellhop/app.ts'), 'importsCmd');
    assert.equal(problem('pkg/http/a.ts', 'cmd/bellhop/app.ts'), 'importsCmd');
    assert.equal(problem('internal/api/a.ts', 'test/support/raw-client.ts'), 'importsTest');
    assert.equal(problem('internal/wake/x.test-support.ts', 'test/fixtures/route-specs.ts'), undefined);
  });
});

RuleTester.describe = describe;
RuleTester.it = it;
const root = join(import.meta.dirname, '..');
const tester = new RuleTester({ languageOptions: { ecmaVersion: 'latest', sourceType: 'module' } });
const at = join(root, 'internal/labels/parse-containers.ts');

tester.run('module-boundaries', moduleBoundaries, {
  valid: [
    { filename: at, code: "import { a } from '../routes/index.ts';" },
    { filename: at, code: "import { a } from './value-parsers.ts';" },
    { filename: at, code: "import { parse } from 'yaml';" },
    { filename: at, code: "export * from './labelled-container.ts';" },
  ],
  invalid: [
    { filename: at, code: "import { a } from '../routes/route-spec.ts';", errors: [{ messageId: 'notThroughIndex' }] },
    { filename: at, code: "export { a } from '../routes/route-spec.ts';", errors: [{ messageId: 'notThroughIndex' }] },
    { filename: at, code: "export * from '../../pkg/balance/pool.ts';", errors: [{ messageId: 'notThroughIndex' }] },
    { filename: at, code: "const m = await import('../docker/container-record.ts');", errors: [{ messageId: 'notThroughIndex' }] },
    { filename: join(root, 'pkg/balance/pool.ts'), code: "import { a } from '../../internal/routes/index.ts';", errors: [{ messageId: 'pkgImportsInternal' }] },
  ],
});

const tsTester = new RuleTester({ languageOptions: { parser: tseslint.parser, ecmaVersion: 'latest', sourceType: 'module' } });

tsTester.run('module-boundaries (TypeScript)', moduleBoundaries, {
  valid: [
    { filename: at, code: "import type { RouteSpec } from '../routes/index.ts';" },
  ],
  invalid: [
    { filename: at, code: "import type { RouteSpec } from '../routes/route-spec.ts';", errors: [{ messageId: 'notThroughIndex' }] },
    { filename: at, code: "type T = import('../routes/route-spec.ts').RouteSpec;", errors: [{ messageId: 'notThroughIndex' }] },
  ],
});
