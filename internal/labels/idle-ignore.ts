// `proxy.idle_ignore.*` (container level): requests that are neither activity nor a reason to
// wake — uptime monitors (Sablier #708, Lazytainer #29). Three lists, set one by one with dotted
// labels or together as a YAML mapping in `proxy.idle_ignore`; a dotted label beats the same
// field inside the YAML value, as for per-alias labels.

import { parseTrustedProxies } from '../../pkg/realip/index.ts';
import type { IdleSpec } from '../routes/index.ts';
import { IDLE_IGNORE_FIELDS, guessIdleIgnoreField, idleIgnoreField } from './field-schema.ts';
import type { LabelProblem } from './label-collect.ts';
import { LabelErrorCode as C } from './label-error-codes.ts';
import { readPath, readText } from './value-parsers.ts';
import type { Parsed } from './value-parsers.ts';
import { parseYamlList, parseYamlMapping } from './yaml-label.ts';

export type IdleIgnore = NonNullable<IdleSpec['ignore']>;

type Raw = Map<string, { value: string; label: string }>;

const fail = (code: string, message: string): Parsed<never> => ({ ok: false, code, message });

/**
 * The items of a list value, empty ones kept (they are errors here, not noise to drop). A YAML
 * list (inside the YAML form), a one-line `[a, b]`, or text split on commas — and also on
 * spaces unless `commasOnly` (a User-Agent fragment may contain spaces).
 */
function readItems(v: unknown, what: string, commasOnly: boolean): Parsed<string[]> {
  let items: unknown[];
  if (Array.isArray(v)) items = v as unknown[];
  else if (typeof v === 'string' && v.trimStart().startsWith('[')) {
    const t = readText(v); // refuses line breaks before YAML sees them
    if (!t.ok) return t;
    const r = parseYamlList(t.value);
    if (!r.ok) return fail(C.BAD_YAML, `${what}: ${r.message}`);
    items = r.items;
  } else {
    const t = readText(v);
    if (!t.ok) return t;
    items = t.value.split(',').flatMap((part) => {
      const p = part.trim();
      return commasOnly || p === '' ? [p] : p.split(/\s+/);
    });
  }
  const out: string[] = [];
  for (const [i, item] of items.entries()) {
    const t = readText(item);
    if (!t.ok) return t;
    if (t.value === '') {
      const where = items.length === 1 ? 'lists nothing' : `has an empty entry (item ${String(i + 1)})`;
      return fail(C.EMPTY_ITEM, `${what} ${where}; remove the label or name at least one`);
    }
    if (!out.includes(t.value)) out.push(t.value);
  }
  if (out.length === 0) return fail(C.EMPTY_ITEM, `${what} lists nothing; remove the label or name at least one`);
  return { ok: true, value: out };
}

function readUserAgents(v: unknown): Parsed<string[]> {
  return readItems(v, 'idle_ignore.user_agents', true);
}

function readFrom(v: unknown): Parsed<string[]> {
  const r = readItems(v, 'idle_ignore.from', false);
  if (!r.ok) return r;
  for (const entry of r.value) {
    // The same strict syntax the matcher compiles with (pkg/realip), so what passes here matches.
    try {
      parseTrustedProxies([entry]);
    } catch {
      return fail(C.BAD_CIDR, `idle_ignore.from: ${JSON.stringify(entry)} is not an IP address or CIDR (e.g. 192.168.1.20, 10.0.5.0/24)`);
    }
  }
  return r;
}

function readPaths(v: unknown): Parsed<string[]> {
  const r = readItems(v, 'idle_ignore.paths', false);
  if (!r.ok) return r;
  const out: string[] = [];
  for (const entry of r.value) {
    const p = readPath(entry, 'idle_ignore.paths entry');
    if (!p.ok) return p;
    if (p.value.includes('?')) return fail(C.BAD_PATH, `idle_ignore.paths entry ${JSON.stringify(entry)} has a query; list the path only (it matches any query)`);
    // `/api/` and `/api` mean the same: the path and everything below it.
    const path = p.value.length > 1 ? p.value.replace(/\/+$/, '') : p.value;
    if (!out.includes(path)) out.push(path);
  }
  return { ok: true, value: out };
}

const READERS: Record<string, (v: unknown) => Parsed<string[]>> = { user_agents: readUserAgents, from: readFrom, paths: readPaths };

/** Reads the idle_ignore group; undefined when it sets nothing (or only wrong things: see problems). */
export function parseIdleIgnore(raw: Raw, problems: LabelProblem[]): IdleIgnore | undefined {
  const chosen = new Map<string, { value: unknown; label: string; inYaml: boolean }>();
  const yaml = raw.get('idle_ignore');
  if (yaml !== undefined) {
    const y = parseYamlMapping(yaml.value);
    if (!y.ok) {
      problems.push({ code: y.message.startsWith('invalid YAML') ? C.BAD_YAML : C.NOT_MAPPING, key: yaml.label, message: y.message });
    } else {
      for (const leaf of y.leaves) {
        const name = leaf.path.join('.');
        const field = leaf.path.length === 1 ? idleIgnoreField(leaf.path[0] ?? '') : undefined;
        if (field === undefined) {
          const known = idleIgnoreField(leaf.path[0] ?? '');
          if (known !== undefined) {
            problems.push({ code: C.NOT_MAPPING, key: yaml.label, message: `field "${known}" is a list, not a mapping (got ${name})` });
            continue;
          }
          const guess = guessIdleIgnoreField(name);
          const hint = guess === undefined ? `; idle_ignore has ${IDLE_IGNORE_FIELDS.join(', ')}` : `; did you mean "${guess}"?`;
          problems.push({ code: C.UNKNOWN_FIELD, key: yaml.label, message: `unknown field "${name}"${hint}` });
          continue;
        }
        if (chosen.has(field)) {
          problems.push({ code: C.DUPLICATE, key: yaml.label, message: `field "${field}" is set twice in ${yaml.label}; keep one` });
          continue;
        }
        chosen.set(field, { value: leaf.value, label: yaml.label, inYaml: true });
      }
    }
  }
  for (const field of IDLE_IGNORE_FIELDS) {
    const dotted = raw.get(`idle_ignore.${field}`);
    if (dotted !== undefined) chosen.set(field, { value: dotted.value, label: dotted.label, inYaml: false });
  }
  const out: IdleIgnore = { userAgents: [], from: [], paths: [] };
  for (const [field, c] of chosen) {
    const r = READERS[field]!(c.value);
    if (!r.ok) {
      problems.push({ code: r.code, key: c.label, message: (c.inYaml ? `field "${field}": ` : '') + r.message });
      continue;
    }
    if (field === 'user_agents') out.userAgents = r.value;
    else if (field === 'from') out.from = r.value;
    else out.paths = r.value;
  }
  return out.userAgents.length + out.from.length + out.paths.length === 0 ? undefined : out;
}
