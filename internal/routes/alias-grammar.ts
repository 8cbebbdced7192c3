// The one host-name grammar of aliases and match domains (docs/labels.md `proxy.aliases`,
// docs/configuration.md `aliases` and `match_domains`), checked by internal/config, internal/labels
// and the route table alike, so a file or label never accepts a name the table then refuses.
// A label is 1–63 characters of a-z, 0-9, `-` and `_`, not starting or ending with `-`
// (RFC 1123 §2.1; `_` because compose service and container names use it); a name is at most
// 253 characters (RFC 1035 §2.3.4). A wildcard alias is `*.` and a name: one label, leftmost;
// with the `*.` counted, since the shortest host it matches (`x.<name>`) is just as long.
// Input is already normalised (lower case, no trailing dot).

const LABEL = '[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?';
const NAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);
const ALIAS = new RegExp(`^(?:\\*\\.)?${LABEL}(?:\\.${LABEL})*$`);
const MAX_NAME = 253;

/** A host label (`nas`) or host name (`app.example.com`); also the match-domain grammar. */
export function isDomainName(text: string): boolean {
  return text.length <= MAX_NAME && NAME.test(text);
}

/** A host label, a host name, or a one-label wildcard `*.example.com`. */
export function isHostAlias(text: string): boolean {
  return text.length <= MAX_NAME && ALIAS.test(text);
}
