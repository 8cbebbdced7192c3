// A pool member's name in the config file (HTTP and stream routes alike): it appears in logs,
// metrics labels and /api paths, so no "/", no white space and no control characters.

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
