// docs/errors.md and the catalogue never drift: every registered code has its row (status,
// log-only mark, docs link) and every row is a registered code; each link's section exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ERRORS } from './error-catalogue.ts';

const DOCS = resolve(import.meta.dirname, '../../docs');

interface Row { status: number; logOnly: boolean; docs: string }

function tableRows(): Map<string, Row> {
  const rows = new Map<string, Row>();
  for (const line of readFileSync(resolve(DOCS, 'errors.md'), 'utf8').split('\n')) {
    const m = /^\| `([A-Z0-9_]+)` \| (\d{3})( \(log only\))? \| .+ \| \[[^\]]+\]\(([^)]+)\) \|$/.exec(line);
    if (m === null) {
      assert.doesNotMatch(line, /^\| `[A-Z]/, `a code row docs/errors.md cannot parse: ${line}`);
      continue;
    }
    assert.ok(!rows.has(m[1]!), `${m[1]} is listed twice`);
    rows.set(m[1]!, { status: Number(m[2]), logOnly: m[3] !== undefined, docs: m[4]! });
  }
  return rows;
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
}

function anchors(page: string): Set<string> {
  const text = readFileSync(resolve(DOCS, page), 'utf8');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!)));
}

test('every registered code is in docs/errors.md with its status, log-only mark and docs link', () => {
  const rows = tableRows();
  for (const [code, e] of Object.entries(ERRORS)) {
    const row = rows.get(code);
    assert.ok(row !== undefined, `${code} is registered but not listed in docs/errors.md`);
    assert.deepEqual(row, { status: e.status, logOnly: e.logOnly === true, docs: e.docs }, code);
  }
});

test('every code in docs/errors.md is registered', () => {
  for (const code of tableRows().keys()) assert.ok(Object.hasOwn(ERRORS, code), `docs/errors.md lists ${code}, which no module registers`);
});

test('every docs link of the catalogue names a page and a section that exist', () => {
  for (const [code, e] of Object.entries(ERRORS)) {
    const [page, anchor] = e.docs.split('#') as [string, string];
    assert.ok(existsSync(resolve(DOCS, page)), `${code}: docs/${page} does not exist`);
    assert.ok(anchors(page).has(anchor), `${code}: docs/${page} has no section #${anchor}`);
  }
});

test('the slug rule matches GitHub on the headings the catalogue links to', () => {
  assert.equal(slug('Access control (middlewares, rules): refused, never served unprotected'), 'access-control-middlewares-rules-refused-never-served-unprotected');
  assert.equal(slug('Timeouts (`entrypoint.timeouts`)'), 'timeouts-entrypointtimeouts');
});
