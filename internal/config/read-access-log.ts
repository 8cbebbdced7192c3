// `entrypoint.access_log` and `routes.<name>.access_log` (docs/access-log.md): GoDoxy's block,
// read by internal/accesslog's one grammar (labels use it too); each problem gets the line of
// the key it names. Whether the file can be opened is checked at start (and by `bellhop check`).
import { isMap, isScalar } from 'yaml';
import { parseAccessLog, type AccessLogSpec } from '../accesslog/index.ts';
import type { Entry, EntryReader, Value } from './entry-reader.ts';

/** The deepest node a problem key names (`<key>.filters.method.values`), for its line. */
function nodeOf(reader: EntryReader, root: Value, rootKey: string, problemKey: string): Value {
  if (!problemKey.startsWith(`${rootKey}.`)) return root;
  let node = reader.deref(root);
  let found: Value = root;
  for (const seg of problemKey.slice(rootKey.length + 1).split('.')) {
    if (!isMap(node)) break;
    const pair = node.items.find((p) => {
      const k = reader.deref(p.key as Value);
      return isScalar(k) && String(k.value) === seg;
    });
    if (pair === undefined) break;
    found = pair.key as Value;
    node = reader.deref(pair.value as Value);
  }
  return found;
}

/** One access_log block; undefined after reporting its problems. */
export function readAccessLog(reader: EntryReader, e: Entry, key: string): AccessLogSpec | undefined {
  const n = reader.deref(e.value);
  const raw = n === null || n === undefined ? undefined : (n.toJSON() as unknown);
  const r = parseAccessLog(raw, key);
  if (r.ok) return r.spec;
  for (const p of r.problems) reader.fail('CONFIG_BAD_ACCESS_LOG', p.key, p.message, p.key === key ? e.keyNode : nodeOf(reader, e.value, key, p.key));
  return undefined;
}
