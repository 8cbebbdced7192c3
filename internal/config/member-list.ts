// A route's `members:` list in the config file, for HTTP and stream routes alike: the list's
// shape, each member's name (default `<route>-<n>`, unique in the route) and weight are read
// here once; what a member's url means is the caller's (an http(s) URL or host:port).
import { isSeq } from 'yaml';
import type { ConfigErrorCode } from './config-error.ts';
import type { Entry, EntryReader, Value } from './entry-reader.ts';

/** One member as the list gives it; `fields` holds its keys (url and the caller's own). */
export interface MemberItem {
  path: string;
  item: Value;
  fields: Map<string, Entry>;
  name: string;
  /** The member's target as `MemberListOptions.url` read it. */
  url: string;
  weight: number | undefined;
}

export interface MemberListOptions {
  /** `routes.<name>` */
  base: string;
  route: string;
  keys: readonly string[];
  example: string;
  /** The code for a problem with the list or a member (CONFIG_BAD_ROUTE, CONFIG_BAD_STREAM). */
  code: ConfigErrorCode;
  /** The code when `members:` is not a list at all. */
  typeCode: ConfigErrorCode;
  /** The code for a member name used twice. */
  duplicateCode: ConfigErrorCode;
  /** Reads a member's url (an http(s) URL, host:port), reporting a bad one itself. */
  url: (e: Entry, path: string) => string | undefined;
  /** What to say when a member has no url. */
  urlMissing: string;
}

/** Reads `members:`; `visit` gets each member whose name, url and weight read well and says
 *  whether the rest of it did. False when anything was wrong (each problem reported on its own key). */
export function readMemberList(reader: EntryReader, entry: Entry, o: MemberListOptions, visit: (m: MemberItem) => boolean): boolean {
  const n = reader.deref(entry.value);
  if (!isSeq(n) || n.items.length === 0) {
    const message = isSeq(n) ? 'needs at least one member' : `expected a list of { name, url, weight }, got ${reader.describe(n)}`;
    reader.fail(isSeq(n) ? o.code : o.typeCode, `${o.base}.members`, message, reader.valueNode(entry));
    return false;
  }
  let ok = true;
  const names = new Set<string>();
  n.items.forEach((raw, i) => {
    const path = `${o.base}.members[${String(i)}]`;
    const item = reader.deref(raw as Value);
    const entries = reader.map(item, path, o.keys, o.example);
    if (entries === undefined) {
      ok = false;
      return;
    }
    const fields = new Map(entries.map((x) => [x.key, x]));
    let name = `${o.route}-${String(i + 1)}`;
    const ne = fields.get('name');
    if (ne) {
      const s = reader.string(ne, `${path}.name`);
      const problem = s === undefined ? undefined : memberNameProblem(s);
      if (s === undefined) ok = false;
      else if (problem !== undefined) {
        reader.fail(o.code, `${path}.name`, problem, reader.valueNode(ne));
        ok = false;
      } else name = s;
    }
    if (names.has(name)) {
      reader.fail(o.duplicateCode, `${path}.name`, `member name ${JSON.stringify(name)} is used twice in route ${JSON.stringify(o.route)}`, ne ? reader.valueNode(ne) : item);
      ok = false;
    }
    names.add(name);
    const ue = fields.get('url');
    const url = ue === undefined ? undefined : o.url(ue, `${path}.url`);
    if (ue === undefined) reader.fail(o.code, `${path}.url`, o.urlMissing, item);
    let weight: number | undefined;
    const we = fields.get('weight');
    if (we) weight = reader.positiveInt(we, `${path}.weight`);
    if (url === undefined || (we !== undefined && weight === undefined)) {
      ok = false;
      return;
    }
    if (!visit({ path, item, fields, name, url, weight })) ok = false;
  });
  return ok;
}

// A member's name appears in logs, metrics labels and /api paths, so no "/", no white space
// and no control characters.

/** Why `s` cannot name a member, or undefined when it can. */
export function memberNameProblem(s: string): string | undefined {
  if (s !== '' && !/[/\s]/.test(s) && !hasControl(s)) return undefined;
  return `${JSON.stringify(s)}: member names must be non-empty, without "/", spaces or control characters`;
}

export function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}
