// RFC 9110 §5.6.2 token: what a header field name (and a method) may be made of. One definition
// for the config readers, labels, rules, middlewares, the access-log format and the wire.

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** True when `s` is a non-empty RFC 9110 token (a valid header field name or method). */
export function isToken(s: string): boolean {
  return TOKEN.test(s);
}
