// ESLint rule `bellhop/module-boundaries`: the folder boundaries of DESIGN.md, enforced rather
// than hoped for. A module is a folder internal/<name>/ or pkg/<name>/; its index.ts names its
// public surface. The rule resolves every relative import (static, `export … from`, dynamic
// `import()` and `import('…').Type`) against the importing file and reports:
//   - another module's file other than its index.ts (its own folder's files are fine);
//   - pkg/ importing internal/ (pkg/ could be published as is);
//   - internal/ or pkg/ importing cmd/ (dependencies point cmd → internal → pkg);
//   - a file that is not a test importing test/.
// A plain no-restricted-imports pattern sees only the import text, which means different things
// at different folder depths (`../routes/x.ts` is a module in internal/, test/routes/ in test/),
// and it skips dynamic import(); resolving the path avoids both.
import type { Rule } from 'eslint';
import { dirname, relative, resolve, sep } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');

interface Area {
  /** internal, pkg, cmd, test, tools, … (first path segment). */
  top: string;
  /** `internal/routes`: the unit whose files may import each other freely. */
  unit: string;
  /** True for internal/<name>/ and pkg/<name>/: imported only through index.ts. */
  module: boolean;
}

function areaOf(rel: string): Area {
  const parts = rel.split('/');
  const top = parts[0] ?? '';
  if ((top === 'internal' || top === 'pkg' || top === 'cmd') && parts.length >= 3) {
    return { top, unit: `${top}/${parts[1] ?? ''}`, module: top !== 'cmd' };
  }
  return { top, unit: top, module: false };
}

function isTest(rel: string): boolean {
  return rel.startsWith('test/') || rel.endsWith('.test.ts') || rel.includes('.test-support.');
}

/** What is wrong with `fromRel` importing `toRel` (paths relative to the repository), if anything. */
export function boundaryProblem(fromRel: string, toRel: string): { messageId: string; data: Record<string, string> } | undefined {
  const from = areaOf(fromRel);
  const to = areaOf(toRel);
  if (from.unit === to.unit) return undefined;
  const data = { target: toRel, module: to.unit, from: from.top };
  if (from.top === 'pkg' && to.top === 'internal') return { messageId: 'pkgImportsInternal', data };
  if ((from.top === 'internal' || from.top === 'pkg') && to.top === 'cmd') return { messageId: 'importsCmd', data };
  if (to.top === 'test' && !isTest(fromRel)) return { messageId: 'importsTest', data };
  if (to.module && toRel !== `${to.unit}/index.ts`) return { messageId: 'notThroughIndex', data };
  return undefined;
}

export const moduleBoundaries: Rule.RuleModule = {
  meta: {
    type: 'problem',
    docs: { description: 'Import another module only through its index.ts; pkg/ never imports internal/.' },
    schema: [],
    messages: {
      notThroughIndex: 'Import {{module}} through {{module}}/index.ts, its public surface, not {{target}} (export it there if it is needed outside).',
      pkgImportsInternal: 'pkg/ never imports internal/ ({{target}}): pkg/ could be published as is.',
      importsCmd: '{{from}}/ never imports cmd/ ({{target}}): dependencies point cmd → internal → pkg.',
      importsTest: 'Only tests import test/ ({{target}}).',
    },
  },
  create(context) {
    const file = context.physicalFilename;
    const fromRel = relative(ROOT, file).split(sep).join('/');
    if (fromRel.startsWith('..')) return {};
    function check(node: Rule.Node, specifier: unknown): void {
      if (typeof specifier !== 'string' || !specifier.startsWith('.')) return;
      const toRel = relative(ROOT, resolve(dirname(file), specifier)).split(sep).join('/');
      if (toRel.startsWith('..')) return;
      const problem = boundaryProblem(fromRel, toRel);
      if (problem !== undefined) context.report({ node, ...problem });
    }
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => check(node, node.source?.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => check(node, node.source.type === 'Literal' ? node.source.value : undefined),
      // `import('../x/y.ts').Type` in a type position (typescript-eslint's TSImportType).
      TSImportType: (node: Rule.Node & { argument?: { type?: string; literal?: { value?: unknown } } }) => {
        if (node.argument?.type === 'TSLiteralType') check(node, node.argument.literal?.value);
      },
    };
  },
};
