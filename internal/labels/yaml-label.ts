// The one place labels/ touches the `yaml` package (an accepted exception to "yaml lives in
// internal/config"): label values that hold a YAML mapping (`proxy.app: |`) or a YAML list.

import { parse } from 'yaml';

/** One scalar (or list) inside a YAML label value, at a dotted path relative to the label. */
export interface YamlLeaf {
  path: string[];
  value: unknown;
  /** An empty mapping (`oidc: {}`), listed only with `keepEmptyMappings`. */
  empty?: true | undefined;
}

export type YamlMappingResult = { ok: true; leaves: YamlLeaf[] } | { ok: false; message: string };
export type YamlListResult = { ok: true; items: unknown[] } | { ok: false; message: string };

function parseText(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    // Tabs are not YAML indentation, but people paste them into compose files; GoDoxy
    // accepts them as two spaces, so do we.
    const value: unknown = parse(text.replaceAll('\t', '  '), { prettyErrors: false, maxAliasCount: 50 });
    return { ok: true, value };
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    return { ok: false, message: `invalid YAML: ${msg.split('\n')[0] ?? msg}` };
  }
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  return `a ${typeof v} (${JSON.stringify(v)})`;
}

function flatten(value: Record<string, unknown>, prefix: string[], out: YamlLeaf[], keepEmpty: boolean): void {
  for (const key of Object.keys(value).sort()) {
    const v = value[key];
    const path = [...prefix, key];
    if (isMapping(v)) {
      if (Object.keys(v).length === 0) {
        if (keepEmpty) out.push({ path, value: v, empty: true });
        continue;
      }
      flatten(v, path, out, keepEmpty);
    } else {
      out.push({ path, value: v });
    }
  }
}

/**
 * Parses a label value as a YAML mapping and flattens it to leaves. Empty text is `{}`. Empty
 * mappings set nothing and are left out, unless `keepEmptyMappings`: then they are leaves too,
 * because one can still mean something (`middlewares: { oidc: {} }` turns OIDC on).
 */
export function parseYamlMapping(text: string, opts: { keepEmptyMappings?: boolean } = {}): YamlMappingResult {
  if (text.trim() === '') return { ok: true, leaves: [] };
  const r = parseText(text);
  if (!r.ok) return r;
  if (r.value === null || r.value === undefined) return { ok: true, leaves: [] };
  if (!isMapping(r.value)) return { ok: false, message: `expected a YAML mapping of fields (e.g. "port: 8080"), got ${describe(r.value)}` };
  const leaves: YamlLeaf[] = [];
  flatten(r.value, [], leaves, opts.keepEmptyMappings === true);
  return { ok: true, leaves };
}

/** Parses `[a, b]` or `- a` lines as a YAML list. */
export function parseYamlList(text: string): YamlListResult {
  const r = parseText(text);
  if (!r.ok) return r;
  if (!Array.isArray(r.value)) return { ok: false, message: `expected a YAML list, got ${describe(r.value)}` };
  return { ok: true, items: r.value as unknown[] };
}
